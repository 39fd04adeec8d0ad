/* test-send-messages.c: mk_smtp_client_send_messages(), several messages
 * at one round trip each, against the scripted fault server (the exact
 * conversation, refusals and failures at every point, one result per
 * message) and against aiosmtpd, smtp-sink and the private Postfix
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "mk-test-failing-stream.h"
#include "mk-test-fault-server.h"
#include "mk-test-peer.h"
#include "mk-test-send-util.h"
#include "mk-test-utils.h"
#include "libmailkit/smtp/mk-smtp-client-private.h"

/* The messages a peer test sends in one call. */
#define PEER_MESSAGES 50

/* ---- helpers ----------------------------------------------------------- */

/* Message @number (from 1), to @to, with a body that names it. */
static GMimeMessage *
numbered_message (guint number, const char *to)
{
  g_autofree char *text
      = g_strdup_printf ("From: a@example.org\nTo: %s\nSubject: message %u\n"
                         "Date: Sat, 28 Nov 2026 12:00:00 +0000\nMessage-ID: <m%u@example.org>\n"
                         "\nThis is message %u.\n.\nA line with only a dot above.\n",
                         to, number, number, number);

  return mk_test_send_parse_message (text);
}

/* @n messages to @to (NULL: each to b<number>@example.net). */
static GPtrArray *
numbered_messages (guint n, const char *to)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *own = g_strdup_printf ("b%u@example.net", i);

      g_ptr_array_add (messages, numbered_message (i, to != NULL ? to : own));
    }
  return messages;
}

/* A client connected to a peer's default service. */
static MkSmtpClient *
connect_peer (MkTestPeer *peer)
{
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new ();
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  g_object_set (client, "timeout", 10.0 * mk_test_time_scale (), NULL);
  reply = mk_smtp_client_connect (client, mk_test_peer_get_host (peer, MK_TEST_SERVICE_DEFAULT),
                                  mk_test_peer_get_port (peer, MK_TEST_SERVICE_DEFAULT), NULL,
                                  &error);
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

/* mk_smtp_client_send_messages() the sync or the async way. */
static GPtrArray *
send_messages (MkSmtpClient *client, GPtrArray *messages, GPtrArray *envelopes,
               GCancellable *cancellable, gboolean async, GError **error)
{
  MkTestAsync wait;
  GPtrArray *results;

  if (!async)
    return mk_smtp_client_send_messages (client, messages, envelopes, cancellable, error);
  mk_test_async_init (&wait);
  mk_smtp_client_send_messages_async (client, messages, envelopes, cancellable,
                                      mk_test_async_callback, &wait);
  results = mk_smtp_client_send_messages_finish (client, mk_test_async_wait (&wait), error);
  mk_test_async_clear (&wait);
  return results;
}

/* Result @index: its outcome, its error (domain 0: none), the code of its
 * reply (0: none) and the number of refused recipients. */
static void
assert_result (GPtrArray *results, guint index, MkSmtpOutcome outcome, GQuark domain, int code,
               guint reply_code, guint n_refused)
{
  MkSendResult *result = g_ptr_array_index (results, index);
  const GError *error = mk_send_result_get_error (result);
  MkSmtpReply *reply = mk_send_result_get_reply (result);

  if (domain == 0)
    g_assert_no_error ((GError *)error);
  else
    g_assert_error ((GError *)error, domain, code);
  g_assert_cmpint (mk_send_result_get_outcome (result), ==, outcome);
  g_assert_cmpuint (reply != NULL ? mk_smtp_reply_get_code (reply) : 0, ==, reply_code);
  g_assert_cmpuint (g_hash_table_size (mk_send_result_get_refused (result)), ==, n_refused);
}

static void
assert_delivered (GPtrArray *results, guint index)
{
  assert_result (results, index, MK_SMTP_OUTCOME_DELIVERED, 0, 0, 250, 0);
}

static void
assert_not_attempted (GPtrArray *results, guint index)
{
  assert_result (results, index, MK_SMTP_OUTCOME_RETRY, MK_SMTP_ERROR,
                 MK_SMTP_ERROR_SERVER_DISCONNECTED, 0, 0);
  g_assert_nonnull (strstr (
      mk_send_result_get_error (g_ptr_array_index (results, index))->message, "Not attempted"));
}

static const char ehlo_pipelining[] = "S: 220 fault ready\nC: EHLO *\nS: 250-fault\n"
                                      "S: 250-PIPELINING\nS: 250 HELP\n";

/* The client's envelope of message @number to b<number>@example.net. */
static void
append_envelope (GString *script, guint number)
{
  g_string_append_printf (script,
                          "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<b%u@example.net>\nC: DATA\n",
                          number);
}

/* The first message's transaction up to its data, then the second's
 * envelope, which follows that end of data, and the reply to it. */
static GString *
script_after_first (void)
{
  GString *script = g_string_new (ehlo_pipelining);

  append_envelope (script, 1);
  g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n");
  append_envelope (script, 2);
  g_string_append (script, "S: 250 2.0.0 one queued\n");
  return script;
}

/* Connects to a new fault server running @script and sends @messages;
 * the results, with the server and the client for the checks after. */
static GPtrArray *
send_scripted (const char *script, GPtrArray *messages, GCancellable *cancellable, gboolean async,
               MkFaultServer **server, MkSmtpClient **client)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *results;

  *server = mk_fault_server_new (script, NULL);
  *client = mk_test_send_connect (*server, MK_TLS_MODE_NONE);
  results = send_messages (*client, messages, NULL, cancellable, async, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, messages->len);
  return results;
}

/* ---- one round trip per message ---------------------------------------- */

/* The server answers the end of data of message k only once message k+1's
 * MAIL, RCPT and DATA have arrived: a client that waited for that reply
 * before writing them would time out here. The data arrive intact, and
 * each message is delivered with its own final reply. */
static void
test_pipelined (gconstpointer async)
{
  const guint n = 5;
  g_autoptr (GString) script = g_string_new (ehlo_pipelining);
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (GPtrArray) messages = numbered_messages (n, NULL);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  const char *data;

  for (guint i = 1; i <= n; i++)
    {
      append_envelope (script, i);
      if (i > 1)
        g_string_append_printf (script, "S: 250 2.0.0 message %u queued\n", i - 1);
      g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n");
    }
  g_string_append_printf (script, "S: 250 2.0.0 message %u queued\nC: QUIT\nS: 221 bye\nCLOSE\n",
                          n);
  server = mk_fault_server_new (script->str, NULL);
  client = mk_test_send_connect (server, MK_TLS_MODE_NONE);

  results = send_messages (client, messages, NULL, NULL, GPOINTER_TO_INT (async), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("2.0.0 message %u queued", i + 1);

      assert_delivered (results, i);
      g_assert_cmpstr (
          mk_smtp_reply_get_text (mk_send_result_get_reply (g_ptr_array_index (results, i))), ==,
          text);
    }
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  /* Every body whole, dot-stuffed, in order; nothing between a message's
   * end and the next MAIL. */
  data = mk_fault_server_get_data_string (server, 0);
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *body = g_strdup_printf ("\r\n\r\nThis is message %u.\r\n..\r\n"
                                               "A line with only a dot above.\r\n.\r\n",
                                               i);

      g_assert_nonnull (strstr (data, body));
    }
  g_assert_null (strstr (mk_fault_server_get_transcript (server, 0), "RSET"));

  /* Each end of data left in the same write as the next envelope. */
  for (guint i = 2; i <= n; i++)
    {
      const char *transcript = mk_fault_server_get_transcript (server, 0);
      g_autofree char *next
          = g_strdup_printf ("\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b%u@example.net>\r\n"
                             "DATA\r\n",
                             i);
      const char *found = strstr (transcript, next);

      g_assert_nonnull (found);
      g_assert_true (mk_fault_server_in_one_read (server, 0, found - transcript, strlen (next)));
    }
}

/* The RFC 2920 window counts the reply still owed to message 1's end of
 * data: with it, message 2's MAIL and 98 RCPTs fill the window, and the
 * client waits for replies before writing the 99th RCPT. */
static void
test_window (gconstpointer async)
{
  const guint n_recipients = 99;
  g_autoptr (GString) script = g_string_new (ehlo_pipelining);
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (GPtrArray) messages = numbered_messages (2, NULL);
  g_autoptr (GPtrArray) envelopes = g_ptr_array_new_with_free_func (
      (GDestroyNotify)mk_envelope_free);
  g_autoptr (MkEnvelope) many = mk_envelope_new ("a@example.org", NULL);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 1; i <= n_recipients; i++)
    {
      g_autofree char *address = g_strdup_printf ("r%u@example.net", i);

      g_assert_true (mk_envelope_add_recipient (many, address, NULL));
    }
  g_ptr_array_add (envelopes, NULL);
  g_ptr_array_add (envelopes, g_steal_pointer (&many));
  append_envelope (script, 1);
  g_string_append_printf (script,
                          "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n"
                          "C: MAIL FROM:<a@example.org>\nREPEAT %u C: RCPT TO:*\nQUIET 200\n"
                          "S: 250 2.0.0 one queued\nS: 250 ok\nC: RCPT TO:*\nC: DATA\n"
                          "REPEAT %u S: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n"
                          "S: 250 2.0.0 two queued\nC: QUIT\nS: 221 bye\nCLOSE\n",
                          MK_SMTP_PIPELINE_WINDOW - 2, n_recipients);
  server = mk_fault_server_new (script->str, NULL);
  client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  results = send_messages (client, messages, envelopes, NULL, GPOINTER_TO_INT (async), &error);
  g_assert_no_error (error);
  assert_delivered (results, 0);
  assert_delivered (results, 1);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* LMTP: message 1's per-recipient replies after its data (one refused)
 * are read after message 2's envelope went out with its end of data. */
static void
test_lmtp (gconstpointer async)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (
      "S: 220 fault ready\nC: LHLO *\nS: 250-fault\nS: 250 PIPELINING\n"
      "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<b1@example.net>\nC: RCPT TO:<c1@example.net>\n"
      "C: DATA\nS: 250 ok\nS: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n"
      "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<b2@example.net>\nC: DATA\n"
      "S: 250 2.0.0 b1 delivered\nS: 452 4.2.2 c1 over quota\n"
      "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\nS: 250 2.0.0 b2 delivered\n"
      "C: QUIT\nS: 221 bye\nCLOSE\n",
      NULL);
  g_autoptr (MkSmtpClient) client = mk_lmtp_client_new ();
  g_autoptr (MkSmtpReply) greeting = NULL;
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  MkSmtpReply *refusal;

  g_object_set (client, "timeout", 10.0 * mk_test_time_scale (), NULL);
  greeting = mk_smtp_client_connect (client, mk_fault_server_get_address (server),
                                     mk_fault_server_get_port (server), NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (messages, numbered_message (1, "b1@example.net, c1@example.net"));
  g_ptr_array_add (messages, numbered_message (2, "b2@example.net"));
  results = send_messages (client, messages, NULL, NULL, GPOINTER_TO_INT (async), &error);
  g_assert_no_error (error);
  assert_result (results, 0, MK_SMTP_OUTCOME_PARTIAL, 0, 0, 452, 1);
  refusal = g_hash_table_lookup (mk_send_result_get_refused (g_ptr_array_index (results, 0)),
                                 "c1@example.net");
  g_assert_cmpuint (mk_smtp_reply_get_code (refusal), ==, 452);
  assert_delivered (results, 1);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* ---- refusals mixed ---------------------------------------------------- */

/* Message 2's only recipient refused, message 3's DATA refused, message 4
 * refused after its data (452), message 5 refused for one of its two
 * recipients: each has its own result, the others are delivered. @pipelining
 * decides the server's side: with it the end of data of message 4 shares
 * a write with message 5's envelope, and gets no RSET; without it every
 * command waits for its reply and every refusal gets its RSET. */
static char *
mixed_script (gboolean pipelining)
{
  GString *script = g_string_new (pipelining ? ehlo_pipelining
                                             : "S: 220 fault ready\nC: EHLO *\nS: 250-fault\n"
                                               "S: 250 HELP\n");

  if (pipelining)
    {
      append_envelope (script, 1);
      g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n");
      append_envelope (script, 2);
      g_string_append (script, "S: 250 2.0.0 one queued\nS: 250 ok\n"
                               "S: 550 5.1.1 no such user\nS: 503 5.5.1 no valid recipients\n"
                               "C: RSET\nS: 250 flushed\n");
      append_envelope (script, 3);
      g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 554 5.3.0 no data today\n"
                               "C: RSET\nS: 250 flushed\n");
      append_envelope (script, 4);
      g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n"
                               "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<b5@example.net>\n"
                               "C: RCPT TO:<c5@example.net>\nC: DATA\n"
                               "S: 452 4.3.1 insufficient storage\n"
                               "S: 250 ok\nS: 250 ok\nS: 450 4.2.1 try c5 later\n"
                               "S: 354 go ahead\nDATA-UNTIL-DOT\nS: 250 2.0.0 five queued\n");
    }
  else
    g_string_append (script,
                     "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<b1@example.net>\n"
                     "S: 250 ok\nC: DATA\nS: 354 go ahead\nDATA-UNTIL-DOT\nQUIET 200\n"
                     "S: 250 2.0.0 one queued\n"
                     "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<b2@example.net>\n"
                     "S: 550 5.1.1 no such user\nC: RSET\nS: 250 flushed\n"
                     "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<b3@example.net>\n"
                     "S: 250 ok\nC: DATA\nS: 554 5.3.0 no data today\nC: RSET\nS: 250 flushed\n"
                     "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<b4@example.net>\n"
                     "S: 250 ok\nC: DATA\nS: 354 go ahead\nDATA-UNTIL-DOT\n"
                     "S: 452 4.3.1 insufficient storage\nC: RSET\nS: 250 flushed\n"
                     "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<b5@example.net>\n"
                     "S: 250 ok\nC: RCPT TO:<c5@example.net>\nS: 450 4.2.1 try c5 later\n"
                     "C: DATA\nS: 354 go ahead\nDATA-UNTIL-DOT\nS: 250 2.0.0 five queued\n");
  g_string_append (script, "C: QUIT\nS: 221 bye\nCLOSE\n");
  return g_string_free (script, FALSE);
}

static void
run_mixed (gboolean pipelining, gboolean async)
{
  g_autofree char *script = mixed_script (pipelining);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GPtrArray) messages = numbered_messages (4, NULL);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  MkSmtpReply *refusal;

  g_ptr_array_add (messages, numbered_message (5, "b5@example.net, c5@example.net"));
  results = send_messages (client, messages, NULL, NULL, async, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 5);
  assert_delivered (results, 0);
  assert_result (results, 1, MK_SMTP_OUTCOME_REFUSED, MK_SMTP_ERROR,
                 MK_SMTP_ERROR_RECIPIENTS_REFUSED, 550, 1);
  assert_result (results, 2, MK_SMTP_OUTCOME_REFUSED, MK_SMTP_ERROR, MK_SMTP_ERROR_DATA, 554, 0);
  assert_result (results, 3, MK_SMTP_OUTCOME_RETRY, MK_SMTP_ERROR, MK_SMTP_ERROR_DATA, 452, 0);
  assert_result (results, 4, MK_SMTP_OUTCOME_PARTIAL, 0, 0, 250, 1);
  refusal = g_hash_table_lookup (mk_send_result_get_refused (g_ptr_array_index (results, 4)),
                                 "c5@example.net");
  g_assert_nonnull (refusal);
  g_assert_cmpuint (mk_smtp_reply_get_code (refusal), ==, 450);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

static void
test_mixed (gconstpointer async)
{
  run_mixed (TRUE, GPOINTER_TO_INT (async));
}

/* Without PIPELINING: lock-step, the same results. */
static void
test_mixed_lock_step (gconstpointer async)
{
  run_mixed (FALSE, GPOINTER_TO_INT (async));
}

/* ---- the connection lost, 421 ------------------------------------------- */

/* The server closes after message 2's end of data, which went out with
 * message 3's envelope: 1 delivered, 2 unknown, 3 and 4 safe to retry. */
static void
test_lost_after_end (gconstpointer async)
{
  g_autoptr (GString) script = script_after_first ();
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (GPtrArray) messages = numbered_messages (4, NULL);
  g_autoptr (GPtrArray) results = NULL;

  g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n");
  append_envelope (script, 3);
  g_string_append (script, "CLOSE\n");
  results = send_scripted (script->str, messages, NULL, GPOINTER_TO_INT (async), &server, &client);
  assert_delivered (results, 0);
  assert_result (results, 1, MK_SMTP_OUTCOME_UNKNOWN, MK_SMTP_ERROR,
                 MK_SMTP_ERROR_DELIVERY_UNKNOWN, 0, 0);
  assert_result (results, 2, MK_SMTP_OUTCOME_RETRY, MK_SMTP_ERROR,
                 MK_SMTP_ERROR_SERVER_DISCONNECTED, 0, 0);
  assert_not_attempted (results, 3);
  g_assert_false (mk_smtp_client_is_connected (client));
  mk_test_send_assert_server_happy (server);
}

/* A 421 where message 1's final reply is due, or (@after_end FALSE) to
 * message 2's MAIL once message 1 was answered. Message 1 is to retry in
 * the first case (the server did not take it), delivered in the second;
 * message 2 is to retry (unanswered, or refused with the 421); message 3
 * is not attempted. */
static void
run_421 (gboolean after_end, gboolean async)
{
  g_autoptr (GString) script = g_string_new (ehlo_pipelining);
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (GPtrArray) messages = numbered_messages (3, NULL);
  g_autoptr (GPtrArray) results = NULL;

  append_envelope (script, 1);
  g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n");
  append_envelope (script, 2);
  if (!after_end)
    g_string_append (script, "S: 250 2.0.0 one queued\n");
  g_string_append (script, "S: 421 4.3.2 shutting down\nCLOSE\n");
  results = send_scripted (script->str, messages, NULL, async, &server, &client);
  if (after_end)
    {
      assert_result (results, 0, MK_SMTP_OUTCOME_RETRY, MK_SMTP_ERROR, MK_SMTP_ERROR_DATA, 421,
                     0);
      assert_result (results, 1, MK_SMTP_OUTCOME_RETRY, MK_SMTP_ERROR,
                     MK_SMTP_ERROR_SERVER_DISCONNECTED, 0, 0);
    }
  else
    {
      assert_delivered (results, 0);
      assert_result (results, 1, MK_SMTP_OUTCOME_RETRY, MK_SMTP_ERROR,
                     MK_SMTP_ERROR_SENDER_REFUSED, 421, 0);
    }
  assert_not_attempted (results, 2);
  g_assert_false (mk_smtp_client_is_connected (client));
  mk_test_send_assert_server_happy (server);
}

static void
test_421 (gconstpointer async)
{
  run_421 (FALSE, GPOINTER_TO_INT (async));
}

static void
test_421_after_end (gconstpointer async)
{
  run_421 (TRUE, GPOINTER_TO_INT (async));
}

/* ---- a part that fails while it is sent, cancelling ----------------------- */

/* A big message: a 2 MiB attachment read from @stream. */
#define BIG_ATTACHMENT (2 * 1024 * 1024)

static GMimeMessage *
big_message (guint number, GMimeStream *stream)
{
  g_autoptr (GMimeMessage) message = numbered_message (number, "b2@example.net");
  g_autoptr (GMimeMultipart) mixed = g_mime_multipart_new_with_subtype ("mixed");
  g_autoptr (GMimeTextPart) text = g_mime_text_part_new_with_subtype ("plain");
  g_autoptr (GMimePart) part = g_mime_part_new_with_type ("application", "octet-stream");
  g_autoptr (GMimeDataWrapper) content
      = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_text_part_set_text (text, "See the attachment.\n");
  g_mime_part_set_content (part, content);
  g_mime_part_set_filename (part, "vanishing.bin");
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
  g_mime_multipart_add (mixed, GMIME_OBJECT (text));
  g_mime_multipart_add (mixed, GMIME_OBJECT (part));
  g_mime_message_set_mime_part (message, GMIME_OBJECT (mixed));
  return g_steal_pointer (&message);
}

/* Message 2's attachment fails while it is being sent (or, with
 * @cancellable, the call is cancelled then): its data is never ended, the
 * connection is closed, message 1 (answered with message 2's envelope) is
 * delivered and message 3 not attempted. */
static void
run_broken_body (gboolean async, GCancellable *cancellable)
{
  g_autoptr (GString) script = script_after_first ();
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (GMimeStream) stream = mk_test_failing_stream_new (BIG_ATTACHMENT, 'v');
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) results = NULL;
  GBytes *transcript;
  gsize length;
  const char *bytes;

  g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDRAIN\n");
  g_ptr_array_add (messages, numbered_message (1, "b1@example.net"));
  g_ptr_array_add (messages, big_message (2, stream));
  g_ptr_array_add (messages, numbered_message (3, "b3@example.net"));
  /* Halfway through the attachment, as the writer reads it. */
  if (cancellable != NULL)
    mk_test_failing_stream_cancel_at (stream, BIG_ATTACHMENT / 2, cancellable);
  else
    mk_test_failing_stream_fail_at (stream, BIG_ATTACHMENT / 2);
  results = send_scripted (script->str, messages, cancellable, async, &server, &client);
  assert_delivered (results, 0);
  if (cancellable != NULL)
    {
      assert_result (results, 1, MK_SMTP_OUTCOME_RETRY, G_IO_ERROR, G_IO_ERROR_CANCELLED, 0, 0);
      assert_result (results, 2, MK_SMTP_OUTCOME_RETRY, G_IO_ERROR, G_IO_ERROR_CANCELLED, 0, 0);
    }
  else
    {
      assert_result (results, 1, MK_SMTP_OUTCOME_REFUSED, G_IO_ERROR, G_IO_ERROR_FAILED, 0, 0);
      g_assert_nonnull (strstr (
          mk_send_result_get_error (g_ptr_array_index (results, 1))->message, "vanishing.bin"));
      assert_not_attempted (results, 2);
    }
  g_assert_false (mk_smtp_client_is_connected (client));
  mk_test_send_assert_server_happy (server);
  transcript = mk_fault_server_get_transcript_bytes (server, 0);
  bytes = g_bytes_get_data (transcript, &length);
  g_assert_false (length >= 5 && memcmp (bytes + length - 5, "\r\n.\r\n", 5) == 0);
  g_assert_null (g_strstr_len (bytes, length, "b3@example.net"));
}

static void
test_vanished_part (gconstpointer async)
{
  run_broken_body (GPOINTER_TO_INT (async), NULL);
}

static void
test_cancelled (gconstpointer async)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  run_broken_body (GPOINTER_TO_INT (async), cancellable);
}

static void
cancel_at_end (MkSmtpClient *client, guint64 sent, guint64 total, gpointer user_data)
{
  if (sent == total)
    g_cancellable_cancel (user_data);
}

/* Cancelled once message 1's data is written and before message 2's
 * envelope could carry its end of data out: the end was never sent, so
 * message 1 is safe to retry, not of unknown fate. (The progress signal
 * of a sync call runs in the sending thread, at that point.) */
static void
test_cancelled_before_end_left (void)
{
  g_autoptr (GString) script = g_string_new (ehlo_pipelining);
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (GPtrArray) messages = numbered_messages (2, NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;
  GBytes *transcript;
  gsize length;
  const char *bytes;

  append_envelope (script, 1);
  g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDRAIN\n");
  server = mk_fault_server_new (script->str, NULL);
  client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_signal_connect (client, "progress", G_CALLBACK (cancel_at_end), cancellable);
  results = mk_smtp_client_send_messages (client, messages, NULL, cancellable, &error);
  g_assert_no_error (error);
  assert_result (results, 0, MK_SMTP_OUTCOME_RETRY, G_IO_ERROR, G_IO_ERROR_CANCELLED, 0, 0);
  assert_result (results, 1, MK_SMTP_OUTCOME_RETRY, G_IO_ERROR, G_IO_ERROR_CANCELLED, 0, 0);
  g_assert_false (mk_smtp_client_is_connected (client));
  mk_test_send_assert_server_happy (server);
  transcript = mk_fault_server_get_transcript_bytes (server, 0);
  bytes = g_bytes_get_data (transcript, &length);
  g_assert_false (length >= 5 && memcmp (bytes + length - 5, "\r\n.\r\n", 5) == 0);
}

/* ---- arguments, a message that fails alone ------------------------------ */

/* A message without recipients and one over the server's SIZE fail alone,
 * before anything of them is sent; envelopes given override the headers. */
static void
test_fails_alone (gconstpointer async)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (
      "S: 220 fault ready\nC: EHLO *\nS: 250-fault\nS: 250-PIPELINING\nS: 250 SIZE 2000\n"
      "C: MAIL FROM:<env@example.org> SIZE=*\nC: RCPT TO:<env1@example.net>\nC: DATA\n"
      "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n"
      "C: MAIL FROM:<a@example.org> SIZE=*\nC: RCPT TO:<b4@example.net>\nC: DATA\n"
      "S: 250 2.0.0 one queued\nS: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n"
      "S: 250 2.0.0 four queued\nC: QUIT\nS: 221 bye\nCLOSE\n",
      NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) envelopes = g_ptr_array_new ();
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (MkEnvelope) envelope = mk_envelope_new ("env@example.org", NULL);
  g_autoptr (GString) big = g_string_new ("From: a@example.org\nTo: b3@example.net\n\n");
  g_autoptr (GError) error = NULL;

  g_assert_true (mk_envelope_add_recipient (envelope, "env1@example.net", NULL));
  for (guint i = 0; i < 100; i++)
    g_string_append (big, "A line of a message over the server's limit of 2000 octets.\n");
  g_ptr_array_add (messages, numbered_message (1, "b1@example.net"));
  g_ptr_array_add (messages, mk_test_send_parse_message ("From: a@example.org\nSubject: nobody\n\nhi\n"));
  g_ptr_array_add (messages, mk_test_send_parse_message (big->str));
  g_ptr_array_add (messages, numbered_message (4, "b4@example.net"));
  g_ptr_array_add (envelopes, envelope);
  g_ptr_array_add (envelopes, NULL);
  g_ptr_array_add (envelopes, NULL);
  g_ptr_array_add (envelopes, NULL);

  results = send_messages (client, messages, envelopes, NULL, GPOINTER_TO_INT (async), &error);
  g_assert_no_error (error);
  assert_delivered (results, 0);
  assert_result (results, 1, MK_SMTP_OUTCOME_REFUSED, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, 0, 0);
  assert_result (results, 2, MK_SMTP_OUTCOME_REFUSED, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                 0, 0);
  assert_delivered (results, 3);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);

  /* Unusable arguments: no results at all, nothing sent. */
  g_ptr_array_set_size (envelopes, 1);
  g_clear_pointer (&results, g_ptr_array_unref);
  results = send_messages (client, messages, envelopes, NULL, GPOINTER_TO_INT (async), &error);
  g_assert_null (results);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
}

/* The next message is made ready while the server answers the one before
 * (for a small one, serialised): one that cannot be sent as it is (here an
 * address needing SMTPUTF8, which the server does not offer) fails alone
 * then, and the one after it follows the first one's end of data. */
static void
test_next_fails_while_waiting (gconstpointer async)
{
  g_autoptr (GString) script = g_string_new (ehlo_pipelining);
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GError) error = NULL;

  append_envelope (script, 1);
  g_string_append (script, "S: 250 ok\nS: 250 ok\nS: 354 go ahead\nDATA-UNTIL-DOT\n");
  append_envelope (script, 3);
  g_string_append (script, "S: 250 2.0.0 one queued\nS: 250 ok\nS: 250 ok\nS: 354 go ahead\n"
                           "DATA-UNTIL-DOT\nS: 250 2.0.0 three queued\nC: QUIT\nS: 221 bye\n"
                           "CLOSE\n");
  server = mk_fault_server_new (script->str, NULL);
  client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_ptr_array_add (messages, numbered_message (1, "b1@example.net"));
  g_ptr_array_add (messages, numbered_message (2, "jos\xc3\xa9@example.net"));
  g_ptr_array_add (messages, numbered_message (3, "b3@example.net"));

  results = send_messages (client, messages, NULL, NULL, GPOINTER_TO_INT (async), &error);
  g_assert_no_error (error);
  assert_delivered (results, 0);
  assert_result (results, 1, MK_SMTP_OUTCOME_REFUSED, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                 0, 0);
  g_assert_nonnull (strstr (mk_send_result_get_error (g_ptr_array_index (results, 1))->message,
                            "SMTPUTF8"));
  assert_delivered (results, 2);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
  g_assert_null (strstr (mk_fault_server_get_transcript (server, 0), "jos"));
}

/* ---- the classifier ------------------------------------------------------ */

static void
test_outcome_from_error (void)
{
  g_autoptr (MkSmtpReply) transient = mk_smtp_reply_new (451, "4.3.0 later");
  g_autoptr (MkSmtpReply) permanent = mk_smtp_reply_new (550, "5.1.1 no");
  const struct
  {
    GQuark domain;
    int code;
    MkSmtpReply *reply;
    MkSmtpOutcome outcome;
  } cases[] = {
    { MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN, NULL, MK_SMTP_OUTCOME_UNKNOWN },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED, NULL, MK_SMTP_OUTCOME_RETRY },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_SENDER_REFUSED, transient, MK_SMTP_OUTCOME_RETRY },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_SENDER_REFUSED, permanent, MK_SMTP_OUTCOME_REFUSED },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED, transient, MK_SMTP_OUTCOME_RETRY },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_DATA, permanent, MK_SMTP_OUTCOME_REFUSED },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE, NULL, MK_SMTP_OUTCOME_RETRY },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, NULL, MK_SMTP_OUTCOME_REFUSED },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED, NULL, MK_SMTP_OUTCOME_REFUSED },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION, NULL, MK_SMTP_OUTCOME_REFUSED },
    { G_IO_ERROR, G_IO_ERROR_TIMED_OUT, NULL, MK_SMTP_OUTCOME_RETRY },
    { G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL, MK_SMTP_OUTCOME_RETRY },
    { G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, NULL, MK_SMTP_OUTCOME_RETRY },
    { G_IO_ERROR, G_IO_ERROR_NOT_FOUND, NULL, MK_SMTP_OUTCOME_REFUSED },
    { G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE, NULL, MK_SMTP_OUTCOME_RETRY },
    { G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, NULL, MK_SMTP_OUTCOME_REFUSED },
    { G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, NULL, MK_SMTP_OUTCOME_REFUSED },
  };

  g_assert_cmpint (mk_smtp_outcome_from_error (NULL, NULL), ==, MK_SMTP_OUTCOME_DELIVERED);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = g_error_new_literal (cases[i].domain, cases[i].code, "x");

      g_assert_cmpint (mk_smtp_outcome_from_error (error, cases[i].reply), ==, cases[i].outcome);
    }
}

/* ---- real peers ---------------------------------------------------------- */

/* The text of a stored message with LF line ends. */
static char *
stored_text (MkTestMessage *message)
{
  g_autofree char *data = g_strndup (g_bytes_get_data (message->data, NULL),
                                     g_bytes_get_size (message->data));
  g_auto (GStrv) lines = g_strsplit (data, "\r\n", -1);

  return g_strjoinv ("\n", lines);
}

/* The PEER_MESSAGES numbered messages are stored from @first on, whole,
 * and, if @ordered, in the order sent. */
static void
assert_arrived (GPtrArray *received, guint first, gboolean ordered)
{
  g_assert_cmpuint (received->len, ==, first + PEER_MESSAGES);
  for (guint i = 0; i < PEER_MESSAGES; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Subject: message %u\n", i + 1);
      g_autofree char *body = g_strdup_printf ("\nThis is message %u.\n.\n"
                                               "A line with only a dot above.\n",
                                               i + 1);
      gboolean found = FALSE;

      for (guint j = ordered ? first + i : first; !found && j < received->len; j++)
        {
          g_autofree char *text = stored_text (g_ptr_array_index (received, j));

          found = strstr (text, subject) != NULL && g_str_has_suffix (text, body);
          if (ordered)
            break;
        }
      g_assert_true (found);
    }
}

typedef struct
{
  guint bodies;
  guint mail_before_reply; /* bodies followed by the next MAIL, no reply between */
  gboolean after_body;
  gboolean mail_seen;
} RoundTrips;

/* From the trace: after each message's data the next message's MAIL (or
 * BDAT carrying it) is written before any reply is read. */
static void
count_round_trips (MkSmtpClient *client, const char *line, gpointer user_data)
{
  RoundTrips *trips = user_data;

  if (g_str_has_prefix (line, "data: "))
    {
      trips->bodies++;
      trips->after_body = TRUE;
      trips->mail_seen = FALSE;
    }
  else if (trips->after_body && g_str_has_prefix (line, "send: 'MAIL FROM:"))
    trips->mail_seen = TRUE;
  else if (trips->after_body && g_str_has_prefix (line, "reply: '"))
    {
      trips->mail_before_reply += trips->mail_seen;
      trips->after_body = FALSE;
    }
}

/* PEER_MESSAGES messages in one call to @peer's default service, every
 * one delivered to @to and stored whole (in the order sent if @ordered).
 * With @one_round_trip, the trace must show each end of data (but the
 * last) followed by the next MAIL before a reply is read. */
static void
send_to_peer (MkTestPeer *peer, const char *to, gboolean async, gboolean one_round_trip,
              gboolean ordered)
{
  g_autoptr (GPtrArray) before = mk_test_peer_get_messages (peer);
  g_autoptr (MkSmtpClient) client = connect_peer (peer);
  g_autoptr (GPtrArray) messages = numbered_messages (PEER_MESSAGES, to);
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (GError) error = NULL;
  RoundTrips trips = { 0 };

  mk_smtp_client_set_debuglevel (client, 1);
  g_signal_connect (client, "trace", G_CALLBACK (count_round_trips), &trips);
  results = send_messages (client, messages, NULL, NULL, async, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, PEER_MESSAGES);
  for (guint i = 0; i < PEER_MESSAGES; i++)
    assert_delivered (results, i);
  mk_test_send_quit (client);
  g_assert_cmpuint (trips.bodies, ==, PEER_MESSAGES);
  if (one_round_trip)
    g_assert_cmpuint (trips.mail_before_reply, ==, PEER_MESSAGES - 1);

  received = mk_test_peer_wait_messages (peer, before->len + PEER_MESSAGES, 30);
  assert_arrived (received, before->len, ordered);
}

static void
test_aiosmtpd (gconstpointer async)
{
  MkTestAiosmtpdOptions options = { .pipelining = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_aiosmtpd (&options);

  send_to_peer (peer, "b@example.net", GPOINTER_TO_INT (async), TRUE, TRUE);
}

/* smtp-sink's file names within a second need not follow the order. */
static void
test_smtp_sink (gconstpointer async)
{
  MkTestSmtpSinkOptions options = { .save_messages = TRUE };
  g_autoptr (MkTestPeer) peer = mk_test_peer_start_smtp_sink (&options);

  send_to_peer (peer, "b@example.net", GPOINTER_TO_INT (async), TRUE, FALSE);
}

/* Postfix offers CHUNKING too: BDAT LAST carries each message (the
 * envelope is judged with the first chunk, so the trace shows replies
 * between messages), and its queue may reorder the deliveries. */
static void
test_postfix (gconstpointer async)
{
  send_to_peer (mk_test_peer_get_postfix (), MK_TEST_PEER_USER "@" MK_TEST_POSTFIX_DOMAIN,
                GPOINTER_TO_INT (async), FALSE, FALSE);
}

static void
add_both (const char *name, GTestDataFunc test)
{
  g_autofree char *sync_path = g_strdup_printf ("/send-messages/%s/sync", name);
  g_autofree char *async_path = g_strdup_printf ("/send-messages/%s/async", name);

  g_test_add_data_func (sync_path, GINT_TO_POINTER (FALSE), test);
  g_test_add_data_func (async_path, GINT_TO_POINTER (TRUE), test);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_func ("/send-messages/outcome-from-error", test_outcome_from_error);
  add_both ("pipelined", test_pipelined);
  add_both ("window", test_window);
  add_both ("lmtp", test_lmtp);
  add_both ("mixed", test_mixed);
  add_both ("mixed-lock-step", test_mixed_lock_step);
  add_both ("lost-after-end", test_lost_after_end);
  add_both ("421", test_421);
  add_both ("421-after-end", test_421_after_end);
  add_both ("vanished-part", test_vanished_part);
  add_both ("cancelled", test_cancelled);
  g_test_add_func ("/send-messages/cancelled-before-end-left", test_cancelled_before_end_left);
  add_both ("fails-alone", test_fails_alone);
  add_both ("next-fails-while-waiting", test_next_fails_while_waiting);
  add_both ("aiosmtpd", test_aiosmtpd);
  add_both ("smtp-sink", test_smtp_sink);
  add_both ("postfix", test_postfix);
  return g_test_run ();
}
