/* mk-line-reader-private.h: a bounded CRLF line reader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* RFC 5321 §4.5.3.1.5 allows 512 octets per reply line, CRLF included;
 * real servers send longer text, so we accept 16 times that: the same cap
 * as Python's smtplib (_MAXLINE, the fix for CVE-2013-1752). Counted without
 * the line ending. */
#define MK_LINE_READER_MAX_LINE_LENGTH 8192

/* The longest legitimate replies are EHLO and HELP lists, a few dozen
 * lines; msmtp stops at 50. A server sending more is flooding us. */
#define MK_LINE_READER_MAX_REPLY_LINES 100

/* A cap on one reply's size, line endings included, whatever its lines:
 * the 64 KiB curl holds for a whole server response (pingpong.c). */
#define MK_LINE_READER_MAX_REPLY_BYTES (64 * 1024)

typedef struct _MkLineReader MkLineReader;

/* Reads lines from @stream. @peer names the other end in error messages.
 * The reader reads ahead: bytes past the line returned stay buffered
 * (mk_line_reader_get_buffered()). */
MkLineReader *mk_line_reader_new (GInputStream *stream, const char *peer);
void mk_line_reader_free (MkLineReader *reader);

/* @timeout: the longest wait for the next bytes (seconds; 0 = no limit);
 * @reply_timeout: the longest time one reply may take from
 * mk_line_reader_begin_reply() to its last line, however the server paces
 * its bytes (0 = no limit). */
void mk_line_reader_set_timeouts (MkLineReader *reader, double timeout, double reply_timeout);

/* Starts a new reply: its deadline, line count and byte count start here. */
void mk_line_reader_begin_reply (MkLineReader *reader);

/* Returns the next line without its line ending (CRLF, or a bare LF as
 * smtplib accepts; a bare CR is part of the line), NUL-terminated, its
 * length in @length. Errors (G_IO_ERROR):
 * - _CONNECTION_CLOSED: the stream ended where a line would start;
 * - _PARTIAL_INPUT: the stream ended inside a line;
 * - _MESSAGE_TOO_LARGE: the line, the reply's line count or its bytes went
 *   over the limits above (detected at the limit: no more is buffered);
 * - _INVALID_DATA: a NUL byte in the line (it would silently cut the line
 *   short for any C string consumer);
 * - _TIMED_OUT: a timeout of mk_line_reader_set_timeouts();
 * - whatever reading the stream raised (_CANCELLED, TLS errors …).
 * After an error the reader is out of step with the peer: use it no more. */
char *mk_line_reader_read_line (MkLineReader *reader, gsize *length, GCancellable *cancellable,
                                GError **error);

/* Bytes received and not yet returned as (part of) a line. */
gsize mk_line_reader_get_buffered (MkLineReader *reader);

/* When nothing is buffered, reads once, without waiting, what the stream
 * has ready now (through TLS: what decrypts to data, so a TLS 1.3 session
 * ticket is no data). Returns the bytes buffered afterwards, kept for
 * mk_line_reader_read_line() and shown by mk_line_reader_peek(); 0 when
 * nothing is ready, at the end of the stream, or when the stream cannot
 * poll; -1 with the read's error. */
gssize mk_line_reader_fill_nonblocking (MkLineReader *reader, GError **error);

/* The bytes buffered (mk_line_reader_get_buffered() of them), not
 * NUL-terminated. */
const char *mk_line_reader_peek (MkLineReader *reader, gsize *length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkLineReader, mk_line_reader_free)

G_END_DECLS
