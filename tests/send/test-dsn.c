/* test-dsn.c: DSN (RFC 3461), REQUIRETLS (RFC 8689) and BINARYMIME
 * (RFC 3030) against the scripted fault server, which records the exact
 * commands sent
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "libmailkit/send/mk-envelope-private.h"
#include "libmailkit/smtp/mk-smtp-client-private.h"
#include "mk-test-fault-server.h"
#include "mk-test-send-util.h"
#include "mk-test-utils.h"

#define GREETING "S: 220 fault.example ESMTP\n"

#define EHLO_DSN "C: EHLO *\nS: 250-fault.example\nS: 250-PIPELINING\nS: 250 DSN\n"
#define EHLO_PLAIN "C: EHLO *\nS: 250-fault.example\nS: 250 PIPELINING\n"
#define QUIT "C: QUIT\nS: 221 bye\nCLOSE\n"
#define MESSAGE_TEXT                                                                               \
  "From: Sender <s@example.org>\r\nTo: a@example.org, b@example.org\r\n"                           \
  "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n"                       \
  "Subject: dsn\r\n\r\nhello\r\n"

/* ---- the envelope API --------------------------------------------------- */

static MkEnvelope *
new_envelope (void)
{
  g_autoptr (MkEnvelope) envelope = NULL;
  g_autoptr (GError) error = NULL;

  envelope = mk_envelope_new ("s@example.org", &error);
  g_assert_no_error (error);
  g_assert_true (mk_envelope_add_recipient (envelope, "a@example.org", &error));
  g_assert_true (mk_envelope_add_recipient (envelope, "b@Example.ORG", &error));
  g_assert_no_error (error);
  return g_steal_pointer (&envelope);
}

/* The RCPT parameters of @recipient joined by spaces ("" for none). */
static char *
rcpt_parameters (const MkEnvelope *envelope, const char *recipient)
{
  g_auto (GStrv) parameters = mk_envelope_get_dsn_rcpt_parameters (envelope, recipient);

  return parameters != NULL ? g_strjoinv (" ", parameters) : g_strdup ("");
}

static char *
mail_parameters (const MkEnvelope *envelope)
{
  g_autoptr (GPtrArray) parameters = g_ptr_array_new_null_terminated (4, g_free, TRUE);

  mk_envelope_add_dsn_mail_parameters (envelope, parameters);
  return g_strjoinv (" ", (char **)parameters->pdata);
}

static void
test_envelope_notify (void)
{
  static const MkDsnNotify refused[] = {
    MK_DSN_NOTIFY_NEVER | MK_DSN_NOTIFY_SUCCESS,
    MK_DSN_NOTIFY_NEVER | MK_DSN_NOTIFY_FAILURE,
    MK_DSN_NOTIFY_NEVER | MK_DSN_NOTIFY_DELAY,
    MK_DSN_NOTIFY_NEVER | MK_DSN_NOTIFY_SUCCESS | MK_DSN_NOTIFY_FAILURE | MK_DSN_NOTIFY_DELAY,
    1 << 7,
  };
  g_autoptr (MkEnvelope) envelope = new_envelope ();
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  g_assert_false (mk_envelope_has_dsn (envelope));
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_assert_false (mk_envelope_set_dsn_notify (envelope, NULL, refused[i], &error));
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
      g_clear_error (&error);
      g_assert_false (mk_envelope_set_dsn_notify (envelope, "a@example.org", refused[i], &error));
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
      g_clear_error (&error);
    }
  g_assert_false (mk_envelope_has_dsn (envelope));

  /* Envelope-wide, then one recipient (named in another spelling of its
   * domain) overriding it; the flags go out in a fixed order. */
  g_assert_true (mk_envelope_set_dsn_notify (envelope, NULL,
                                             MK_DSN_NOTIFY_DELAY | MK_DSN_NOTIFY_FAILURE, &error));
  g_assert_true (
      mk_envelope_set_dsn_notify (envelope, "b@example.org", MK_DSN_NOTIFY_NEVER, &error));
  g_assert_no_error (error);
  g_assert_true (mk_envelope_has_dsn (envelope));
  g_assert_cmpint (mk_envelope_get_dsn_notify (envelope, "a@example.org"), ==,
                   MK_DSN_NOTIFY_FAILURE | MK_DSN_NOTIFY_DELAY);
  g_assert_cmpint (mk_envelope_get_dsn_notify (envelope, "b@EXAMPLE.org"), ==, MK_DSN_NOTIFY_NEVER);
  a = rcpt_parameters (envelope, "a@example.org");
  b = rcpt_parameters (envelope, "b@example.org");
  g_assert_cmpstr (a, ==, "NOTIFY=FAILURE,DELAY");
  g_assert_cmpstr (b, ==, "NOTIFY=NEVER");

  /* DEFAULT for one recipient: the envelope-wide setting again. */
  g_assert_true (
      mk_envelope_set_dsn_notify (envelope, "b@example.org", MK_DSN_NOTIFY_DEFAULT, &error));
  g_assert_cmpint (mk_envelope_get_dsn_notify (envelope, "b@example.org"), ==,
                   MK_DSN_NOTIFY_FAILURE | MK_DSN_NOTIFY_DELAY);
  /* The envelope-wide setting forgets those of single recipients. */
  g_assert_true (
      mk_envelope_set_dsn_notify (envelope, "a@example.org", MK_DSN_NOTIFY_SUCCESS, &error));
  g_assert_true (mk_envelope_set_dsn_notify (envelope, NULL, MK_DSN_NOTIFY_DEFAULT, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mk_envelope_get_dsn_notify (envelope, "a@example.org"), ==,
                   MK_DSN_NOTIFY_DEFAULT);
  g_assert_null (mk_envelope_get_dsn_rcpt_parameters (envelope, "a@example.org"));
  g_assert_false (mk_envelope_has_dsn (envelope));
}

static void
test_envelope_unknown_recipient (void)
{
  g_autoptr (MkEnvelope) envelope = new_envelope ();
  g_autoptr (GError) error = NULL;

  g_assert_false (
      mk_envelope_set_dsn_notify (envelope, "c@example.org", MK_DSN_NOTIFY_SUCCESS, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mk_envelope_set_dsn_orcpt (envelope, "c@example.org", "c@example.org", &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  /* The local part is compared exactly (RFC 5321 §2.4). */
  g_assert_false (mk_envelope_set_dsn_orcpt (envelope, "A@example.org", "x@example.org", &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (mk_envelope_has_dsn (envelope));
  g_assert_null (mk_envelope_get_dsn_orcpt (envelope, "c@example.org"));
}

static void
test_envelope_orcpt (void)
{
  g_autoptr (MkEnvelope) envelope = new_envelope ();
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  /* xtext: "+" and "=" and anything outside "!".."~" as +XX (RFC 3461
   * §4); a non-ASCII address in the utf-8 form (RFC 6533 §3). */
  g_assert_true (
      mk_envelope_set_dsn_orcpt (envelope, "a@example.org", "Old <x+y=z@example.org>", &error));
  g_assert_true (mk_envelope_set_dsn_orcpt (envelope, "b@example.org", "jörg@example.org", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mk_envelope_get_dsn_orcpt (envelope, "a@example.org"), ==,
                   "Old <x+y=z@example.org>");
  a = rcpt_parameters (envelope, "a@example.org");
  b = rcpt_parameters (envelope, "b@example.org");
  g_assert_cmpstr (a, ==, "ORCPT=rfc822;x+2By+3Dz@example.org");
  g_assert_cmpstr (b, ==, "ORCPT=utf-8;j\\x{F6}rg@example.org");

  /* CR, LF and other control characters, lists: refused, the old value
   * kept. (A C string cannot hold NUL; bindings stop at it.) */
  {
    static const char *const bad[] = {
      "x@example.org\r\nRCPT TO:<evil@example.org>",
      "x@example.org\n",
      "x\r@example.org",
      "x\t@example.org",
      "x@example.org, y@example.org",
      "@relay.example:x@example.org",
    };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_assert_false (mk_envelope_set_dsn_orcpt (envelope, "a@example.org", bad[i], &error));
        g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
        g_clear_error (&error);
      }
  }
  g_assert_cmpstr (mk_envelope_get_dsn_orcpt (envelope, "a@example.org"), ==,
                   "Old <x+y=z@example.org>");
  g_assert_true (mk_envelope_set_dsn_orcpt (envelope, "a@example.org", NULL, &error));
  g_assert_null (mk_envelope_get_dsn_orcpt (envelope, "a@example.org"));
  g_assert_null (mk_envelope_get_dsn_rcpt_parameters (envelope, "a@example.org"));
}

static void
test_envelope_envid_and_ret (void)
{
  static const char *const bad[] = {
    "", "id\r\nRSET", "id\n", "id\r", "tab\there", "non-ascii-é",
  };
  g_autoptr (MkEnvelope) envelope = new_envelope ();
  g_autoptr (GError) error = NULL;
  g_autofree char *limit = g_strnfill (100, 'x');
  g_autofree char *over = g_strnfill (101, 'x');
  g_autofree char *mail = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (mk_envelope_set_dsn_envid (envelope, bad[i], &error));
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
      g_clear_error (&error);
    }
  /* RFC 3461 §4.4: at most 100 characters. */
  g_assert_false (mk_envelope_set_dsn_envid (envelope, over, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (mk_envelope_set_dsn_envid (envelope, limit, &error));
  g_assert_cmpstr (mk_envelope_get_dsn_envid (envelope), ==, limit);
  g_assert_true (mk_envelope_set_dsn_envid (envelope, "batch 7+id=3", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mk_envelope_get_dsn_envid (envelope), ==, "batch 7+id=3");

  g_assert_cmpint (mk_envelope_get_dsn_return (envelope), ==, MK_DSN_RETURN_DEFAULT);
  mail = mail_parameters (envelope);
  g_assert_cmpstr (mail, ==, "ENVID=batch+207+2Bid+3D3");
  g_clear_pointer (&mail, g_free);
  mk_envelope_set_dsn_return (envelope, MK_DSN_RETURN_HEADERS);
  mail = mail_parameters (envelope);
  g_assert_cmpstr (mail, ==, "RET=HDRS ENVID=batch+207+2Bid+3D3");
  g_clear_pointer (&mail, g_free);
  mk_envelope_set_dsn_return (envelope, MK_DSN_RETURN_FULL);
  g_assert_true (mk_envelope_set_dsn_envid (envelope, NULL, &error));
  mail = mail_parameters (envelope);
  g_assert_cmpstr (mail, ==, "RET=FULL");
  g_assert_cmpint (mk_envelope_get_dsn_return (envelope), ==, MK_DSN_RETURN_FULL);
}

static void
test_envelope_copy (void)
{
  g_autoptr (MkEnvelope) envelope = new_envelope ();
  g_autoptr (MkEnvelope) copy = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  g_assert_true (mk_envelope_set_dsn_notify (envelope, NULL, MK_DSN_NOTIFY_FAILURE, &error));
  g_assert_true (
      mk_envelope_set_dsn_notify (envelope, "a@example.org", MK_DSN_NOTIFY_SUCCESS, &error));
  g_assert_true (mk_envelope_set_dsn_orcpt (envelope, "b@example.org", "o@example.org", &error));
  g_assert_true (mk_envelope_set_dsn_envid (envelope, "id-1", &error));
  g_assert_no_error (error);
  mk_envelope_set_dsn_return (envelope, MK_DSN_RETURN_HEADERS);
  mk_envelope_set_dsn_required (envelope, TRUE);
  mk_envelope_set_require_tls (envelope, TRUE);

  copy = mk_envelope_copy (envelope);
  /* Changing the original afterwards does not reach the copy. */
  g_assert_true (mk_envelope_set_dsn_notify (envelope, NULL, MK_DSN_NOTIFY_NEVER, &error));
  g_assert_true (mk_envelope_set_dsn_orcpt (envelope, "b@example.org", NULL, &error));
  g_clear_pointer (&envelope, mk_envelope_free);

  g_assert_cmpint (mk_envelope_get_dsn_notify (copy, NULL), ==, MK_DSN_NOTIFY_FAILURE);
  g_assert_cmpint (mk_envelope_get_dsn_notify (copy, "a@example.org"), ==, MK_DSN_NOTIFY_SUCCESS);
  g_assert_cmpstr (mk_envelope_get_dsn_orcpt (copy, "b@example.org"), ==, "o@example.org");
  g_assert_cmpstr (mk_envelope_get_dsn_envid (copy), ==, "id-1");
  g_assert_cmpint (mk_envelope_get_dsn_return (copy), ==, MK_DSN_RETURN_HEADERS);
  g_assert_true (mk_envelope_get_dsn_required (copy));
  g_assert_true (mk_envelope_get_require_tls (copy));
  a = rcpt_parameters (copy, "a@example.org");
  b = rcpt_parameters (copy, "b@example.org");
  g_assert_cmpstr (a, ==, "NOTIFY=SUCCESS");
  g_assert_cmpstr (b, ==, "NOTIFY=FAILURE ORCPT=rfc822;o@example.org");
  /* A recipient added to the copy later follows the envelope-wide one. */
  g_assert_true (mk_envelope_add_recipient (copy, "c@example.org", &error));
  g_assert_no_error (error);
  g_assert_cmpint (mk_envelope_get_dsn_notify (copy, "c@example.org"), ==, MK_DSN_NOTIFY_FAILURE);
}

static void
test_envelope_boxed (void)
{
  g_autoptr (MkEnvelope) envelope = new_envelope ();
  g_autoptr (MkEnvelope) copy = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_type_is_a (mk_dsn_notify_get_type (), G_TYPE_FLAGS));
  g_assert_true (g_type_is_a (mk_dsn_return_get_type (), G_TYPE_ENUM));
  g_assert_true (mk_envelope_set_dsn_envid (envelope, "boxed", &error));
  copy = g_boxed_copy (MK_TYPE_ENVELOPE, envelope);
  g_assert_cmpstr (mk_envelope_get_dsn_envid (copy), ==, "boxed");
}

/* ---- the transaction's per-recipient parameters --------------------------- */

static gboolean
write_hello (GOutputStream *stream, gpointer user_data, GCancellable *cancellable, GError **error)
{
  return g_output_stream_write_all (stream, "Subject: x\r\n\r\nhello\r\n", 21, NULL, cancellable,
                                    error);
}

static gboolean
step_per_recipient (MkSmtpClient *client, gpointer data, GCancellable *cancellable, GError **error)
{
  static const char *const to[]
      = { "a@example.org", "b@example.org", "a@example.org", "c@example.org", NULL };
  static const char *const a[] = { "NOTIFY=NEVER", NULL };
  static const char *const b[] = { "NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;b@example.org", NULL };
  static const char *const again[] = { "NOTIFY=DELAY", NULL };
  static const char *const *const own[] = { a, b, again, NULL };
  static const char *const every[] = { "X-EVERY", NULL };

  return mk_smtp_client_run_transaction_full (client, "s@example.org", to, NULL, every, own, -1,
                                              write_hello, NULL, NULL, cancellable, error);
}

static void
test_per_recipient_options (void)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new (GREETING "C: EHLO *\nS: 250-fault.example\nS: 250 DSN\n"
                                      "C: MAIL FROM:<s@example.org>\nS: 250 ok\n"
                                      "C: RCPT TO:<a@example.org> X-EVERY NOTIFY=NEVER\nS: 250 ok\n"
                                      "C: RCPT TO:<b@example.org> X-EVERY NOTIFY=SUCCESS,FAILURE "
                                      "ORCPT=rfc822;b@example.org\nS: 250 ok\n"
                                      "C: RCPT TO:<c@example.org> X-EVERY\nS: 250 ok\n"
                                      "C: DATA\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 ok\n"
                                      "C: QUIT\nS: 221 bye\nCLOSE\n",
                             NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GError) error = NULL;

  g_assert_true (mk_smtp_client_run_step (client, step_per_recipient, NULL, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* ---- send_message_full --------------------------------------------------- */

/* An envelope with every DSN parameter: xtext needed in ENVID (space, "+",
 * "=") and ORCPT. */
static MkEnvelope *
dsn_envelope (gboolean required)
{
  g_autoptr (MkEnvelope) envelope = new_envelope ();
  g_autoptr (GError) error = NULL;

  g_assert_true (mk_envelope_set_dsn_notify (
      envelope, NULL, MK_DSN_NOTIFY_SUCCESS | MK_DSN_NOTIFY_FAILURE, &error));
  g_assert_true (
      mk_envelope_set_dsn_notify (envelope, "b@example.org", MK_DSN_NOTIFY_NEVER, &error));
  g_assert_true (mk_envelope_set_dsn_orcpt (envelope, "a@example.org", "x+1@example.org", &error));
  g_assert_true (mk_envelope_set_dsn_envid (envelope, "id 1+2=3", &error));
  g_assert_no_error (error);
  mk_envelope_set_dsn_return (envelope, MK_DSN_RETURN_HEADERS);
  mk_envelope_set_dsn_required (envelope, required);
  return g_steal_pointer (&envelope);
}

/* Sends MESSAGE_TEXT with @envelope (sync or @async) to the scripted
 * server running @script, over @tls_mode. With @code >= 0 the call must
 * fail with that MK_SMTP_ERROR code and a message holding @reason; else it
 * must succeed. The client then quits, and the script must have held. */
static void
send_scripted (const char *script, MkTlsMode tls_mode, const MkEnvelope *envelope, gboolean async,
               int code, const char *reason)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, tls_mode);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (MESSAGE_TEXT);
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!async)
    ok = mk_smtp_client_send_message_full (client, message, envelope, &refused, NULL, &error);
  else
    {
      MkTestAsync wait;

      mk_test_async_init (&wait);
      mk_smtp_client_send_message_full_async (client, message, envelope, NULL,
                                              mk_test_async_callback, &wait);
      ok = mk_smtp_client_send_message_full_finish (client, mk_test_async_wait (&wait), &refused,
                                                    &error);
      mk_test_async_clear (&wait);
    }
  if (code < 0)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  else
    {
      g_assert_error (error, MK_SMTP_ERROR, code);
      g_assert_false (ok);
      g_assert_nonnull (strstr (error->message, reason));
    }
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

#define SUCCESS -1

static void
test_send_dsn_offered (gconstpointer data)
{
  g_autoptr (MkEnvelope) envelope = dsn_envelope (TRUE);

  send_scripted (GREETING EHLO_DSN "C: MAIL FROM:<s@example.org> RET=HDRS ENVID=id+201+2B2+3D3\n"
                                   "C: RCPT TO:<a@example.org> NOTIFY=SUCCESS,FAILURE "
                                   "ORCPT=rfc822;x+2B1@example.org\n"
                                   "C: RCPT TO:<b@example.org> NOTIFY=NEVER\n"
                                   "C: DATA\n"
                                   "S: 250 2.1.0 ok\nS: 250 2.1.5 ok\nS: 250 2.1.5 ok\nS: 354 go\n"
                                   "DATA-UNTIL-DOT\nS: 250 2.0.0 queued\n" QUIT,
                 MK_TLS_MODE_NONE, envelope, GPOINTER_TO_INT (data), SUCCESS, NULL);
}

#define ACCEPT_TWO                                                                                 \
  "C: RCPT TO:<a@example.org>\nC: RCPT TO:<b@example.org>\nC: DATA\n"                              \
  "S: 250 ok\nS: 250 ok\nS: 250 ok\nS: 354 go\nDATA-UNTIL-DOT\nS: 250 queued\n"

/* No DSN offered, not required: the parameters are dropped. */
static void
test_send_dsn_dropped (void)
{
  g_autoptr (MkEnvelope) envelope = dsn_envelope (FALSE);

  send_scripted (GREETING EHLO_PLAIN "C: MAIL FROM:<s@example.org>\n" ACCEPT_TWO QUIT,
                 MK_TLS_MODE_NONE, envelope, FALSE, SUCCESS, NULL);
}

/* No DSN offered, required: refused before MAIL, the session still
 * usable. */
static void
test_send_dsn_required (gconstpointer data)
{
  g_autoptr (MkEnvelope) envelope = dsn_envelope (TRUE);

  send_scripted (GREETING EHLO_PLAIN QUIT, MK_TLS_MODE_NONE, envelope, GPOINTER_TO_INT (data),
                 MK_SMTP_ERROR_NOT_SUPPORTED, "DSN");
}

/* A NULL envelope takes sender and recipients from the message; the raw
 * options of send_message() still go out as given. */
static void
test_send_envelope_from_message (void)
{
  static const char *const mail_options[] = { "RET=FULL", NULL };
  static const char *const rcpt_options[] = { "NOTIFY=DELAY", NULL };
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new (GREETING EHLO_DSN "C: MAIL FROM:<s@example.org>\n" ACCEPT_TWO
                                               "C: MAIL FROM:<s@example.org> RET=FULL\n"
                                               "C: RCPT TO:<a@example.org> NOTIFY=DELAY\n"
                                               "C: RCPT TO:<b@example.org> NOTIFY=DELAY\n"
                                               "C: DATA\n"
                                               "S: 250 ok\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
                                               "DATA-UNTIL-DOT\nS: 250 queued\n" QUIT,
                             NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (MESSAGE_TEXT);
  g_autoptr (GError) error = NULL;

  g_assert_true (mk_smtp_client_send_message_full (client, message, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mk_smtp_client_send_message (client, message, NULL, NULL, mail_options,
                                              rcpt_options, NULL, NULL, &error));
  g_assert_no_error (error);
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* ---- REQUIRETLS (RFC 8689) ------------------------------------------------ */

#define STARTTLS_TO(capabilities)                                                                  \
  GREETING "C: EHLO *\nS: 250-fault.example\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go\nTLS\n"       \
           "C: EHLO *\nS: 250-fault.example\n" capabilities

static MkEnvelope *
requiretls_envelope (void)
{
  g_autoptr (MkEnvelope) envelope = new_envelope ();

  mk_envelope_set_require_tls (envelope, TRUE);
  return g_steal_pointer (&envelope);
}

/* No real peer offers REQUIRETLS (Postfix 3.7 does not): the scripted
 * server does, over STARTTLS. */
static void
test_requiretls_over_tls (gconstpointer data)
{
  g_autoptr (MkEnvelope) envelope = requiretls_envelope ();

  send_scripted (
      STARTTLS_TO ("S: 250-PIPELINING\nS: 250 REQUIRETLS\n") "C: MAIL FROM:<s@example.org> "
                                                             "REQUIRETLS\n" ACCEPT_TWO QUIT,
      MK_TLS_MODE_STARTTLS, envelope, GPOINTER_TO_INT (data), SUCCESS, NULL);
}

/* Over TLS, not offered: refused before MAIL, never downgraded. */
static void
test_requiretls_not_offered (void)
{
  g_autoptr (MkEnvelope) envelope = requiretls_envelope ();

  send_scripted (STARTTLS_TO ("S: 250 PIPELINING\n") QUIT, MK_TLS_MODE_STARTTLS, envelope, FALSE,
                 MK_SMTP_ERROR_NOT_SUPPORTED, "does not offer");
}

/* Over TLS whose certificate is not verified: not what RFC 8689 §4.1
 * asks for, refused before MAIL. */
static void
test_requiretls_unverified (void)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new (STARTTLS_TO ("S: 250-PIPELINING\nS: 250 REQUIRETLS\n") QUIT, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_STARTTLS);
  g_autoptr (GMimeMessage) message = mk_test_send_parse_message (MESSAGE_TEXT);
  g_autoptr (MkEnvelope) envelope = requiretls_envelope ();
  g_autoptr (GError) error = NULL;

  g_object_set (client, "tls-insecure-skip-verify", TRUE, NULL);
  g_assert_false (mk_smtp_client_send_message_full (client, message, envelope, NULL, NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "not verified"));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

/* Offered on a plaintext session (a server that lies, or a man in the
 * middle): refused before MAIL too. */
static void
test_requiretls_plaintext (void)
{
  g_autoptr (MkEnvelope) envelope = requiretls_envelope ();

  send_scripted (GREETING "C: EHLO *\nS: 250-fault.example\nS: 250 REQUIRETLS\n" QUIT,
                 MK_TLS_MODE_NONE, envelope, FALSE, MK_SMTP_ERROR_NOT_SUPPORTED,
                 "not protected by TLS");
}

/* REQUIRETLS among the raw MAIL parameters of sendmail() is held to the
 * same rule as the envelope's: on a plaintext session it never goes out. */
static void
test_requiretls_raw_option_plaintext (void)
{
  static const char *const to[] = { "a@example.org", NULL };
  static const char *const mail_options[] = { "REQUIRETLS", NULL };
  g_autoptr (MkFaultServer) server = mk_fault_server_new (
      GREETING "C: EHLO *\nS: 250-fault.example\nS: 250 REQUIRETLS\n" QUIT, NULL);
  g_autoptr (MkSmtpClient) client = mk_test_send_connect (server, MK_TLS_MODE_NONE);
  g_autoptr (GBytes) message = g_bytes_new_static (MESSAGE_TEXT, strlen (MESSAGE_TEXT));
  g_autoptr (GError) error = NULL;

  g_assert_false (mk_smtp_client_sendmail (client, "s@example.org", to, message, mail_options,
                                           NULL, NULL, NULL, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "not protected by TLS"));
  mk_test_send_quit (client);
  mk_test_send_assert_server_happy (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mk_init ();

  g_test_add_func ("/dsn/envelope/notify", test_envelope_notify);
  g_test_add_func ("/dsn/envelope/unknown-recipient", test_envelope_unknown_recipient);
  g_test_add_func ("/dsn/envelope/orcpt", test_envelope_orcpt);
  g_test_add_func ("/dsn/envelope/envid-and-ret", test_envelope_envid_and_ret);
  g_test_add_func ("/dsn/envelope/copy", test_envelope_copy);
  g_test_add_func ("/dsn/envelope/boxed", test_envelope_boxed);
  g_test_add_func ("/dsn/transaction/per-recipient", test_per_recipient_options);
  g_test_add_data_func ("/dsn/send/offered/sync", GINT_TO_POINTER (FALSE), test_send_dsn_offered);
  g_test_add_data_func ("/dsn/send/offered/async", GINT_TO_POINTER (TRUE), test_send_dsn_offered);
  g_test_add_func ("/dsn/send/not-offered-dropped", test_send_dsn_dropped);
  g_test_add_data_func ("/dsn/send/not-offered-required/sync", GINT_TO_POINTER (FALSE),
                        test_send_dsn_required);
  g_test_add_data_func ("/dsn/send/not-offered-required/async", GINT_TO_POINTER (TRUE),
                        test_send_dsn_required);
  g_test_add_func ("/dsn/send/envelope-from-message", test_send_envelope_from_message);
  g_test_add_data_func ("/dsn/requiretls/over-tls/sync", GINT_TO_POINTER (FALSE),
                        test_requiretls_over_tls);
  g_test_add_data_func ("/dsn/requiretls/over-tls/async", GINT_TO_POINTER (TRUE),
                        test_requiretls_over_tls);
  g_test_add_func ("/dsn/requiretls/not-offered", test_requiretls_not_offered);
  g_test_add_func ("/dsn/requiretls/unverified", test_requiretls_unverified);
  g_test_add_func ("/dsn/requiretls/plaintext", test_requiretls_plaintext);
  g_test_add_func ("/dsn/requiretls/raw-option-plaintext", test_requiretls_raw_option_plaintext);
  return g_test_run ();
}
