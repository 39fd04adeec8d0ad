/* mk-test-data-stream-check.h: the round-trip property of MkSmtpDataStream,
 * as a function that tests and fuzz targets share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "libmailkit/smtp/mk-smtp-data-stream-private.h"

G_BEGIN_DECLS

/* Writes @input into a new MkSmtpDataStream with @framing, in writes of
 * @piece bytes (the last one shorter), finishes it, and checks what reached
 * the wire against an independent model of the rules:
 *
 * - input with a NUL or a line over MK_SMTP_DATA_MAX_LINE_LENGTH octets
 *   fails with MK_SMTP_ERROR_INVALID and no terminator reaches the wire;
 * - otherwise the wire holds only CRLF line ends; for DOT framing, exactly
 *   one `.` line, the last, and the other lines un-stuffed give the input
 *   with every CRLF, CR and LF made CRLF (plus a final CRLF if it lacked
 *   one); for BDAT framing, chunks of MK_SMTP_DATA_BLOCK_SIZE but the last,
 *   exactly one LAST, at the end, and their bytes give that same text.
 *
 * Returns NULL when every rule holds, otherwise a description of the first
 * violation (free it). @wire receives the bytes written (nullable). */
char *mk_test_data_stream_check (const guint8 *input, gsize length, MkSmtpDataFraming framing,
                                 gsize piece, GBytes **wire);

G_END_DECLS
