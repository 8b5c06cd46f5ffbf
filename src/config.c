/* placeholder: being written */
#include "autoconfig.h"
#include "config.h"
