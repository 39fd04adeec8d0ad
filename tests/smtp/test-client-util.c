/* test-client-util.c: sync and async twins of the MkSmtpClient calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "test-client-util.h"

MkSmtpReply *
t_connect (MkSmtpClient *client, const char *host, guint16 port, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_connect (client, host, port, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_connect_async (client, host, port, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_connect_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_ehlo (MkSmtpClient *client, const char *name, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_ehlo (client, name, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_ehlo_async (client, name, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_ehlo_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_helo (MkSmtpClient *client, const char *name, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_helo (client, name, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_helo_async (client, name, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_helo_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

gboolean
t_ehlo_or_helo_if_needed (MkSmtpClient *client, Mode mode, GError **error)
{
  MkTestAsync async;
  gboolean result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_ehlo_or_helo_if_needed (client, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_ehlo_or_helo_if_needed_async (client, NULL, mk_test_async_callback, &async);
  result
      = mk_smtp_client_ehlo_or_helo_if_needed_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_docmd (MkSmtpClient *client, const char *command, const char *args, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_docmd (client, command, args, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_docmd_async (client, command, args, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_docmd_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_noop (MkSmtpClient *client, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_noop (client, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_noop_async (client, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_noop_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_rset (MkSmtpClient *client, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_rset (client, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_rset_async (client, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_rset_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_verify (MkSmtpClient *client, const char *address, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_verify (client, address, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_verify_async (client, address, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_verify_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_expn (MkSmtpClient *client, const char *address, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_expn (client, address, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_expn_async (client, address, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_expn_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_help (MkSmtpClient *client, const char *args, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_help (client, args, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_help_async (client, args, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_help_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_mail (MkSmtpClient *client, const char *sender, const char *const *options, Mode mode,
        GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_mail (client, sender, options, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_mail_async (client, sender, options, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_mail_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_rcpt (MkSmtpClient *client, const char *recipient, const char *const *options, Mode mode,
        GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_rcpt (client, recipient, options, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_rcpt_async (client, recipient, options, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_rcpt_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_login (MkSmtpClient *client, const char *user, const char *password, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_login (client, user, password, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_login_async (client, user, password, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_login_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_auth (MkSmtpClient *client, const char *mechanism, const char *user, const char *secret,
        Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_auth (client, mechanism, user, secret, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_auth_async (client, mechanism, user, secret, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_auth_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_starttls (MkSmtpClient *client, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_starttls (client, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_starttls_async (client, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_starttls_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_quit (MkSmtpClient *client, Mode mode, GError **error)
{
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_quit (client, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_quit_async (client, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_quit_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_data (MkSmtpClient *client, const char *message, Mode mode, GError **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (message, strlen (message));
  MkTestAsync async;
  MkSmtpReply *result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_data (client, bytes, NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_data_async (client, bytes, NULL, mk_test_async_callback, &async);
  result = mk_smtp_client_data_finish (client, mk_test_async_wait (&async), error);
  mk_test_async_clear (&async);
  return result;
}

gboolean
t_sendmail (MkSmtpClient *client, const char *from, const char *const *to, const char *message,
            const char *const *mail_options, const char *const *rcpt_options, GHashTable **refused,
            Mode mode, GError **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (message, strlen (message));
  MkTestAsync async;
  gboolean result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_sendmail (client, from, to, bytes, mail_options, rcpt_options, refused,
                                    NULL, error);
  mk_test_async_init (&async);
  mk_smtp_client_sendmail_async (client, from, to, bytes, mail_options, rcpt_options, NULL,
                                 mk_test_async_callback, &async);
  result = mk_smtp_client_sendmail_finish (client, mk_test_async_wait (&async), refused, error);
  mk_test_async_clear (&async);
  return result;
}

gboolean
t_sendmail_stream (MkSmtpClient *client, const char *from, const char *const *to,
                   GInputStream *message, GHashTable **refused, Mode mode, GError **error)
{
  MkTestAsync async;
  gboolean result;

  if (mode == MODE_SYNC)
    return mk_smtp_client_sendmail_stream (client, from, to, message, NULL, NULL, refused, NULL,
                                           error);
  mk_test_async_init (&async);
  mk_smtp_client_sendmail_stream_async (client, from, to, message, NULL, NULL, NULL,
                                        mk_test_async_callback, &async);
  result
      = mk_smtp_client_sendmail_stream_finish (client, mk_test_async_wait (&async), refused, error);
  mk_test_async_clear (&async);
  return result;
}

MkSmtpReply *
t_connect_server (MkSmtpClient *client, MkFaultServer *server, Mode mode, GError **error)
{
  return t_connect (client, mk_fault_server_get_address (server), mk_fault_server_get_port (server),
                    mode, error);
}

void
t_add (const char *name, GTestDataFunc func)
{
  g_autofree char *sync_path = g_strconcat ("/client/sync/", name, NULL);
  g_autofree char *async_path = g_strconcat ("/client/async/", name, NULL);

  g_test_add_data_func (sync_path, GINT_TO_POINTER (MODE_SYNC), func);
  g_test_add_data_func (async_path, GINT_TO_POINTER (MODE_ASYNC), func);
}

MkFaultServer *
t_server (const char *script)
{
  return mk_fault_server_new (script, NULL);
}

MkFaultServer *
t_server_unix (const char *script)
{
  MkFaultServerOptions options = { 0 };

  options.listen = MK_FAULT_SERVER_LISTEN_UNIX;
  return mk_fault_server_new (script, &options);
}

void
t_server_done (MkFaultServer *server)
{
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
}
