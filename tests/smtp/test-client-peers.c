/* test-client-peers.c: MkSmtpClient and MkLmtpClient against real servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * aiosmtpd (AUTH, STARTTLS, implicit TLS, SMTPUTF8, LMTP on a unix socket,
 * chosen refusals) and Postfix's smtp-sink (PIPELINING, its AUTH stub); each
 * test runs sync and async.
 */
#include "config.h"

#include <string.h>

#include "mk-test-peer.h"
#include "test-client-util.h"

static MkSmtpClient *
new_client (MkSmtpClient *client)
{
  g_object_set (client, "local-hostname", "client.example", "timeout", 10 * mk_test_time_scale (),
                "tls-ca-file", mk_test_certs_get ()->ca_file, NULL);
  return client;
}

static void
connect_peer (MkSmtpClient *client, MkTestPeer *peer, Mode mode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) greeting
      = t_connect (client, mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT),
                   mk_test_peer_get_port (peer, MK_TEST_SERVICE_DEFAULT), mode, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (greeting), ==, 220);
}

static void
quit (MkSmtpClient *client, Mode mode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = t_quit (client, mode, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 221);
}

static const char message_text[] = "From: a@example.org\r\n"
                                   "Subject: test\r\n"
                                   "\r\n"
                                   ".a line with a leading dot\n"
                                   "bare LF line\n";
static const char message_stored[] = "From: a@example.org\r\n"
                                     "Subject: test\r\n"
                                     "\r\n"
                                     ".a line with a leading dot\r\n"
                                     "bare LF line\r\n";

static void
assert_data (MkTestMessage *message, const char *expected)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (message->data, &length);

  g_assert_cmpmem (data, length, expected, strlen (expected));
}

/* EHLO and its capabilities; sendmail to one and to several recipients, one
 * refused; the stored message dot-unstuffed and with CRLF line ends. */
static void
test_aiosmtpd_sendmail (gconstpointer data)
{
  const char *const refuse[] = { "gone@example.org=550 5.1.1 No such user", NULL };
  MkTestAiosmtpdOptions options = { .refuse_rcpt = refuse, .size_limit = 1000000 };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);
  g_autoptr (MkSmtpClient) client = new_client (mk_smtp_client_new ());
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (MkSmtpReply) ehlo = NULL;
  const char *const one[] = { "bob@example.org", NULL };
  const char *const several[]
      = { "bob@example.org", "gone@example.org", "carol@example.org", NULL };
  MkTestMessage *message;

  connect_peer (client, peer, MODE (data));
  ehlo = t_ehlo (client, NULL, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (ehlo), ==, 250);
  g_assert_true (mk_smtp_client_has_extn (client, "SIZE"));
  g_assert_cmpuint (mk_smtp_capabilities_get_size_limit (mk_smtp_client_get_capabilities (client)),
                    ==, 1000000);

  g_assert_true (t_sendmail (client, "a@example.org", one, message_text, NULL, NULL, &refused,
                             MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  g_clear_pointer (&refused, g_hash_table_unref);
  g_assert_true (t_sendmail (client, "a@example.org", several, message_text, NULL, NULL, &refused,
                             MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "gone@example.org")), ==,
                    550);
  g_assert_cmpstr (
      mk_smtp_reply_get_enhanced_code (g_hash_table_lookup (refused, "gone@example.org")), ==,
      "5.1.1");
  quit (client, MODE (data));

  messages = mk_test_peer_wait_messages (peer, 2, 10);
  g_assert_cmpuint (messages->len, ==, 2);
  message = g_ptr_array_index (messages, 0);
  g_assert_cmpstr (message->mail_from, ==, "a@example.org");
  g_assert_cmpstrv (message->rcpt_tos, one);
  g_assert_cmpstr (message->helo, ==, "client.example");
  assert_data (message, message_stored);
  message = g_ptr_array_index (messages, 1);
  g_assert_cmpuint (g_strv_length (message->rcpt_tos), ==, 2);
  g_assert_cmpstr (message->rcpt_tos[0], ==, "bob@example.org");
  g_assert_cmpstr (message->rcpt_tos[1], ==, "carol@example.org");
}

/* AUTH PLAIN (login()'s choice over LOGIN) and LOGIN (named) over
 * loopback, where cleartext mechanisms are allowed; a wrong password. */
static void
test_aiosmtpd_auth (gconstpointer data)
{
  const char *const users[] = { MK_TEST_PEER_USER ":" MK_TEST_PEER_PASSWORD, NULL };
  MkTestAiosmtpdOptions options = { .users = users, .auth_plaintext = TRUE, .auth_required = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  const char *const one[] = { "bob@example.org", NULL };

  for (int round = 0; round < 3; round++)
    {
      g_autoptr (MkSmtpClient) client = new_client (mk_smtp_client_new ());
      g_autoptr (MkSmtpReply) reply = NULL;

      connect_peer (client, peer, MODE (data));
      if (round == 0)
        reply = t_login (client, MK_TEST_PEER_USER, MK_TEST_PEER_PASSWORD, MODE (data), &error);
      else if (round == 1)
        reply = t_auth (client, "login", MK_TEST_PEER_USER, MK_TEST_PEER_PASSWORD, MODE (data),
                        &error);
      else
        reply = t_login (client, MK_TEST_PEER_USER, "wrong", MODE (data), &error);
      if (round < 2)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 235);
          g_assert_true (t_sendmail (client, "a@example.org", one, message_text, NULL, NULL, NULL,
                                     MODE (data), &error));
          g_assert_no_error (error);
        }
      else
        {
          g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);
          g_assert_cmpuint (mk_smtp_reply_get_code (mk_smtp_client_get_last_reply (client)), ==,
                            535);
          g_clear_error (&error);
        }
      quit (client, MODE (data));
    }
  messages = mk_test_peer_wait_messages (peer, 2, 10);
  g_assert_cmpuint (messages->len, ==, 2);
  for (guint i = 0; i < messages->len; i++)
    g_assert_cmpstr (((MkTestMessage *)g_ptr_array_index (messages, i))->auth_user, ==,
                     MK_TEST_PEER_USER);
}

/* STARTTLS by call and by tls-mode (EHLO again after it, AUTH only inside
 * TLS), and implicit TLS. */
static void
test_aiosmtpd_tls (gconstpointer data)
{
  const char *const users[] = { MK_TEST_PEER_USER ":" MK_TEST_PEER_PASSWORD, NULL };
  MkTestAiosmtpdOptions starttls = { .starttls = TRUE, .require_starttls = TRUE, .users = users };
  MkTestAiosmtpdOptions implicit = { .implicit_tls = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&starttls);
  g_autoptr (MkTestPeer) peer_ssl = mk_test_peer_start_aiosmtpd (&implicit);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  const char *const one[] = { "bob@example.org", NULL };

  for (int round = 0; round < 2; round++)
    {
      g_autoptr (MkSmtpClient) client = new_client (mk_smtp_client_new ());
      g_autoptr (MkSmtpReply) reply = NULL;

      connect_peer (client, peer, MODE (data));
      if (round == 0)
        {
          reply = t_starttls (client, MODE (data), &error);
          g_assert_no_error (error);
          g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 220);
          g_assert_null (mk_smtp_client_get_capabilities (client));
        }
      else
        g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
      g_clear_pointer (&reply, mk_smtp_reply_unref);
      reply = t_login (client, MK_TEST_PEER_USER, MK_TEST_PEER_PASSWORD, MODE (data), &error);
      g_assert_no_error (error);
      g_assert_false (mk_smtp_client_has_extn (client, "STARTTLS"));
      g_assert_true (t_sendmail (client, "a@example.org", one, message_text, NULL, NULL, NULL,
                                 MODE (data), &error));
      g_assert_no_error (error);
      quit (client, MODE (data));
    }
  messages = mk_test_peer_wait_messages (peer, 2, 10);
  g_assert_cmpuint (messages->len, ==, 2);
  g_assert_true (((MkTestMessage *)g_ptr_array_index (messages, 0))->tls);
  g_assert_true (((MkTestMessage *)g_ptr_array_index (messages, 1))->tls);
  g_clear_pointer (&messages, g_ptr_array_unref);

  {
    g_autoptr (MkSmtpClient) client = new_client (mk_smtp_client_new_ssl ());

    connect_peer (client, peer_ssl, MODE (data));
    g_assert_true (t_sendmail (client, "a@example.org", one, message_text, NULL, NULL, NULL,
                               MODE (data), &error));
    g_assert_no_error (error);
    quit (client, MODE (data));
  }
  messages = mk_test_peer_wait_messages (peer_ssl, 1, 10);
  g_assert_cmpuint (messages->len, ==, 1);
  g_assert_true (((MkTestMessage *)g_ptr_array_index (messages, 0))->tls);
}

/* SMTPUTF8: an international sender and recipient with the SMTPUTF8
 * parameter; without the extension, refused before MAIL. */
static void
test_aiosmtpd_smtputf8 (gconstpointer data)
{
  MkTestAiosmtpdOptions options = { .smtputf8 = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);
  g_autoptr (MkTestPeer) plain = mk_test_peer_start_aiosmtpd (NULL);
  g_autoptr (MkSmtpClient) client = new_client (mk_smtp_client_new ());
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  const char *const to[] = { "jörg@exämple.org", NULL };
  const char *const utf8[] = { "SMTPUTF8", NULL };
  MkTestMessage *message;

  connect_peer (client, peer, MODE (data));
  g_assert_true (t_sendmail (client, "élise@example.org", to, "Subject: é\r\n\r\nhi\r\n", utf8,
                             NULL, NULL, MODE (data), &error));
  g_assert_no_error (error);
  quit (client, MODE (data));
  messages = mk_test_peer_wait_messages (peer, 1, 10);
  g_assert_cmpuint (messages->len, ==, 1);
  message = g_ptr_array_index (messages, 0);
  g_assert_cmpstr (message->mail_from, ==, "élise@example.org");
  g_assert_cmpstrv (message->rcpt_tos, to);
  g_assert_true (g_strv_contains ((const char *const *)message->mail_options, "SMTPUTF8"));

  connect_peer (client, plain, MODE (data));
  g_assert_false (
      t_sendmail (client, "élise@example.org", to, "x\r\n", utf8, NULL, NULL, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  quit (client, MODE (data));
}

/* LMTP over a unix socket: refused at RCPT, refused after DATA, delivered;
 * a second message on the same connection in step. */
static void
test_aiosmtpd_lmtp (gconstpointer data)
{
  const char *const refuse_rcpt[] = { "nobody@example.org=550 5.1.1 No such user", NULL };
  const char *const refuse_after[] = { "full@example.org=452 4.2.2 Mailbox full", NULL };
  MkTestAiosmtpdOptions options = {
    .lmtp = TRUE, .unix_socket = TRUE, .refuse_rcpt = refuse_rcpt, .refuse_after_data = refuse_after
  };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);
  g_autoptr (MkSmtpClient) client = new_client (mk_lmtp_client_new ());
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  const char *const to[]
      = { "bob@example.org", "nobody@example.org", "full@example.org", "carol@example.org", NULL };
  const char *const only_full[] = { "full@example.org", NULL };
  const char *host = mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT);
  g_autoptr (MkSmtpReply) greeting = NULL;

  g_assert_true (host[0] == '/');
  greeting = t_connect (client, host, 0, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_true (t_sendmail (client, "a@example.org", to, message_text, NULL, NULL, &refused,
                             MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 2);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "nobody@example.org")),
                    ==, 550);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "full@example.org")), ==,
                    452);
  g_clear_pointer (&refused, g_hash_table_unref);

  /* Every accepted recipient refused after the data. */
  g_assert_false (t_sendmail (client, "a@example.org", only_full, message_text, NULL, NULL,
                              &refused, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  g_clear_error (&error);
  quit (client, MODE (data));

  messages = mk_test_peer_wait_messages (peer, 1, 10);
  g_assert_cmpuint (messages->len, >=, 1);
}

/* The private Postfix: submission with STARTTLS required and real SASL
 * (Dovecot), CHUNKING and PIPELINING used (one and two messages on one
 * connection, a 300 KB one in several BDAT chunks), a refused recipient,
 * and Dovecot's LMTP socket directly. */
static void
test_postfix (gconstpointer data)
{
  MkTestPeer *peer = mk_test_peer_get_postfix ();
  g_autoptr (MkSmtpClient) client = new_client (mk_smtp_client_new ());
  g_autoptr (MkSmtpClient) lmtp = new_client (mk_lmtp_client_new ());
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GString) big = g_string_new ("Subject: big\r\n\r\n");
  const char *const to[]
      = { MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN, "nobody@" MK_TEST_POSTFIX_DOMAIN, NULL };
  const char *const one[] = { MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN, NULL };
  guint before;

  g_autoptr (GPtrArray) existing = mk_test_peer_get_messages (peer);
  before = existing->len;
  for (int i = 0; i < 3000; i++)
    g_string_append_printf (big, "line %d of a message that needs several chunks...........\n", i);

  g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
  reply = t_connect (client, mk_test_peer_get_host (peer, MK_TEST_SERVICE_SUBMISSION),
                     mk_test_peer_get_port (peer, MK_TEST_SERVICE_SUBMISSION), MODE (data), &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = t_login (client, MK_TEST_PEER_USER, MK_TEST_PEER_PASSWORD, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_true (mk_smtp_client_has_extn (client, "CHUNKING"));
  g_assert_true (mk_smtp_client_has_extn (client, "PIPELINING"));
  g_assert_true (t_sendmail (client, "a@" MK_TEST_POSTFIX_DOMAIN, to, message_text, NULL, NULL,
                             &refused, MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  g_assert_cmpuint (
      mk_smtp_reply_get_code (g_hash_table_lookup (refused, "nobody@" MK_TEST_POSTFIX_DOMAIN)), ==,
      550);
  g_assert_true (t_sendmail (client, "a@" MK_TEST_POSTFIX_DOMAIN, one, big->str, NULL, NULL, NULL,
                             MODE (data), &error));
  g_assert_no_error (error);
  quit (client, MODE (data));

  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = t_connect (lmtp, mk_test_peer_get_host (peer, MK_TEST_SERVICE_LMTP), 0, MODE (data),
                     &error);
  g_assert_no_error (error);
  g_assert_true (t_sendmail (lmtp, "a@" MK_TEST_POSTFIX_DOMAIN, one, message_text, NULL, NULL, NULL,
                             MODE (data), &error));
  g_assert_no_error (error);
  quit (lmtp, MODE (data));

  messages = mk_test_peer_wait_messages (peer, before + 3, 20);
  g_assert_cmpuint (messages->len, ==, before + 3);
}

/* smtp-sink: PIPELINING (the commands of a transaction in one write, the
 * results the same), and its AUTH stub, which answers 250 where RFC 4954
 * says 235: an authentication failure, the session still usable. */
static void
test_smtp_sink (gconstpointer data)
{
  MkTestSmtpSinkOptions options = { .save_messages = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_smtp_sink (&options);
  g_autoptr (MkSmtpClient) client = new_client (mk_smtp_client_new ());
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  const char *const to[] = { "bob@example.org", "carol@example.org", NULL };

  connect_peer (client, peer, MODE (data));
  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  g_assert_true (mk_smtp_client_has_extn (client, "PIPELINING"));
  g_assert_true (mk_smtp_client_has_extn (client, "AUTH"));
  reply = t_login (client, "user", "password", MODE (data), &error);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);
  g_assert_cmpuint (mk_smtp_reply_get_code (mk_smtp_client_get_last_reply (client)), ==, 250);
  g_assert_true (mk_smtp_client_is_connected (client));
  g_clear_error (&error);
  for (int i = 0; i < 3; i++)
    {
      g_assert_true (t_sendmail (client, "a@example.org", to, message_text, NULL, NULL, &refused,
                                 MODE (data), &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
      g_clear_pointer (&refused, g_hash_table_unref);
    }
  quit (client, MODE (data));
  messages = mk_test_peer_wait_messages (peer, 3, 10);
  g_assert_cmpuint (messages->len, ==, 3);
  g_assert_cmpstrv (((MkTestMessage *)g_ptr_array_index (messages, 0))->rcpt_tos, to);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  t_add ("aiosmtpd-sendmail", test_aiosmtpd_sendmail);
  t_add ("aiosmtpd-auth", test_aiosmtpd_auth);
  t_add ("aiosmtpd-tls", test_aiosmtpd_tls);
  t_add ("aiosmtpd-smtputf8", test_aiosmtpd_smtputf8);
  t_add ("aiosmtpd-lmtp", test_aiosmtpd_lmtp);
  t_add ("smtp-sink", test_smtp_sink);
  t_add ("postfix", test_postfix);
  return g_test_run ();
}
