/* mk-lmtp-client.c: an LMTP session (RFC 2033)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <libmailkit/mk-init.h>

#include "mk-lmtp-client.h"
#include "mk-smtp-client-private.h"

/**
 * MkLmtpClient:
 *
 * An LMTP session, as Python's `smtplib.LMTP`, with every #MkSmtpClient
 * method. The differences are LMTP's:
 *
 * - the greeting is LHLO, and a refused LHLO is an error
 *   (%MK_SMTP_ERROR_HELO): there is no HELO in LMTP (smtplib tries it);
 * - a host starting with `/` is a unix socket path; the default TCP port is
 *   2003 (smtplib's falls back to 25);
 * - after the message the server answers once for each accepted recipient
 *   (RFC 2033 §4.2), and mk_smtp_client_sendmail() reports each refusal in
 *   its `refused` table, with %MK_SMTP_ERROR_RECIPIENTS_REFUSED when every
 *   recipient was refused (smtplib reads one reply and is out of step with
 *   the server from then on).
 *
 * Since: 0.1
 */
struct _MkLmtpClient
{
  MkSmtpClient parent_instance;
};

G_DEFINE_FINAL_TYPE (MkLmtpClient, mk_lmtp_client, MK_TYPE_SMTP_CLIENT)

static void
mk_lmtp_client_class_init (MkLmtpClientClass *klass)
{
}

static void
mk_lmtp_client_init (MkLmtpClient *self)
{
  mk_smtp_client_set_lmtp (MK_SMTP_CLIENT (self));
}

/**
 * mk_lmtp_client_new:
 *
 * A new LMTP client; connect it with mk_smtp_client_connect() to a unix
 * socket path or a host.
 *
 * Returns: (transfer full): a new #MkLmtpClient, as an #MkSmtpClient
 *
 * Since: 0.1
 */
MkSmtpClient *
mk_lmtp_client_new (void)
{
  mk_init ();
  return g_object_new (MK_TYPE_LMTP_CLIENT, NULL);
}
