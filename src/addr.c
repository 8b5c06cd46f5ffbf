/* placeholder: being written */
#include "autoconfig.h"
#include "addr.h"
