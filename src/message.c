/* placeholder: being written */
#include "autoconfig.h"
#include "message.h"
