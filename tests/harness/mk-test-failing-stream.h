/* mk-test-failing-stream.h: a GMime stream whose reads fail on cue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* A memory stream of @length bytes of @fill whose reads fail (EIO) once
 * mk_test_failing_stream_arm() was called: the disk or network file system
 * that vanishes under a file being read while a message is sent. */
GMimeStream *mk_test_failing_stream_new (gsize length, char fill);
void mk_test_failing_stream_arm (GMimeStream *stream);

G_END_DECLS
