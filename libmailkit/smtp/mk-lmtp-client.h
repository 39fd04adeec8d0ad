/* mk-lmtp-client.h: an LMTP session (RFC 2033)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <libmailkit/smtp/mk-smtp-client.h>

G_BEGIN_DECLS

/**
 * MK_LMTP_PORT:
 *
 * The port of LMTP (RFC 2033 §1), the default of an #MkLmtpClient.
 *
 * Since: 0.1
 */
#define MK_LMTP_PORT 2003

#define MK_TYPE_LMTP_CLIENT (mk_lmtp_client_get_type ())
MK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MkLmtpClient, mk_lmtp_client, MK, LMTP_CLIENT, MkSmtpClient)

MK_AVAILABLE_IN_ALL
MkSmtpClient *mk_lmtp_client_new (void);

G_END_DECLS
