/* test-client.c: MkSmtpClient against the scripted fault server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every test asserts the exact bytes the client sent, and runs sync and
 * async. The comment in front of each names the section of
 * smtplib-behaviour.md (§) or of the hostile-peer catalogue (T) it covers;
 * docs/coming-from-smtplib.md has the table.
 */
#include "config.h"

#include <string.h>

#include "libmailkit/smtp/mk-smtp-client-private.h"
#include "test-client-util.h"

#define GREETING "S: 220 mail.example ESMTP\n"
#define EHLO_PLAIN                                                                                 \
  "C: EHLO client.example\n"                                                                       \
  "S: 250-mail.example\n"                                                                          \
  "S: 250 8BITMIME\n"
#define QUIT                                                                                       \
  "C: QUIT\n"                                                                                      \
  "S: 221 bye\n"                                                                                   \
  "CLOSE\n"

static MkSmtpClient *
new_client (void)
{
  MkSmtpClient *client = mk_smtp_client_new ();

  g_object_set (client, "local-hostname", "client.example", "timeout", 10 * mk_test_time_scale (),
                NULL);
  return client;
}

/* Connects @client to @server and asserts the greeting. */
static void
connect_ok (MkSmtpClient *client, MkFaultServer *server, Mode mode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) greeting = t_connect_server (client, server, mode, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (greeting), ==, 220);
}

static const char *const one_recipient[] = { "bob@example.org", NULL };

/* §1.4, §1.9, §1.19: connect, EHLO and its capabilities, QUIT forgets them. */
static void
test_connect_ehlo_quit (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example hello\n"
                                                        "S: 250-SIZE 35882577\n"
                                                        "S: 250-8bitmime\n"
                                                        "S: 250-AUTH PLAIN LOGIN\n"
                                                        "S: 250 HELP\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (MkSmtpReply) ehlo = NULL;
  g_autoptr (MkSmtpReply) quit = NULL;
  g_autoptr (GError) error = NULL;
  MkSmtpCapabilities *caps;

  /* smtplib's source_address. */
  g_object_set (client, "source-address", "127.0.0.1", NULL);
  connect_ok (client, server, MODE (data));
  g_assert_true (mk_smtp_client_is_connected (client));
  g_assert_false (mk_smtp_client_get_does_esmtp (client));
  ehlo = t_ehlo (client, NULL, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (ehlo), ==, 250);
  g_assert_true (mk_smtp_client_get_does_esmtp (client));
  g_assert_true (mk_smtp_client_get_ehlo_resp (client) != NULL);
  caps = mk_smtp_client_get_capabilities (client);
  g_assert_nonnull (caps);
  g_assert_cmpuint (mk_smtp_capabilities_get_size_limit (caps), ==, 35882577);
  g_assert_true (mk_smtp_client_has_extn (client, "8BITMIME"));
  g_assert_true (mk_smtp_client_has_extn (client, "size"));
  g_assert_false (mk_smtp_client_has_extn (client, "SIZ"));
  g_assert_false (mk_smtp_client_has_extn (client, "STARTTLS"));

  quit = t_quit (client, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (quit), ==, 221);
  g_assert_false (mk_smtp_client_is_connected (client));
  g_assert_null (mk_smtp_client_get_capabilities (client));
  g_assert_false (mk_smtp_client_get_does_esmtp (client));
  g_assert_null (mk_smtp_client_get_ehlo_resp (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "EHLO client.example\r\nQUIT\r\n");
}

/* §1.3, T4–T8: a greeting other than 220 is MK_SMTP_ERROR_CONNECT, the
 * reply is kept, the connection closed, nothing sent. */
static void
test_greeting_refused (gconstpointer data)
{
  const char *const greetings[]
      = { "S: 554 no service\n", "S: 421-busy\nS: 421 try later\n", "S: 250 not a greeting\n",
          "S: 199 weird\n", "S: \nS: 220 after a blank line\n" };
  const guint codes[] = { 554, 421, 250, 0, 0 };

  for (gsize i = 0; i < G_N_ELEMENTS (greetings); i++)
    {
      g_autofree char *script = g_strconcat (greetings[i], "EOF\n", NULL);
      g_autoptr (MkFaultServer) server = t_server (script);
      g_autoptr (MkSmtpClient) client = new_client ();
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSmtpReply) reply = t_connect_server (client, server, MODE (data), &error);

      if (codes[i] == 0)
        {
          /* RFC 5321 §4.2: no reply code starts with 1; T8: a blank line
           * before the greeting is no reply either. Protocol errors. */
          g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
        }
      else
        {
          g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_CONNECT);
          g_assert_cmpuint (mk_smtp_reply_get_code (mk_smtp_client_get_last_reply (client)), ==,
                            codes[i]);
        }
      g_assert_null (reply);
      g_assert_false (mk_smtp_client_is_connected (client));
      t_server_done (server);
      g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "");
    }
}

/* §1.11, §1.3 step 4: a command on an unconnected client. */
static void
test_not_connected (gconstpointer data)
{
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = t_noop (client, MODE (data), &error);

  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED);
  g_assert_null (reply);
  g_clear_error (&error);
  g_assert_false (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED);
}

/* §1.9 [E3, E6]: EHLO refused → HELO; both refused → MK_SMTP_ERROR_HELO. */
static void
test_helo_fallback (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: EHLO client.example\n"
                           "S: 502 what\n"
                           "C: HELO client.example\n"
                           "S: 250 hello\n"
                           "C: NOOP\n"
                           "S: 250 ok\n" QUIT "---\n" GREETING "C: EHLO client.example\n"
                           "S: 500 no\n"
                           "C: HELO client.example\n"
                           "S: 501 no either\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  connect_ok (client, server, MODE (data));
  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  g_assert_no_error (error);
  g_assert_false (mk_smtp_client_get_does_esmtp (client));
  g_assert_nonnull (mk_smtp_client_get_helo_resp (client));
  /* Needed no more: nothing sent. */
  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  reply = t_noop (client, MODE (data), &error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 250);
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = t_quit (client, MODE (data), &error);
  g_clear_pointer (&reply, mk_smtp_reply_unref);

  connect_ok (client, server, MODE (data));
  g_assert_false (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_HELO);
  g_assert_cmpuint (mk_smtp_reply_get_code (mk_smtp_client_get_last_reply (client)), ==, 501);
  g_clear_error (&error);
  reply = t_quit (client, MODE (data), &error);
  g_assert_no_error (error);
  t_server_done (server);
}

/* §1.5, §1.8, §1.10: the simple commands, their exact wire form (upper-case
 * verbs), and replies returned whatever their code. */
static void
test_simple_commands (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING EHLO_PLAIN "C: NOOP\n"
                                                                   "S: 250 ok\n"
                                                                   "C: RSET\n"
                                                                   "S: 250 reset\n"
                                                                   "C: VRFY bob@example.org\n"
                                                                   "S: 252 cannot verify\n"
                                                                   "C: EXPN staff\n"
                                                                   "S: 502 not here\n"
                                                                   "C: HELP\n"
                                                                   "S: 214-help\n"
                                                                   "S: 214 more\n"
                                                                   "C: XFOO bar baz\n"
                                                                   "S: 500 unknown\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  MkSmtpReply *reply;

  connect_ok (client, server, MODE (data));
  reply = t_ehlo (client, NULL, MODE (data), &error);
  mk_smtp_reply_unref (reply);
  reply = t_noop (client, MODE (data), &error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 250);
  mk_smtp_reply_unref (reply);
  reply = t_rset (client, MODE (data), &error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 250);
  mk_smtp_reply_unref (reply);
  reply = t_verify (client, "Bob <bob@example.org>", MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 252);
  mk_smtp_reply_unref (reply);
  reply = t_expn (client, "staff", MODE (data), &error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 502);
  mk_smtp_reply_unref (reply);
  reply = t_help (client, NULL, MODE (data), &error);
  g_assert_cmpstr (mk_smtp_reply_get_text (reply), ==, "help\nmore");
  mk_smtp_reply_unref (reply);
  reply = t_docmd (client, "XFOO", "bar baz", MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 500);
  mk_smtp_reply_unref (reply);
  reply = t_quit (client, MODE (data), &error);
  mk_smtp_reply_unref (reply);
  t_server_done (server);
}

/* §1.5 [K1, A2], T60, T62: CR or LF in any argument is refused before
 * anything is sent; the session stays usable. */
static void
test_injection_refused (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING EHLO_PLAIN QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  const char *const bad_options[] = { "SIZE=1\r\nRSET", NULL };
  const char *const bad_to[] = { "bob@example.org\r\nRCPT TO:<evil@example.org>", NULL };
  MkSmtpReply *reply;

  connect_ok (client, server, MODE (data));
  reply = t_ehlo (client, "bad\nX-INJECTED", MODE (data), &error);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_assert_null (reply);
  g_clear_error (&error);
  reply = t_docmd (client, "helo\nX-INJECTED", NULL, MODE (data), &error);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  reply = t_ehlo (client, NULL, MODE (data), &error);
  g_assert_no_error (error);
  mk_smtp_reply_unref (reply);
  reply = t_mail (client, "a@example.org", bad_options, MODE (data), &error);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  reply = t_mail (client, "<\r\nRCPT TO:<evil@z>", NULL, MODE (data), &error);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (
      t_sendmail (client, "a@example.org", bad_to, "x\n", NULL, NULL, NULL, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (mk_smtp_client_is_connected (client));
  reply = t_quit (client, MODE (data), &error);
  mk_smtp_reply_unref (reply);
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "EHLO client.example\r\nQUIT\r\n");
}

/* §1.14, §1.17 [D1, D2, S1], T69–T70: sendmail's exact bytes: CRLF made
 * from bare LF and CR, dots stuffed after every line break, a final CRLF
 * added, SIZE= from the advertised extension. */
static void
test_sendmail_basic (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 SIZE 1000\n"
                                                        "C: MAIL FROM:<alice@example.org> SIZE=22\n"
                                                        "S: 250 ok\n"
                                                        "C: RCPT TO:<bob@example.org>\n"
                                                        "S: 250 ok\n"
                                                        "C: DATA\n"
                                                        "S: 354 go\n"
                                                        "DATA-UNTIL-DOT\n"
                                                        "S: 250 queued\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  connect_ok (client, server, MODE (data));
  g_assert_true (t_sendmail (client, "alice@example.org", one_recipient,
                             ".A test\n.mes.sage.\r.\rx", NULL, NULL, &refused, MODE (data),
                             &error));
  g_assert_no_error (error);
  g_assert_nonnull (refused);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  reply = t_quit (client, MODE (data), &error);
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==,
                   "..A test\r\n..mes.sage.\r\n..\r\nx\r\n.\r\n");
}

/* §1.17 [F1, F2, F3, F10], T65, T66, BUG-6: partial refusal is success with
 * the refused table; 252 is acceptance; a duplicate is sent once; every
 * recipient refused → MK_SMTP_ERROR_RECIPIENTS_REFUSED, RSET, no DATA. The
 * same with and without PIPELINING. */
static void
run_recipients (Mode mode, gboolean pipelining)
{
  g_autofree char *script = g_strdup_printf (GREETING "C: EHLO client.example\n"
                                                      "S: 250-mail.example\n"
                                                      "S: 250 %s\n"
                                                      "C: MAIL FROM:<alice@example.org>\n"
                                                      "S: 250 ok\n"
                                                      "C: RCPT TO:<bob@example.org>\n"
                                                      "S: 550 no such user\n"
                                                      "C: RCPT TO:<carol@example.org>\n"
                                                      "S: 252 will try\n"
                                                      "C: DATA\n"
                                                      "S: 354 go\n"
                                                      "DATA-UNTIL-DOT\n"
                                                      "S: 250 queued\n"
                                                      "C: MAIL FROM:<alice@example.org>\n"
                                                      "S: 250 ok\n"
                                                      "C: RCPT TO:<bob@example.org>\n"
                                                      "S: 550 no\n"
                                                      "C: RCPT TO:<dave@example.org>\n"
                                                      "S: 450 later\n"
                                                      "%s"
                                                      "C: RSET\n"
                                                      "S: 250 reset\n" QUIT,
                                             pipelining ? "PIPELINING" : "8BITMIME",
                                             pipelining ? "C: DATA\nS: 554 no recipients\n" : "");
  const char *const first[] = { "bob@example.org", "carol@example.org", "bob@example.org", NULL };
  const char *const second[] = { "bob@example.org", "dave@example.org", NULL };
  g_autoptr (MkFaultServer) server = t_server (script);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  MkSmtpReply *bob;

  connect_ok (client, server, mode);
  g_assert_true (
      t_sendmail (client, "alice@example.org", first, "hi\n", NULL, NULL, &refused, mode, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  bob = g_hash_table_lookup (refused, "bob@example.org");
  g_assert_nonnull (bob);
  g_assert_cmpuint (mk_smtp_reply_get_code (bob), ==, 550);
  g_clear_pointer (&refused, g_hash_table_unref);

  g_assert_false (
      t_sendmail (client, "alice@example.org", second, "hi\n", NULL, NULL, &refused, mode, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED);
  g_assert_nonnull (strstr (error->message, "dave@example.org (450 later)"));
  g_assert_nonnull (refused);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 2);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "dave@example.org")), ==,
                    450);
  g_assert_true (mk_smtp_client_is_connected (client));
  g_clear_error (&error);
  reply = t_quit (client, mode, &error);
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, "hi\r\n.\r\n");
}

static void
test_recipients (gconstpointer data)
{
  run_recipients (MODE (data), FALSE);
}

static void
test_recipients_pipelined (gconstpointer data)
{
  run_recipients (MODE (data), TRUE);
}

/* §1.17 [F4, F5, F6, F7, F8, F9], BUG-7, T16–T18: a refusal at each stage
 * gives its error and an RSET; a 421 at each stage closes without RSET. */
typedef struct
{
  const char *name;
  const char *replies; /* the script after EHLO */
  int error_code;
  gboolean rset;
} StageCase;

static const StageCase stage_cases[] = {
  { "mail-550", "C: MAIL FROM:<a@example.org>\nS: 550 no\n", MK_SMTP_ERROR_SENDER_REFUSED, TRUE },
  { "mail-421", "C: MAIL FROM:<a@example.org>\nS: 421 closing\n", MK_SMTP_ERROR_SENDER_REFUSED,
    FALSE },
  { "mail-251", "C: MAIL FROM:<a@example.org>\nS: 251 odd\n", MK_SMTP_ERROR_SENDER_REFUSED, TRUE },
  { "rcpt-421",
    "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<bob@example.org>\nS: 421 closing\n",
    MK_SMTP_ERROR_RECIPIENTS_REFUSED, FALSE },
  { "data-554",
    "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<bob@example.org>\nS: 250 ok\n"
    "C: DATA\nS: 554 no\n",
    MK_SMTP_ERROR_DATA, TRUE },
  { "data-421",
    "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<bob@example.org>\nS: 250 ok\n"
    "C: DATA\nS: 421 closing\n",
    MK_SMTP_ERROR_DATA, FALSE },
  { "data-250",
    "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<bob@example.org>\nS: 250 ok\n"
    "C: DATA\nS: 250 what\n",
    MK_SMTP_ERROR_DATA, TRUE },
  { "eod-552",
    "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<bob@example.org>\nS: 250 ok\n"
    "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 552 too big\n",
    MK_SMTP_ERROR_DATA, TRUE },
  { "eod-421",
    "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<bob@example.org>\nS: 250 ok\n"
    "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 421 closing\n",
    MK_SMTP_ERROR_DATA, FALSE },
  { "eod-451",
    "C: MAIL FROM:<a@example.org>\nS: 250 ok\nC: RCPT TO:<bob@example.org>\nS: 250 ok\n"
    "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 451 later\n",
    MK_SMTP_ERROR_DATA, TRUE },
};

static void
test_stage_replies (gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (stage_cases); i++)
    {
      const StageCase *c = &stage_cases[i];
      g_autofree char *script = g_strconcat (
          GREETING EHLO_PLAIN, c->replies, c->rset ? "C: RSET\nS: 250 ok\n" QUIT : "CLOSE\n", NULL);
      g_autoptr (MkFaultServer) server = t_server (script);
      g_autoptr (MkSmtpClient) client = new_client ();
      g_autoptr (GHashTable) refused = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSmtpReply) reply = NULL;

      g_test_message ("case %s", c->name);
      connect_ok (client, server, MODE (data));
      g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL,
                                  &refused, MODE (data), &error));
      g_assert_error (error, MK_SMTP_ERROR, c->error_code);
      g_assert_cmpint (mk_smtp_client_is_connected (client), ==, c->rset);
      if (c->error_code == MK_SMTP_ERROR_RECIPIENTS_REFUSED)
        g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "bob@example.org")),
                          ==, 421);
      g_clear_error (&error);
      if (c->rset)
        reply = t_quit (client, MODE (data), &error);
      t_server_done (server);
    }
}

/* §1.6 [R1, R3, R4, R5], T19–T24: malformed replies, oversized lines and
 * an early end of stream close the session with the right error. */
static void
test_bad_replies (gconstpointer data)
{
  const struct
  {
    const char *script;
    int code;
  } cases[] = {
    { "S: 250-a\nS: 550 b\n", MK_SMTP_ERROR_RESPONSE },
    { "S: 2_5 x\n", MK_SMTP_ERROR_RESPONSE },
    { "S: 250xhello\n", MK_SMTP_ERROR_RESPONSE },
    { "S: abc ok\n", MK_SMTP_ERROR_RESPONSE },
    { "R: 250 OK\\0garbage\\r\\n\n", MK_SMTP_ERROR_RESPONSE },
    { "REPEAT 200 S: 250-x\n", MK_SMTP_ERROR_RESPONSE },
    { "REPEAT 20000 R: x\nS: \n", MK_SMTP_ERROR_RESPONSE },
    { "S: 250-partial\nCLOSE\n", MK_SMTP_ERROR_SERVER_DISCONNECTED },
    { "R: 250 cut\nCLOSE\n", MK_SMTP_ERROR_SERVER_DISCONNECTED },
    { "CLOSE\n", MK_SMTP_ERROR_SERVER_DISCONNECTED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean closes = strstr (cases[i].script, "CLOSE") != NULL;
      g_autofree char *script
          = g_strconcat (GREETING "C: NOOP\n", cases[i].script, closes ? "" : "DRAIN\n", NULL);
      g_autoptr (MkFaultServer) server = t_server (script);
      g_autoptr (MkSmtpClient) client = new_client ();
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSmtpReply) reply = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      connect_ok (client, server, MODE (data));
      reply = t_noop (client, MODE (data), &error);
      g_assert_null (reply);
      g_assert_error (error, MK_SMTP_ERROR, cases[i].code);
      g_assert_false (mk_smtp_client_is_connected (client));
      g_clear_error (&error);
      /* §1.11: a dead session says so. */
      reply = t_noop (client, MODE (data), &error);
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED);
      t_server_done (server);
      g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "NOOP\r\n");
    }
}

/* T13, T14, T34: lost after the final dot → DELIVERY_UNKNOWN; lost after
 * 354 before the body ends cannot happen from our side (the body is ours),
 * lost before the final dot → disconnected. */
static void
test_lost_after_dot (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nCLOSE\n");
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;

  connect_ok (client, server, MODE (data));
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN);
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
}

/* BUG-25, T68: SIZE over the advertised limit fails before MAIL; §1.13
 * [A4]: SMTPUTF8 asked for but not offered fails before MAIL; BUG-12: options
 * on a non-ESMTP session fail instead of being dropped; BUG-8: no
 * recipients fails before anything is sent. */
static void
test_refused_before_mail (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 SIZE 10\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  const char *const utf8[] = { "SMTPUTF8", NULL };
  const char *const notify[] = { "NOTIFY=SUCCESS,FAILURE", NULL };
  const char *const body8[] = { "BODY=8BITMIME", NULL };
  const char *const none[] = { NULL };

  connect_ok (client, server, MODE (data));
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "0123456789abc\n", NULL, NULL,
                              NULL, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", utf8, NULL, NULL,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (t_sendmail (client, "jörg@example.org", one_recipient, "x\n", NULL, NULL, NULL,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  /* DSN and 8BITMIME parameters without the extensions (DESIGN.md, "Error
   * codes"). */
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, notify, NULL,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", body8, NULL, NULL,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (
      t_sendmail (client, "a@example.org", none, "x\n", NULL, NULL, NULL, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  reply = t_quit (client, MODE (data), &error);
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "EHLO client.example\r\nQUIT\r\n");
}

/* RFC 6531: an international address gets SMTPUTF8 on MAIL by itself when
 * the server offers it (smtplib: UnicodeEncodeError unless the caller asks);
 * without the extension it is refused before MAIL (refused-before-mail). */
static void
test_smtputf8_automatic (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: EHLO client.example\n"
                           "S: 250-mail.example\n"
                           "S: 250 SMTPUTF8\n"
                           "C: MAIL FROM:<a@example.org> SMTPUTF8\nS: 250 ok\n"
                           "C: RCPT TO:<jörg@exämple.org>\nS: 250 ok\n"
                           "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  const char *const to[] = { "jörg@exämple.org", NULL };

  connect_ok (client, server, MODE (data));
  g_assert_true (
      t_sendmail (client, "a@example.org", to, "x\n", NULL, NULL, NULL, MODE (data), &error));
  g_assert_no_error (error);
  reply = t_quit (client, MODE (data), &error);
  t_server_done (server);
}

/* Issue 8: CHUNKING without PIPELINING is BDAT in lock step; with both,
 * MAIL, RCPT and the whole small message go out in one write. */
static void
test_bdat (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: EHLO client.example\n"
                           "S: 250-mail.example\n"
                           "S: 250 CHUNKING\n"
                           "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                           "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                           "C: BDAT 7 LAST\nC-BYTES: 7\nS: 250 queued\n" QUIT "---\n" GREETING
                           "C: EHLO client.example\n"
                           "S: 250-mail.example\n"
                           "S: 250-PIPELINING\n"
                           "S: 250 CHUNKING\n"
                           "C: MAIL FROM:<a@example.org>\n"
                           "C: RCPT TO:<bob@example.org>\n"
                           "C: BDAT 7 LAST\nC-BYTES: 7\n"
                           "S: 250 ok\nS: 250 ok\nS: 250 queued\n" QUIT);
  g_autoptr (GError) error = NULL;

  for (int round = 0; round < 2; round++)
    {
      g_autoptr (MkSmtpClient) client = new_client ();
      g_autoptr (MkSmtpReply) reply = NULL;

      connect_ok (client, server, MODE (data));
      g_assert_true (t_sendmail (client, "a@example.org", one_recipient, ".a\nb\n", NULL, NULL,
                                 NULL, MODE (data), &error));
      g_assert_no_error (error);
      reply = t_quit (client, MODE (data), &error);
    }
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, ".a\r\nb\r\n");
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 1), ==, ".a\r\nb\r\n");
}

/* §1.15 [U1, U5, U8], T52, T54, T58: AUTH PLAIN with the initial response,
 * a 535 stops login() (no weaker mechanism tried), endless 334 is cancelled
 * with "*", secrets never reach the trace. */
static gboolean
collect_trace (MkSmtpClient *client, const char *line, gpointer user_data)
{
  g_string_append_printf (user_data, "%s\n", line);
  return TRUE;
}

static void
test_auth (gconstpointer data)
{
  g_autoptr (GString) script = g_string_new (
      /* base64("\0user\0S3cr3t-CANARY"); the server spells "plain" in lower
       * case (smtplib would not find it) */
      GREETING "C: EHLO client.example\n"
               "S: 250-mail.example\n"
               "S: 250 AUTH LOGIN plain\n"
               "C: AUTH PLAIN AHVzZXIAUzNjcjN0LUNBTkFSWQ==\n"
               "S: 235 ok\n" QUIT "---\n" GREETING "C: EHLO client.example\n"
               "S: 250-mail.example\n"
               "S: 250 AUTH LOGIN PLAIN\n"
               "C: AUTH PLAIN AHVzZXIAUzNjcjN0LUNBTkFSWQ==\n"
               "S: 535 5.7.8 bad credentials\n" QUIT "---\n" GREETING "C: EHLO client.example\n"
               "S: 250-mail.example\n"
               "S: 250 AUTH LOGIN\n"
               "C: AUTH LOGIN\n");
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (GString) trace = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  const char *transcript;

  /* LOGIN answers two challenges (user name, password); a server that
   * keeps challenging is cancelled with "*" (RFC 4954 §4) and not believed.
   * (The bound on rounds for mechanisms that could go on is
   * MK_SASL_MAX_ROUNDS, tested with the SASL session.) */
  for (int i = 0; i < 2; i++)
    g_string_append (script, "S: 334 VXNlcm5hbWU6\nC: *\n");
  g_string_append (script, "S: 334 VXNlcm5hbWU6\nC: \\*\nS: 501 cancelled\n" QUIT);
  server = t_server (script->str);

  for (int round = 0; round < 3; round++)
    {
      g_autoptr (MkSmtpClient) client = new_client ();
      g_autoptr (MkSmtpReply) reply = NULL;
      g_autoptr (MkSmtpReply) quit = NULL;

      mk_smtp_client_set_debuglevel (client, 1);
      g_signal_connect (client, "trace", G_CALLBACK (collect_trace), trace);
      connect_ok (client, server, MODE (data));
      reply = t_login (client, "user", "S3cr3t-CANARY", MODE (data), &error);
      if (round == 0)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 235);
        }
      else
        {
          g_assert_null (reply);
          g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);
          g_assert_null (strstr (error->message, "S3cr3t"));
          g_clear_error (&error);
        }
      quit = t_quit (client, MODE (data), &error);
      g_assert_no_error (error);
    }
  t_server_done (server);
  transcript = mk_fault_server_get_transcript (server, 2);
  g_assert_true (g_str_has_suffix (transcript, "\r\n*\r\nQUIT\r\n"));
  g_assert_null (strstr (transcript, "S3cr3t-CANARY"));
  g_assert_null (strstr (trace->str, "S3cr3t-CANARY"));
  g_assert_null (strstr (trace->str, "AHVzZXIAUzNjcjN0LUNBTkFSWQ=="));
  g_assert_null (strstr (trace->str, "UzNjcjN0LUNBTkFSWQ=="));
  g_assert_nonnull (strstr (trace->str, "AUTH PLAIN <redacted>"));
}

/* XOAUTH2 through auth() with a token (T58): the initial response as
 * Google documents it, the token never in the trace. */
static void
test_auth_xoauth2 (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: EHLO client.example\n"
                           "S: 250-mail.example\n"
                           "S: 250 AUTH XOAUTH2 PLAIN\n"
                           "C: AUTH XOAUTH2 "
                           "dXNlcj11QGV4YW1wbGUub3JnAWF1dGg9QmVhcmVyIFQwS0VOLUNBTkFSWQEB\n"
                           "S: 235 ok\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GString) trace = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (MkSmtpReply) bye = NULL;

  mk_smtp_client_set_debuglevel (client, 2);
  g_signal_connect (client, "trace", G_CALLBACK (collect_trace), trace);
  connect_ok (client, server, MODE (data));
  reply = t_auth (client, "xoauth2", "u@example.org", "T0KEN-CANARY", MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 235);
  bye = t_quit (client, MODE (data), &error);
  t_server_done (server);
  g_assert_null (strstr (trace->str, "T0KEN-CANARY"));
  g_assert_null (
      strstr (trace->str, "dXNlcj11QGV4YW1wbGUub3JnAWF1dGg9QmVhcmVyIFQwS0VOLUNBTkFSWQEB"));
}

/* §1.22 [G1, G2]: level 1 lines as smtplib's; level 2 with the time. */
static void
test_debuglevel (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: NOOP\nS: 250 ok\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GString) trace = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) noop = NULL;
  g_autoptr (MkSmtpReply) quit = NULL;
  g_autoptr (GRegex) stamp = g_regex_new ("^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} send: 'NOOP",
                                          G_REGEX_MULTILINE, 0, NULL);

  g_signal_connect (client, "trace", G_CALLBACK (collect_trace), trace);
  mk_smtp_client_set_debuglevel (client, 1);
  connect_ok (client, server, MODE (data));
  g_assert_true (g_str_has_prefix (trace->str, "connect: "));
  g_assert_nonnull (strstr (trace->str, "reply: '220 mail.example ESMTP\\r\\n'"));
  mk_smtp_client_set_debuglevel (client, 2);
  noop = t_noop (client, MODE (data), &error);
  g_assert_true (g_regex_match (stamp, trace->str, 0, NULL));
  quit = t_quit (client, MODE (data), &error);
  t_server_done (server);
}

/* §1.16 [T1, T2, T5], T43–T46, T48: STARTTLS, state forgotten and EHLO
 * again; not advertised; refused; bytes injected after the 220; tls-mode
 * STARTTLS refuses to go on without it. */
static void
test_starttls (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250-AUTH PLAIN\n"
                                                        "S: 250 STARTTLS\n"
                                                        "C: STARTTLS\n"
                                                        "S: 220 go ahead\n"
                                                        "TLS\n"
                                                        "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 AUTH SCRAM-SHA-256\n" QUIT
                                                        "---\n" GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 STARTTLS\n"
                                                        "C: STARTTLS\n"
                                                        "S: 220 go ahead\n"
                                                        "R: 250 injected\\r\\n\n"
                                                        "DRAIN\n"
                                                        "---\n" GREETING "C: EHLO client.example\n"
                                                        "S: 250 mail.example\n"
                                                        "DRAIN\n"
                                                        "---\n" GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 STARTTLS\n"
                                                        "C: STARTTLS\n"
                                                        "S: 454 not now\n"
                                                        "DRAIN\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (MkSmtpReply) reply = NULL;

  g_object_set (client, "tls-ca-file", mk_test_certs_get ()->ca_file, "tls-server-name",
                "localhost", NULL);
  connect_ok (client, server, MODE (data));
  reply = t_starttls (client, MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 220);
  g_assert_null (mk_smtp_client_get_capabilities (client));
  g_assert_false (mk_smtp_client_get_does_esmtp (client));
  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  g_assert_true (mk_smtp_client_has_extn (client, "AUTH"));
  g_assert_false (mk_smtp_client_has_extn (client, "STARTTLS"));
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = t_quit (client, MODE (data), &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, mk_smtp_reply_unref);

  /* Injection: refused before the handshake. */
  connect_ok (client, server, MODE (data));
  reply = t_starttls (client, MODE (data), &error);
  g_assert_null (reply);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
  g_assert_false (mk_smtp_client_is_connected (client));
  g_clear_error (&error);

  /* Not advertised, tls-mode STARTTLS: nothing private is sent. */
  g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS, NULL);
  connect_ok (client, server, MODE (data));
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS);
  g_clear_error (&error);

  /* Refused: no plaintext fallback. */
  connect_ok (client, server, MODE (data));
  reply = t_login (client, "user", "secret", MODE (data), &error);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS);
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\nQUIT\r\n");
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 2), ==, "EHLO client.example\r\n");
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 3), ==,
                   "EHLO client.example\r\nSTARTTLS\r\n");
}

/* §1.20 [T6]: implicit TLS, the greeting read through TLS. */
static void
test_implicit_tls (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server ("TLS\n" GREETING "C: NOOP\nS: 250 ok\n" QUIT);
  g_autoptr (MkSmtpClient) client = mk_smtp_client_new_ssl ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (MkSmtpReply) quit = NULL;

  g_object_set (client, "tls-ca-file", mk_test_certs_get ()->ca_file, "local-hostname",
                "client.example", NULL);
  connect_ok (client, server, MODE (data));
  reply = t_noop (client, MODE (data), &error);
  g_assert_no_error (error);
  quit = t_quit (client, MODE (data), &error);
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "NOOP\r\nQUIT\r\n");
}

/* §1.19 [K2]: QUIT answered with anything but 221 is an error (smtplib's
 * context manager raises SMTPResponseException(421, b'QUIT FAILED')); the
 * client is closed and reset all the same. */
static void
test_quit_refused (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN "C: QUIT\nS: 421 QUIT FAILED\nCLOSE\n");
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  connect_ok (client, server, MODE (data));
  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  reply = t_quit (client, MODE (data), &error);
  g_assert_null (reply);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE);
  g_assert_cmpuint (mk_smtp_reply_get_code (mk_smtp_client_get_last_reply (client)), ==, 421);
  g_assert_false (mk_smtp_client_is_connected (client));
  g_assert_null (mk_smtp_client_get_capabilities (client));
  t_server_done (server);
}

/* §1.19 [K4], BUG-24: quit on a lost connection reports it and resets. */
static void
test_quit_lost (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING EHLO_PLAIN "CLOSE\n");
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  connect_ok (client, server, MODE (data));
  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  t_server_done (server);
  reply = t_quit (client, MODE (data), &error);
  g_assert_null (reply);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED);
  g_assert_false (mk_smtp_client_is_connected (client));
  g_assert_null (mk_smtp_client_get_ehlo_resp (client));
}

/* §1.21 [L1, L2], T92, T93: LMTP over a unix socket: LHLO, one reply per
 * accepted recipient, each refusal reported, in step for the next message;
 * a refused LHLO is an error without HELO. */
static void
test_lmtp (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server_unix ("S: 220 lmtp ready\n"
                       "C: LHLO client.example\n"
                       "S: 250-lmtp\n"
                       "S: 250 PIPELINING\n"
                       "C: MAIL FROM:<a@example.org>\n"
                       "C: RCPT TO:<b@example.org>\n"
                       "C: RCPT TO:<c@example.org>\n"
                       "C: RCPT TO:<d@example.org>\n"
                       "C: RCPT TO:<e@example.org>\n"
                       "C: DATA\n"
                       "S: 250 ok\nS: 250 ok\nS: 550 unknown\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
                       "DATA-UNTIL-DOT\n"
                       "S: 250 b delivered\nS: 452 d over quota\nS: 250 e delivered\n"
                       "C: NOOP\nS: 250 in step\n" QUIT "---\n"
                       "S: 220 lmtp ready\n"
                       "C: LHLO client.example\n"
                       "S: 500 what\n"
                       "C: QUIT\nS: 221 bye\nCLOSE\n");
  const char *const to[]
      = { "b@example.org", "c@example.org", "d@example.org", "e@example.org", NULL };
  g_autoptr (MkSmtpClient) client = mk_lmtp_client_new ();
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  MkSmtpReply *reply;

  g_object_set (client, "local-hostname", "client.example", NULL);
  connect_ok (client, server, MODE (data));
  g_assert_true (
      t_sendmail (client, "a@example.org", to, "hi\n", NULL, NULL, &refused, MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 2);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "c@example.org")), ==,
                    550);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "d@example.org")), ==,
                    452);
  reply = t_noop (client, MODE (data), &error);
  g_assert_cmpstr (mk_smtp_reply_get_text (reply), ==, "in step");
  mk_smtp_reply_unref (reply);
  reply = t_quit (client, MODE (data), &error);
  mk_smtp_reply_unref (reply);

  connect_ok (client, server, MODE (data));
  g_assert_false (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_HELO);
  g_clear_error (&error);
  reply = t_quit (client, MODE (data), &error);
  mk_smtp_reply_unref (reply);
  t_server_done (server);
}

/* §1.21 [L1]: the low-level mail(), rcpt(), data() of LMTP read one reply
 * per accepted recipient after the data, so the session stays in step
 * (smtplib reads one). */
static void
test_lmtp_lowlevel (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server_unix ("S: 220 lmtp ready\n"
                                                    "C: LHLO client.example\n"
                                                    "S: 250 lmtp\n"
                                                    "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                                                    "C: RCPT TO:<b@example.org>\nS: 250 ok\n"
                                                    "C: RCPT TO:<c@example.org>\nS: 550 no\n"
                                                    "C: RCPT TO:<d@example.org>\nS: 250 ok\n"
                                                    "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
                                                    "S: 250 b done\nS: 452 d full\n"
                                                    "C: NOOP\nS: 250 in step\n" QUIT);
  g_autoptr (MkSmtpClient) client = mk_lmtp_client_new ();
  g_autoptr (GError) error = NULL;
  MkSmtpReply *reply;

  g_object_set (client, "local-hostname", "client.example", NULL);
  connect_ok (client, server, MODE (data));
  g_assert_true (t_ehlo_or_helo_if_needed (client, MODE (data), &error));
  mk_smtp_reply_unref (t_mail (client, "a@example.org", NULL, MODE (data), &error));
  mk_smtp_reply_unref (t_rcpt (client, "b@example.org", NULL, MODE (data), &error));
  mk_smtp_reply_unref (t_rcpt (client, "c@example.org", NULL, MODE (data), &error));
  mk_smtp_reply_unref (t_rcpt (client, "d@example.org", NULL, MODE (data), &error));
  g_assert_no_error (error);
  reply = t_data (client, "hi\n", MODE (data), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mk_smtp_reply_get_code (reply), ==, 452);
  mk_smtp_reply_unref (reply);
  reply = t_noop (client, MODE (data), &error);
  g_assert_cmpstr (mk_smtp_reply_get_text (reply), ==, "in step");
  mk_smtp_reply_unref (reply);
  mk_smtp_reply_unref (t_quit (client, MODE (data), &error));
  t_server_done (server);
}

/* RFC 2033 with RFC 3030 (Dovecot's LMTP offers both): BDAT LAST answered
 * once per accepted recipient, pipelined with the envelope. */
static void
test_lmtp_bdat (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server_unix ("S: 220 lmtp ready\n"
                       "C: LHLO client.example\n"
                       "S: 250-lmtp\n"
                       "S: 250-PIPELINING\n"
                       "S: 250 CHUNKING\n"
                       "C: MAIL FROM:<a@example.org>\n"
                       "C: RCPT TO:<b@example.org>\n"
                       "C: RCPT TO:<c@example.org>\n"
                       "C: RCPT TO:<d@example.org>\n"
                       "C: BDAT 4 LAST\nC-BYTES: 4\n"
                       "S: 250 ok\nS: 250 ok\nS: 550 unknown\nS: 250 ok\n"
                       "S: 250 b delivered\nS: 552 d over quota\n" QUIT);
  const char *const to[] = { "b@example.org", "c@example.org", "d@example.org", NULL };
  g_autoptr (MkSmtpClient) client = mk_lmtp_client_new ();
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_object_set (client, "local-hostname", "client.example", NULL);
  connect_ok (client, server, MODE (data));
  g_assert_true (
      t_sendmail (client, "a@example.org", to, "hi\n", NULL, NULL, &refused, MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 2);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "c@example.org")), ==,
                    550);
  g_assert_cmpuint (mk_smtp_reply_get_code (g_hash_table_lookup (refused, "d@example.org")), ==,
                    552);
  reply = t_quit (client, MODE (data), &error);
  g_assert_no_error (error);
  t_server_done (server);
}

/* Issue 8, RFC 2920: with PIPELINING no more than MK_SMTP_PIPELINE_WINDOW
 * commands wait for a reply: the server below answers nothing until the
 * client stops writing, then one reply per further command. */
static void
test_pipeline_window (gconstpointer data)
{
  const guint n_recipients = 150;
  const guint n_commands = 1 + n_recipients + 1;
  g_autoptr (GString) script = g_string_new (GREETING "C: EHLO client.example\n"
                                                      "S: 250-mail.example\n"
                                                      "S: 250 PIPELINING\n"
                                                      "C: MAIL FROM:<a@example.org>\n");
  g_autoptr (GPtrArray) to = g_ptr_array_new_null_terminated (n_recipients, g_free, TRUE);
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  guint replied = 0;

  g_string_append_printf (script, "REPEAT %u C: RCPT TO:*\n", MK_SMTP_PIPELINE_WINDOW - 1);
  for (guint written = MK_SMTP_PIPELINE_WINDOW; written < n_commands; written++, replied++)
    g_string_append (script, written + 1 < n_commands ? "S: 250 ok\nC: RCPT TO:*\n"
                                                      : "S: 250 ok\nC: DATA\n");
  g_string_append_printf (script, "REPEAT %u S: 250 ok\n", n_commands - replied - 1);
  g_string_append (script, "S: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n" QUIT);
  for (guint i = 0; i < n_recipients; i++)
    g_ptr_array_add (to, g_strdup_printf ("r%u@example.org", i));
  server = t_server (script->str);

  connect_ok (client, server, MODE (data));
  g_assert_true (t_sendmail (client, "a@example.org", (const char *const *)to->pdata, "x\n", NULL,
                             NULL, &refused, MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  reply = t_quit (client, MODE (data), &error);
  t_server_done (server);
}

/* Progress: (bytes, total) with the message's size as total, on the
 * calling thread (sync) or the caller's context (async); 0 as total for a
 * stream. */
typedef struct
{
  GThread *thread;
  guint64 last_sent;
  guint64 last_total;
  guint count;
} Progress;

static void
on_progress (MkSmtpClient *client, guint64 sent, guint64 total, gpointer user_data)
{
  Progress *progress = user_data;

  g_assert_true (progress->thread == g_thread_self ());
  g_assert_cmpuint (sent, >=, progress->last_sent);
  progress->last_sent = sent;
  progress->last_total = total;
  progress->count++;
}

static void
test_progress (gconstpointer data)
{
  const gsize size = 300 * 1024;
  g_autofree char *message = g_malloc (size + 1);
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n"
                                      "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GInputStream) stream = NULL;
  Progress progress = { g_thread_self (), 0, 0, 0 };

  for (gsize i = 0; i < size; i++)
    message[i] = i % 100 == 99 ? '\n' : 'a' + (char)(i % 26);
  message[size] = '\0';
  g_signal_connect (client, "progress", G_CALLBACK (on_progress), &progress);
  connect_ok (client, server, MODE (data));
  g_assert_true (t_sendmail (client, "a@example.org", one_recipient, message, NULL, NULL, NULL,
                             MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (progress.count, >=, 4);
  g_assert_cmpuint (progress.last_sent, ==, size);
  g_assert_cmpuint (progress.last_total, ==, size);

  progress.last_sent = 0;
  stream = g_memory_input_stream_new_from_data (message, size, NULL);
  g_assert_true (t_sendmail_stream (client, "a@example.org", one_recipient, stream, NULL,
                                    MODE (data), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (progress.last_sent, ==, size);
  g_assert_cmpuint (progress.last_total, ==, 0);
  reply = t_quit (client, MODE (data), &error);
  t_server_done (server);
}

/* T50: opportunistic STARTTLS goes on in plaintext when the server does not
 * offer it, and upgrades (then EHLO again) when it does. */
static void
test_opportunistic (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n" QUIT
                                      "---\n" GREETING "C: EHLO client.example\n"
                                      "S: 250-mail.example\n"
                                      "S: 250 STARTTLS\n"
                                      "C: STARTTLS\nS: 220 go\nTLS\n" EHLO_PLAIN
                                      "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n" QUIT);
  g_autoptr (GError) error = NULL;

  for (int round = 0; round < 2; round++)
    {
      g_autoptr (MkSmtpClient) client = new_client ();
      g_autoptr (MkSmtpReply) reply = NULL;

      g_object_set (client, "tls-mode", MK_TLS_MODE_STARTTLS_OPPORTUNISTIC, "tls-ca-file",
                    mk_test_certs_get ()->ca_file, NULL);
      connect_ok (client, server, MODE (data));
      g_assert_true (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL,
                                 MODE (data), &error));
      g_assert_no_error (error);
      reply = t_quit (client, MODE (data), &error);
    }
  t_server_done (server);
}

/* F: a certificate for another name is refused during STARTTLS, and
 * nothing is sent after; tls-server-name picks the name to verify. */
static void
test_tls_verify (gconstpointer data)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 STARTTLS\n"
                                                        "C: STARTTLS\nS: 220 go\nTLS-REFUSED\n"
                                                        "---\n" GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 STARTTLS\n"
                                                        "C: STARTTLS\nS: 220 go\nTLS\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;

  g_object_set (client, "tls-ca-file", mk_test_certs_get ()->ca_file, "tls-server-name",
                "other.example", NULL);
  connect_ok (client, server, MODE (data));
  reply = t_starttls (client, MODE (data), &error);
  g_assert_null (reply);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_false (mk_smtp_client_is_connected (client));
  g_clear_error (&error);

  g_object_set (client, "tls-server-name", NULL, NULL);
  connect_ok (client, server, MODE (data));
  reply = t_starttls (client, MODE (data), &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = t_quit (client, MODE (data), &error);
  t_server_done (server);
}

/* T16: a 421 to EHLO closes, without HELO. */
static void
test_ehlo_421 (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: EHLO client.example\nS: 421 shutting down\nCLOSE\n");
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;

  connect_ok (client, server, MODE (data));
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_HELO);
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "EHLO client.example\r\n");
}

/* T7, T27: a multi-line greeting, every byte in its own segment, LF-only
 * line ends (T25: a bare CR in a reply is refused by the reply parser). */
static void
test_byte_by_byte (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server ("SPLIT 1\n"
                  "S: 220-mail.example\n"
                  "S: 220 ESMTP\n"
                  "C: EHLO client.example\n"
                  "R: 250-mail.example\\n250-PIPELINING\\n250 SIZE 100\\n\n"
                  "C: MAIL FROM:<a@example.org> SIZE=2\n"
                  "C: RCPT TO:<bob@example.org>\n"
                  "C: DATA\n"
                  "S: 250 ok\nS: 250 ok\nS: 354 go\n"
                  "DATA-UNTIL-DOT\n"
                  "R: 250 queued\\n\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  gboolean ok;

  connect_ok (client, server, MODE (data));
  g_assert_cmpstr (mk_smtp_reply_get_text (mk_smtp_client_get_last_reply (client)), ==,
                   "mail.example\nESMTP");
  ok = t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL, MODE (data),
                   &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (mk_smtp_reply_get_text (mk_smtp_client_get_last_reply (client)), ==, "queued");
  reply = t_quit (client, MODE (data), &error);
  t_server_done (server);
}

/* Issue 8: with PIPELINING and CHUNKING the envelope goes out with the
 * first chunk; refused recipients stop the body after that chunk, and RSET
 * ends the transaction (the session stays usable). */
static void
test_bdat_refused (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: EHLO client.example\n"
                           "S: 250-mail.example\n"
                           "S: 250-PIPELINING\n"
                           "S: 250 CHUNKING\n"
                           "C: MAIL FROM:<a@example.org>\n"
                           "C: RCPT TO:<bob@example.org>\n"
                           "C: BDAT 3 LAST\nC-BYTES: 3\n"
                           "S: 250 ok\nS: 550 no such user\nS: 554 no valid recipients\n"
                           "C: RSET\nS: 250 ok\n"
                           "C: MAIL FROM:<a@example.org>\n"
                           "C: RCPT TO:<bob@example.org>\n"
                           "C: BDAT 65536\nC-BYTES: 65536\n"
                           "S: 250 ok\nS: 550 no such user\nS: 554 no valid recipients\n"
                           "C: RSET\nS: 250 ok\n" QUIT);
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autofree char *big = g_strnfill (200 * 1000, 'x');

  for (gsize i = 99; i < 200 * 1000; i += 100)
    big[i] = '\n';
  connect_ok (client, server, MODE (data));
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, &refused,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  g_clear_error (&error);
  g_clear_pointer (&refused, g_hash_table_unref);
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, big, NULL, NULL, &refused,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED);
  g_assert_true (mk_smtp_client_is_connected (client));
  g_clear_error (&error);
  reply = t_quit (client, MODE (data), &error);
  g_assert_no_error (error);
  t_server_done (server);
}

/* T32, T34, T36: a silent server times out (G_IO_ERROR_TIMED_OUT) and the
 * session is closed; silence after the final dot is delivery unknown. */
static void
test_timeouts (gconstpointer data)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING "C: NOOP\nSTALL\n---\n" GREETING EHLO_PLAIN
                           "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                           "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                           "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nSTALL\n");
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  gint64 start;

  g_object_set (client, "timeout", 0.5 * mk_test_time_scale (), NULL);
  connect_ok (client, server, MODE (data));
  start = g_get_monotonic_time ();
  reply = t_noop (client, MODE (data), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * mk_test_time_scale ());
  g_assert_false (mk_smtp_client_is_connected (client));
  g_clear_error (&error);

  connect_ok (client, server, MODE (data));
  g_assert_false (t_sendmail (client, "a@example.org", one_recipient, "x\n", NULL, NULL, NULL,
                              MODE (data), &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN);
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
}

/* Issue 10: a second call while one runs is G_IO_ERROR_PENDING; progress
 * and trace arrive on the caller's context; cancelling closes. */
static void
count_progress (MkSmtpClient *client, guint64 sent, guint64 total, gpointer user_data)
{
  GThread **thread = user_data;

  g_assert_true (thread[0] == g_thread_self ());
  thread[1] = GINT_TO_POINTER (GPOINTER_TO_INT (thread[1]) + 1);
}

static void
test_async_rules (void)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\n"
                                      "S: 250 ok\n"
                                      "DRAIN\n");
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) message = g_bytes_new_static ("x\n", 2);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (MkSmtpReply) reply = NULL;
  gpointer thread[2] = { g_thread_self (), NULL };
  MkTestAsync async;

  connect_ok (client, server, MODE_ASYNC);
  g_signal_connect (client, "progress", G_CALLBACK (count_progress), thread);
  mk_test_async_init (&async);
  mk_smtp_client_sendmail_async (client, "a@example.org", one_recipient, message, NULL, NULL, NULL,
                                 mk_test_async_callback, &async);
  reply = mk_smtp_client_noop (client, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);
  g_assert_true (
      mk_smtp_client_sendmail_finish (client, mk_test_async_wait (&async), NULL, &error));
  g_assert_no_error (error);
  mk_test_async_clear (&async);
  g_assert_cmpint (GPOINTER_TO_INT (thread[1]), >=, 1);

  /* Cancelled while the server stalls: closed. */
  mk_test_async_init (&async);
  mk_smtp_client_noop_async (client, cancellable, mk_test_async_callback, &async);
  g_cancellable_cancel (cancellable);
  reply = mk_smtp_client_noop_finish (client, mk_test_async_wait (&async), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (mk_smtp_client_is_connected (client));
  mk_test_async_clear (&async);
  t_server_done (server);
}

/* The private transaction as send/ uses it: a failing body writer closes
 * the connection without the final dot, and what it wrote is not even
 * sent, as the data stream sends whole blocks (T87, T88). */
static gboolean
failing_writer (GOutputStream *stream, gpointer user_data, GCancellable *cancellable,
                GError **error)
{
  if (!g_output_stream_write_all (stream, "partial\n", 8, NULL, cancellable, error))
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the attachment went away");
  return FALSE;
}

static gboolean
step_failing (MkSmtpClient *client, gpointer data, GCancellable *cancellable, GError **error)
{
  return mk_smtp_client_run_transaction (client, "a@example.org", one_recipient, NULL, NULL, -1,
                                         failing_writer, NULL, NULL, cancellable, error);
}

static void
test_writer_failure (void)
{
  g_autoptr (MkFaultServer) server
      = t_server (GREETING EHLO_PLAIN "C: MAIL FROM:<a@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<bob@example.org>\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDRAIN\n");
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;

  connect_ok (client, server, MODE_SYNC);
  g_assert_false (mk_smtp_client_run_step (client, step_failing, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
                   "RCPT TO:<bob@example.org>\r\nDATA\r\n");
}

/* In a pipeline a small body is written into memory while the envelope's
 * replies are on their way: a writer failing then fails the transaction
 * when its body is due, the same way (closed, no byte of the body, no
 * terminator). */
static void
failing_done (gpointer user_data, MkSmtpOutcome outcome, GHashTable *refused, MkSmtpReply *reply,
              const GError *error)
{
  GError **copy = user_data;

  g_assert_null (*copy);
  g_assert_nonnull (error);
  /* A body that cannot be read is no network failure: a retry would
   * fail the same way. */
  g_assert_cmpint (outcome, ==, MK_SMTP_OUTCOME_REFUSED);
  *copy = g_error_copy (error);
}

static gboolean
step_failing_in_pipeline (MkSmtpClient *client, gpointer data, GCancellable *cancellable,
                          GError **error)
{
  const MkSmtpTransactionRequest request = { .from = "a@example.org",
                                             .to = one_recipient,
                                             .size = 100,
                                             .write_body = failing_writer };
  MkSmtpPipeline *pipeline = mk_smtp_pipeline_new (client, NULL, NULL);

  mk_smtp_pipeline_add (pipeline, &request, failing_done, data, cancellable);
  mk_smtp_pipeline_finish (pipeline, cancellable);
  return TRUE;
}

static void
test_writer_failure_in_pipeline (void)
{
  g_autoptr (MkFaultServer) server = t_server (GREETING "C: EHLO client.example\n"
                                                        "S: 250-mail.example\n"
                                                        "S: 250 PIPELINING\n"
                                                        "C: MAIL FROM:<a@example.org>\n"
                                                        "C: RCPT TO:<bob@example.org>\n"
                                                        "C: DATA\n"
                                                        "S: 250 ok\nS: 250 ok\nS: 354 go\n"
                                                        "DRAIN\n");
  g_autoptr (MkSmtpClient) client = new_client ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) failure = NULL;

  connect_ok (client, server, MODE_SYNC);
  g_assert_true (mk_smtp_client_ehlo_or_helo_if_needed (client, NULL, &error));
  g_assert_true (
      mk_smtp_client_run_step (client, step_failing_in_pipeline, &failure, NULL, &error));
  g_assert_no_error (error);
  g_assert_error (failure, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (failure->message, ==, "the attachment went away");
  g_assert_false (mk_smtp_client_is_connected (client));
  t_server_done (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
                   "RCPT TO:<bob@example.org>\r\nDATA\r\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  t_add ("connect-ehlo-quit", test_connect_ehlo_quit);
  t_add ("greeting-refused", test_greeting_refused);
  t_add ("not-connected", test_not_connected);
  t_add ("helo-fallback", test_helo_fallback);
  t_add ("simple-commands", test_simple_commands);
  t_add ("injection-refused", test_injection_refused);
  t_add ("sendmail-basic", test_sendmail_basic);
  t_add ("recipients", test_recipients);
  t_add ("recipients-pipelined", test_recipients_pipelined);
  t_add ("stage-replies", test_stage_replies);
  t_add ("bad-replies", test_bad_replies);
  t_add ("lost-after-dot", test_lost_after_dot);
  t_add ("refused-before-mail", test_refused_before_mail);
  t_add ("smtputf8-automatic", test_smtputf8_automatic);
  t_add ("bdat", test_bdat);
  t_add ("auth", test_auth);
  t_add ("auth-xoauth2", test_auth_xoauth2);
  t_add ("debuglevel", test_debuglevel);
  t_add ("starttls", test_starttls);
  t_add ("implicit-tls", test_implicit_tls);
  t_add ("quit-lost", test_quit_lost);
  t_add ("quit-refused", test_quit_refused);
  t_add ("lmtp", test_lmtp);
  t_add ("lmtp-bdat", test_lmtp_bdat);
  t_add ("lmtp-lowlevel", test_lmtp_lowlevel);
  t_add ("pipeline-window", test_pipeline_window);
  t_add ("progress", test_progress);
  t_add ("opportunistic", test_opportunistic);
  t_add ("tls-verify", test_tls_verify);
  t_add ("ehlo-421", test_ehlo_421);
  t_add ("byte-by-byte", test_byte_by_byte);
  t_add ("bdat-refused", test_bdat_refused);
  t_add ("timeouts", test_timeouts);
  g_test_add_func ("/client/async-rules", test_async_rules);
  g_test_add_func ("/client/writer-failure", test_writer_failure);
  g_test_add_func ("/client/writer-failure-in-pipeline", test_writer_failure_in_pipeline);
  return g_test_run ();
}
