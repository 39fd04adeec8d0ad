/* mk-smtp-reply-parser-private.h: the incremental SMTP reply parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "mk-smtp-reply.h"

G_BEGIN_DECLS

/* Bounds on what a server can make us hold for one reply. RFC 5321 sets no
 * limit on the number of lines of a reply. msmtp stops at 50 lines of
 * 1 KiB, curl at 64 KiB per response, Postfix at 2048-byte lines, Python at
 * 8192-byte lines with no line count. The longest honest replies are EHLO
 * answers (about 20 lines) and HELP texts: 100 lines leave room for both,
 * and 64 KiB (curl's cap) bounds what a reply costs whatever its shape. */
#define MK_SMTP_REPLY_MAX_LINES 100
#define MK_SMTP_REPLY_MAX_BYTES (64 * 1024)

/* Fed one line at a time, without its line ending (the net/ line reader
 * strips CRLF or LF and bounds the line length), it assembles replies:
 * exactly three digits in RFC 5321's reply-code grammar (§4.2: first digit
 * 2-5, second 0-5), then a space, a dash or the end of the line; every line
 * of a multi-line reply has the same code; no NUL, CR or LF inside a line.
 * Anything else, or a reply over the bounds above, is an
 * %MK_SMTP_ERROR_RESPONSE: the session cannot know where the next reply
 * starts and must close the connection. */
typedef struct _MkSmtpReplyParser MkSmtpReplyParser;

MkSmtpReplyParser *mk_smtp_reply_parser_new (void);
void mk_smtp_reply_parser_free (MkSmtpReplyParser *parser);

/* Returns FALSE with @error set when @line is not acceptable; the parser is
 * then empty again. Otherwise returns TRUE and sets *@reply to the complete
 * reply (transfer full) when @line was its last line, or to NULL when more
 * lines are needed. */
gboolean mk_smtp_reply_parser_feed_line (MkSmtpReplyParser *parser, const char *line, gsize length,
                                         MkSmtpReply **reply, GError **error);

/* Whether some lines of a reply were fed and its last line was not: at the
 * end of the stream this tells a reply cut short from a quiet server. */
gboolean mk_smtp_reply_parser_is_partial (const MkSmtpReplyParser *parser);

/* Parses every reply in @data (lines ending in CRLF or LF), for tests and
 * fuzzing. Returns the replies (an array of MkSmtpReply, transfer full), or
 * NULL with @error set when a line is malformed or @data ends inside a line
 * or inside a multi-line reply. */
GPtrArray *mk_smtp_reply_parse_buffer (const char *data, gsize length, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkSmtpReplyParser, mk_smtp_reply_parser_free)

G_END_DECLS
