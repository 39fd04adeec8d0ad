/* mk-test-peer.h: placeholder, being written */
#pragma once
