/* placeholder: being written */
#include "autoconfig.h"
#include "transport.h"
