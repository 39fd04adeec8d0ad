/* mk-smtp-data-stream-private.h: the message body on its way into DATA or BDAT
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* RFC 5322 §2.1.1 (and RFC 5321 §4.5.3.1.6, 1000 octets with the CRLF): the
 * longest line a message may carry. The transparency dot added for DATA is
 * not counted: the receiver removes it (RFC 5321 §4.5.2). */
#define MK_SMTP_DATA_MAX_LINE_LENGTH 998

/* Bytes leave the stream in blocks of this size (and at the end): in BDAT
 * framing every chunk but the last has exactly this size (RFC 3030 §2 lets
 * the client choose). 64 KiB keeps the BDAT header overhead near 0.03 % and
 * the number of pipelined BDAT replies at 16 per MiB, and it is the memory
 * a stream holds whatever the size of the message. */
#define MK_SMTP_DATA_BLOCK_SIZE (64 * 1024)

/* How the body is delimited on the wire. */
typedef enum
{
  /* After DATA/354: dot-stuffing (RFC 5321 §4.5.2), ends with CRLF.CRLF. */
  MK_SMTP_DATA_FRAMING_DOT,
  /* CHUNKING (RFC 3030): `BDAT n` chunks, the last one `BDAT n LAST`. */
  MK_SMTP_DATA_FRAMING_BDAT,
  /* BODY=BINARYMIME (RFC 3030 §3): BDAT chunks carrying the bytes exactly
   * as written: no line-ending normalisation, NUL octets and long lines
   * allowed, nothing added at the end. Only BDAT can carry such a body,
   * since its chunks are counted, not delimited. */
  MK_SMTP_DATA_FRAMING_BDAT_BINARY,
} MkSmtpDataFraming;

/* Called after each write with the number of message bytes the stream has
 * accepted so far (bytes as written into it, before normalisation). */
typedef void (*MkSmtpDataProgressFunc) (guint64 message_bytes, gpointer user_data);

#define MK_TYPE_SMTP_DATA_STREAM (mk_smtp_data_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkSmtpDataStream, mk_smtp_data_stream, MK, SMTP_DATA_STREAM,
                      GFilterOutputStream)

/* A stream that takes the raw message and writes it to @base_stream framed
 * for the SMTP mail-data phase, whatever the message holds:
 *
 * - every line ending (CRLF, bare LF, bare CR) becomes CRLF, so no sequence
 *   in the message can end DATA early (SMTP smuggling);
 * - DOT framing stuffs a dot at the start of every line; BDAT framing does
 *   not, and writes `BDAT n` headers instead;
 * - a NUL octet or a line longer than MK_SMTP_DATA_MAX_LINE_LENGTH fails the
 *   write with MK_SMTP_ERROR_INVALID (send/ encodes such parts before they
 *   get here; raw input carrying them cannot be sent as it is).
 *
 * BDAT_BINARY framing does none of this: the bytes go out as written.
 *
 * The transformation is incremental: the output does not depend on how the
 * input is split into writes. Output leaves in blocks of
 * MK_SMTP_DATA_BLOCK_SIZE; g_output_stream_flush() flushes @base_stream but
 * never cuts a block, so the BDAT chunk sizes depend on the message only.
 * Nothing marks the end of the message until mk_smtp_data_stream_finish():
 * a writer that fails midway just stops, and closing or dropping the stream
 * never writes the terminator. After any failed write the stream writes
 * nothing more. @base_stream is not closed with this stream. */
MkSmtpDataStream *mk_smtp_data_stream_new (GOutputStream *base_stream, MkSmtpDataFraming framing);

/* Ends the message: a CRLF if it did not end with a line break, then the
 * terminator (`.` CRLF, or the last chunk as `BDAT n LAST`), exactly once,
 * and flushes @base_stream (see mk_smtp_data_stream_set_flush_on_finish()). Fails without writing anything if an earlier
 * write failed or the stream was already finished or closed. */
gboolean mk_smtp_data_stream_finish (MkSmtpDataStream *self, GCancellable *cancellable,
                                     GError **error);

/* Whether mk_smtp_data_stream_finish() flushes @base_stream (the default):
 * FALSE leaves the end of the message queued there, for the writer of the
 * next commands to send it with them in one write (RFC 2920 §3.1). */
void mk_smtp_data_stream_set_flush_on_finish (MkSmtpDataStream *self, gboolean flush);

/* Message bytes accepted so far (the progress numerator: the same measure
 * as a SIZE computed from what is written into the stream). */
guint64 mk_smtp_data_stream_get_message_bytes (MkSmtpDataStream *self);

/* BDAT commands written so far, the LAST one included: the number of
 * replies the client has to read for them. 0 in DOT framing. */
guint mk_smtp_data_stream_get_chunk_count (MkSmtpDataStream *self);

/* @func is called in the writing thread after every write that accepted
 * bytes; NULL removes it. */
void mk_smtp_data_stream_set_progress_func (MkSmtpDataStream *self, MkSmtpDataProgressFunc func,
                                            gpointer user_data);

G_END_DECLS
