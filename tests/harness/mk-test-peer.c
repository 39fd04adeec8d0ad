/* mk-test-peer.c: placeholder, being written */
#include "config.h"
#include "mk-test-peer.h"
