/* mk-test-failing-stream.h: a GMime stream whose reads fail on cue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>

G_BEGIN_DECLS

/* A memory stream of @length bytes of @fill whose reads fail (EIO) once
 * mk_test_failing_stream_arm() was called: the disk or network file system
 * that vanishes under a file being read while a message is sent. */
GMimeStream *mk_test_failing_stream_new (gsize length, char fill);
void mk_test_failing_stream_arm (GMimeStream *stream);

/* Cues taken by the stream itself, in the thread that reads it (an async
 * call's progress signal may come after the writer is done): a read that
 * starts at or past @offset arms the stream (every read fails from then
 * on), or first cancels @cancellable (a reference is kept) and then goes
 * on. */
void mk_test_failing_stream_fail_at (GMimeStream *stream, gint64 offset);
void mk_test_failing_stream_cancel_at (GMimeStream *stream, gint64 offset,
                                       GCancellable *cancellable);

G_END_DECLS
