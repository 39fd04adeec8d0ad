/* mk-smtp-error.h: the error domain of the SMTP, LMTP and sending layers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <glib.h>
#include <libmailkit/mk-export.h>

G_BEGIN_DECLS

/**
 * MK_SMTP_ERROR:
 *
 * The error domain of the SMTP session and of sending. Errors in this domain
 * carry a #MkSmtpError code; the server's reply behind the error, when there
 * was one, is kept by mk_smtp_client_get_last_reply().
 *
 * Since: 0.1
 */
#define MK_SMTP_ERROR (mk_smtp_error_quark ())

/**
 * MkSmtpError:
 * @MK_SMTP_ERROR_SERVER_DISCONNECTED: the server closed the connection, or it
 *   was lost (smtplib's `SMTPServerDisconnected`)
 * @MK_SMTP_ERROR_RESPONSE: the server sent a reply that is malformed,
 *   oversized or unsolicited, or one that refuses a command that has no error
 *   of its own (smtplib's `SMTPResponseException`)
 * @MK_SMTP_ERROR_SENDER_REFUSED: MAIL FROM was refused
 * @MK_SMTP_ERROR_RECIPIENTS_REFUSED: every recipient was refused
 * @MK_SMTP_ERROR_DATA: DATA, BDAT or the end of data was refused
 * @MK_SMTP_ERROR_CONNECT: the greeting was not 220
 * @MK_SMTP_ERROR_HELO: both EHLO and HELO were refused
 * @MK_SMTP_ERROR_AUTHENTICATION: authentication failed, or the server's
 *   challenges were endless or oversized
 * @MK_SMTP_ERROR_NOT_SUPPORTED: the server does not offer what the call needs
 *   (an extension, an AUTH mechanism, SMTPUTF8, a SIZE large enough)
 * @MK_SMTP_ERROR_TLS: TLS was required but not offered, or cleartext
 *   authentication was refused by policy
 * @MK_SMTP_ERROR_INVALID: the caller's input is unusable: CR, LF or NUL in an
 *   address or argument, a missing sender, no recipients, several Resent-*
 *   blocks, a source-routed address
 * @MK_SMTP_ERROR_DELIVERY_UNKNOWN: the connection was lost after the final
 *   `.` (or `BDAT … LAST`) was sent and before its reply arrived: the server
 *   may have accepted the message, and a retry may deliver it twice
 *
 * Error codes in the %MK_SMTP_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum {
  MK_SMTP_ERROR_SERVER_DISCONNECTED,
  MK_SMTP_ERROR_RESPONSE,
  MK_SMTP_ERROR_SENDER_REFUSED,
  MK_SMTP_ERROR_RECIPIENTS_REFUSED,
  MK_SMTP_ERROR_DATA,
  MK_SMTP_ERROR_CONNECT,
  MK_SMTP_ERROR_HELO,
  MK_SMTP_ERROR_AUTHENTICATION,
  MK_SMTP_ERROR_NOT_SUPPORTED,
  MK_SMTP_ERROR_TLS,
  MK_SMTP_ERROR_INVALID,
  MK_SMTP_ERROR_DELIVERY_UNKNOWN,
} MkSmtpError;

MK_AVAILABLE_IN_ALL
GQuark mk_smtp_error_quark (void);

G_END_DECLS
