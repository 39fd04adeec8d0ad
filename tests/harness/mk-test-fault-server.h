/* mk-test-fault-server.h: placeholder, being written */
#pragma once
