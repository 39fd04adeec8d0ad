/* mk-smtp-command-private.h: one formatter per SMTP command
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF.
 * Servers accept longer MAIL and RCPT lines when extensions add parameters
 * (RFC 1870 §3, RFC 4954 §5), so only AUTH, whose RFC 4954 §4 keeps it to
 * this limit, is measured against it: a longer initial response goes after
 * the server's first 334 instead. */
#define MK_SMTP_COMMAND_LINE_MAX 512

/* RFC 5321 §4.5.3.1.1 and §4.5.3.1.3: a local part is at most 64 octets and
 * a path, angle brackets included, at most 256. */
#define MK_SMTP_LOCAL_PART_MAX 64
#define MK_SMTP_PATH_MAX 256

/* Every formatter returns the command line without its CRLF (the session
 * adds it, and traces the line as it is), or NULL with
 * %MK_SMTP_ERROR_INVALID when an argument could change the meaning of the
 * line: CR, LF or another control character, bytes that are not UTF-8, a
 * space where the grammar has none. Arguments are checked before anything
 * is formatted, so nothing half-made reaches the wire. Verbs are
 * upper-case. (C strings cannot hold NUL; callers holding counted buffers
 * check for it when they make the string.) */

char *mk_smtp_command_ehlo (const char *name, GError **error);
char *mk_smtp_command_helo (const char *name, GError **error);
char *mk_smtp_command_lhlo (const char *name, GError **error);

/* MAIL FROM:<sender> [options…]; "" and "<>" are the null reverse-path.
 * Each option is an esmtp-param (RFC 5321 §4.1.2, UTF-8 values allowed by
 * RFC 6531 §3.3): `KEYWORD` or `KEYWORD=value`, sent as given. */
char *mk_smtp_command_mail (const char *sender, const char *const *options, GError **error);
char *mk_smtp_command_rcpt (const char *recipient, const char *const *options, GError **error);

char *mk_smtp_command_data (void);
char *mk_smtp_command_bdat (guint64 size, gboolean last);
char *mk_smtp_command_rset (void);
char *mk_smtp_command_noop (void);
char *mk_smtp_command_quit (void);
char *mk_smtp_command_starttls (void);

/* VRFY and EXPN send the addr-spec when @argument is an address (smtplib
 * does the same), else the argument as given (RFC 5321 §3.5.3 allows a
 * user name such as "Smith"). */
char *mk_smtp_command_vrfy (const char *argument, GError **error);
char *mk_smtp_command_expn (const char *argument, GError **error);

/* HELP, or HELP topic when @topic is neither NULL nor empty. */
char *mk_smtp_command_help (const char *topic, GError **error);

/* AUTH mechanism [initial-response]: @initial_response is base64 text, or
 * NULL for none; an empty one is sent as "=" (RFC 4954 §4). The error
 * message never quotes the response, which carries credentials. */
char *mk_smtp_command_auth (const char *mechanism, const char *initial_response, GError **error);

/* smtplib's docmd: "command" or "command arguments", both as given. */
char *mk_smtp_command_docmd (const char *command, const char *arguments, GError **error);

/* smtplib's quoteaddr, strict: the addr-spec of @address in angle brackets.
 * "John <j@x.example>", "j@x.example (comment)" and "<j@x.example>" all give
 * "<j@x.example>". Refused with %MK_SMTP_ERROR_INVALID: control characters,
 * more than one address, a source route (`@a,@b:user@x`, RFC 5321 §4.1.2
 * says a client SHOULD NOT send one), an unbalanced quote, bracket or
 * comment, a local part or path over the RFC 5321 limits, and the null path
 * unless @allow_null_path. */
char *mk_smtp_quote_address (const char *address, gboolean allow_null_path, GError **error);

/* RFC 3461 §4: xtext, every byte outside "!".."~", and "+" and "=", as
 * "+XX" (upper-case hex). */
char *mk_smtp_xtext_encode (const char *text);

/* DSN parameters (RFC 3461 §4.2, §4.4): "ORCPT=rfc822;" with the addr-spec
 * of @address in xtext, or "ORCPT=utf-8;" in utf-8-addr-xtext (RFC 6533 §3)
 * when the address is not ASCII; "ENVID=" with @envid in xtext. */
char *mk_smtp_param_orcpt (const char *address, GError **error);
char *mk_smtp_param_envid (const char *envid, GError **error);

G_END_DECLS
