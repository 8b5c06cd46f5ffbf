/* placeholder: being written */
#include "autoconfig.h"
int main(void) { return 70; }
