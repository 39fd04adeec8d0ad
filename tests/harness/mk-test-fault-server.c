/* mk-test-fault-server.c: placeholder, being written */
#include "config.h"
#include "mk-test-fault-server.h"
