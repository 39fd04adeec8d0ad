/* mk-mime-stream-output-private.h: a GMimeStream that writes into a
 * GOutputStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"

G_BEGIN_DECLS

/* GMime writes many small pieces (a header line, a 4 KiB block of an
 * encoder); they leave in writes of up to this size, which keeps the
 * writes to the connection and the progress reports few. */
#define MK_MIME_STREAM_OUTPUT_BUFFER_SIZE (64 * 1024)

#define MK_TYPE_MIME_STREAM_OUTPUT (mk_mime_stream_output_get_type ())
G_DECLARE_FINAL_TYPE (MkMimeStreamOutput, mk_mime_stream_output, MK, MIME_STREAM_OUTPUT,
                      GMimeStream)

/* The one place where GMime's streams meet GIO's: GMime serialises into
 * this stream, the bytes go to @output (written with @cancellable). It is
 * write-only and counts what it was given. GMime streams report errors as
 * -1 and errno: the GError of a failed write to @output is kept here, so
 * that a caller can tell a failed connection (an error here) from a failed
 * read of the message's content (none here). g_mime_stream_flush() writes
 * the buffered bytes to @output without flushing @output itself; closing
 * this stream never closes @output. */
GMimeStream *mk_mime_stream_output_new (GOutputStream *output, GCancellable *cancellable);

/* Bytes written into the stream so far. */
guint64 mk_mime_stream_output_get_written (MkMimeStreamOutput *self);

/* The error of the failed write to the output stream (transfer full), or
 * NULL when none failed. */
GError *mk_mime_stream_output_take_error (MkMimeStreamOutput *self);

G_END_DECLS
