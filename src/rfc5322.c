/* placeholder: being written */
#include "autoconfig.h"
#include "rfc5322.h"
