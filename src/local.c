/* placeholder: being written */
#include "autoconfig.h"
#include "local.h"
