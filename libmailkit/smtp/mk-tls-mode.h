/* mk-tls-mode.h: how a session uses TLS
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
 * MkTlsMode:
 * @MK_TLS_MODE_NONE: plaintext unless mk_smtp_client_starttls() is called, as
 *   smtplib's `SMTP` (the default of mk_smtp_client_new())
 * @MK_TLS_MODE_STARTTLS: STARTTLS right after the first EHLO, required: a
 *   server that does not offer it, refuses it or fails the handshake ends the
 *   session with %MK_SMTP_ERROR_TLS (or the TLS error) before any AUTH or MAIL
 * @MK_TLS_MODE_STARTTLS_OPPORTUNISTIC: STARTTLS when the server offers it,
 *   plaintext otherwise. A man in the middle can remove the offer: use it only
 *   where plaintext would be acceptable anyway
 * @MK_TLS_MODE_IMPLICIT: TLS from the first byte, as smtplib's `SMTP_SSL`
 *   (port 465; the default of mk_smtp_client_new_ssl())
 *
 * How an #MkSmtpClient protects its connection. Certificates are verified in
 * every mode unless #MkSmtpClient:tls-insecure-skip-verify is set.
 *
 * Since: 0.1
 */
typedef enum
{
  MK_TLS_MODE_NONE,
  MK_TLS_MODE_STARTTLS,
  MK_TLS_MODE_STARTTLS_OPPORTUNISTIC,
  MK_TLS_MODE_IMPLICIT,
} MkTlsMode;

G_END_DECLS
