/* test-sasl.c: our SASL client side against GNU SASL's server side, run in
 * process, and fixed vectors for the OAuth mechanisms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gsasl.h>
#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/smtp/mk-sasl-session-private.h"
#include "libmailkit/smtp/mk-smtp-command-private.h"
#include "mk-test-utils.h"

/* More rounds than any mechanism here needs: the test's own loop bound. */
#define EXCHANGE_MAX_ROUNDS 20

typedef struct
{
  const char *user;
  const char *password;
} Account;

static int
server_callback (Gsasl *context, Gsasl_session *session, Gsasl_property property)
{
  const Account *account = gsasl_callback_hook_get (context);
  const char *authid = gsasl_property_fast (session, GSASL_AUTHID);
  const char *password = gsasl_property_fast (session, GSASL_PASSWORD);

  switch (property)
    {
    case GSASL_PASSWORD:
      if (authid == NULL || strcmp (authid, account->user) != 0)
        return GSASL_AUTHENTICATION_ERROR;
      return gsasl_property_set (session, GSASL_PASSWORD, account->password);
    case GSASL_VALIDATE_SIMPLE:
      return authid != NULL && password != NULL && strcmp (authid, account->user) == 0
                     && strcmp (password, account->password) == 0
                 ? GSASL_OK
                 : GSASL_AUTHENTICATION_ERROR;
    default:
      return GSASL_NO_CALLBACK;
    }
}

typedef struct
{
  char *auth_line;   /* what the client sent first */
  GPtrArray *sent;   /* every response line the client sent */
  int server_result; /* GSASL_OK when the server accepted */
  GError *client_error;
} Exchange;

static void
exchange_clear (Exchange *e)
{
  g_free (e->auth_line);
  g_ptr_array_unref (e->sent);
  g_clear_error (&e->client_error);
}

/* Plays the server of RFC 4954 with GNU SASL: each server output becomes a
 * 334 challenge, the client's answer the next input; a final server output
 * (SCRAM's server-final) is one more 334 the client must accept with an
 * empty line. With @tamper_final, that last message is replaced by a
 * forged one. */
static void
run_exchange (MkSaslSession *client, const Account *account, gboolean tamper_final, Exchange *e)
{
  Gsasl *context = NULL;
  Gsasl_session *server = NULL;
  g_autofree char *input = NULL;
  const char *mechanism = mk_sasl_session_get_mechanism (client);
  gsize prefix;

  memset (e, 0, sizeof *e);
  e->sent = g_ptr_array_new_with_free_func (g_free);
  e->server_result = GSASL_NEEDS_MORE;

  g_assert_cmpint (gsasl_init (&context), ==, GSASL_OK);
  gsasl_callback_set (context, server_callback);
  gsasl_callback_hook_set (context, (gpointer)account);
  g_assert_cmpint (gsasl_server_start (context, mechanism, &server), ==, GSASL_OK);
  gsasl_property_set (server, GSASL_SERVICE, "smtp");
  gsasl_property_set (server, GSASL_HOSTNAME, "localhost");

  e->auth_line = mk_sasl_session_start (client, &e->client_error);
  g_assert_no_error (e->client_error);
  prefix = strlen ("AUTH ") + strlen (mechanism);
  g_assert_true (g_str_has_prefix (e->auth_line, "AUTH "));
  if (e->auth_line[prefix] == ' ')
    input
        = g_strdup (strcmp (e->auth_line + prefix + 1, "=") == 0 ? "" : e->auth_line + prefix + 1);
  else
    input = g_strdup ("");

  for (int round = 0; round < EXCHANGE_MAX_ROUNDS; round++)
    {
      char *output = NULL;
      char *response;
      int rc = gsasl_step64 (server, input, &output);

      if (rc == GSASL_OK && tamper_final && output != NULL && *output != '\0')
        {
          gsasl_free (output);
          output = g_base64_encode ((const guchar *)"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 30);
        }
      if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
        {
          e->server_result = rc;
          gsasl_free (output);
          break;
        }
      if (rc == GSASL_OK && (output == NULL || *output == '\0'))
        {
          e->server_result = GSASL_OK;
          gsasl_free (output);
          break;
        }

      response = mk_sasl_session_step (client, output, &e->client_error);
      gsasl_free (output);
      if (response == NULL)
        break;
      g_ptr_array_add (e->sent, response);
      g_free (input);
      input = g_strdup (response);
      if (rc == GSASL_OK)
        {
          /* The server had finished; the client acknowledged with an empty
           * line, and the server now says 235. */
          g_assert_cmpstr (response, ==, "");
          e->server_result = GSASL_OK;
          break;
        }
    }

  gsasl_finish (server);
  gsasl_done (context);
}

static const char *const gsasl_mechanisms[] = {
  "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
};

static const Account ascii_account = { "user", "pencil" };
static const Account utf8_account = { "j\xc3\xb6rg", "p\xc3\xa4ssw\xc3\xb6rd \xe2\x82\xac" };

/* Every secret the client produced is in the redaction list, and the
 * redacted trace of the exchange shows none of them. */
static void
assert_redacted (MkSaslSession *client, const Exchange *e, const char *password)
{
  g_autoptr (GString) trace = g_string_new (e->auth_line);
  g_autofree char *redacted = NULL;
  g_autofree char *password_b64 = g_base64_encode ((const guchar *)password, strlen (password));

  g_assert_true (g_strv_contains (mk_sasl_session_get_secrets (client), password));
  for (guint i = 0; i < e->sent->len; i++)
    {
      const char *line = g_ptr_array_index (e->sent, i);

      g_string_append_printf (trace, "\n%s", line);
      if (*line != '\0')
        g_assert_true (g_strv_contains (mk_sasl_session_get_secrets (client), line));
    }
  g_string_append_printf (trace, "\npassword was %s", password);

  redacted = mk_sasl_session_redact (client, trace->str);
  g_assert_null (strstr (redacted, password));
  g_assert_null (strstr (redacted, password_b64));
  g_assert_nonnull (strstr (redacted, MK_SASL_REDACTED));
}

static void
test_gsasl_round_trip (gconstpointer data)
{
  const char *mechanism = data;
  const Account *accounts[] = { &ascii_account, &utf8_account };

  for (gsize a = 0; a < G_N_ELEMENTS (accounts); a++)
    {
      MkSaslCredentials credentials
          = { .username = accounts[a]->user, .password = accounts[a]->password };
      MkSaslCredentials wrong = { .username = accounts[a]->user, .password = "wrong" };
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSaslSession) client = mk_sasl_session_new (mechanism, &credentials, &error);
      g_autoptr (MkSaslSession) refused = NULL;
      Exchange e;

      g_assert_no_error (error);
      g_assert_cmpstr (mk_sasl_session_get_mechanism (client), ==, mechanism);

      run_exchange (client, accounts[a], FALSE, &e);
      g_assert_no_error (e.client_error);
      g_assert_cmpint (e.server_result, ==, GSASL_OK);
      assert_redacted (client, &e, accounts[a]->password);
      exchange_clear (&e);

      refused = mk_sasl_session_new (mechanism, &wrong, &error);
      g_assert_no_error (error);
      run_exchange (refused, accounts[a], FALSE, &e);
      g_assert_cmpint (e.server_result, ==, GSASL_AUTHENTICATION_ERROR);
      exchange_clear (&e);
    }
}

static void
test_auth_lines (void)
{
  MkSaslCredentials credentials = { .username = "user", .password = "pencil" };
  struct
  {
    const char *mechanism;
    const char *prefix;
  } cases[] = {
    { "plain", "AUTH PLAIN AHVzZXIAcGVuY2ls" },
    /* LOGIN waits for the server's Username: prompt. */
    { "LOGIN", "AUTH LOGIN" },
    { "CRAM-MD5", "AUTH CRAM-MD5" },
    /* client-first-message "n,,n=user,r=…" */
    { "SCRAM-SHA-256", "AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9" },
    /* Named explicitly, a GNU SASL mechanism outside the default list. */
    { "DIGEST-MD5", "AUTH DIGEST-MD5" },
    /* Finished at once with an empty response: "=" (RFC 4954 §4). */
    { "EXTERNAL", "AUTH EXTERNAL =" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSaslSession) session
          = mk_sasl_session_new (cases[i].mechanism, &credentials, &error);
      g_autofree char *line = NULL;

      g_assert_no_error (error);
      line = mk_sasl_session_start (session, &error);
      g_assert_no_error (error);
      g_test_message ("%s: %s", cases[i].mechanism, line);
      if (g_str_has_prefix (cases[i].prefix, "AUTH SCRAM"))
        g_assert_true (g_str_has_prefix (line, cases[i].prefix));
      else
        g_assert_cmpstr (line, ==, cases[i].prefix);
    }
}

/* An initial response that would make the AUTH line longer than 512 octets
 * waits for the server's empty 334 (RFC 4954 §4). */
static void
test_long_initial_response (void)
{
  g_autoptr (GString) user = g_string_new (NULL);
  Account account = { NULL, "pencil" };
  MkSaslCredentials credentials = { .password = "pencil" };
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSaslSession) client = NULL;
  Exchange e;

  for (int i = 0; i < 400; i++)
    g_string_append_c (user, 'u');
  account.user = user->str;
  credentials.username = user->str;

  client = mk_sasl_session_new ("PLAIN", &credentials, &error);
  g_assert_no_error (error);
  run_exchange (client, &account, FALSE, &e);
  g_assert_cmpstr (e.auth_line, ==, "AUTH PLAIN");
  g_assert_no_error (e.client_error);
  g_assert_cmpint (e.server_result, ==, GSASL_OK);
  g_assert_cmpuint (e.sent->len, ==, 1);
  g_assert_cmpuint (strlen (g_ptr_array_index (e.sent, 0)), >, MK_SMTP_COMMAND_LINE_MAX);
  exchange_clear (&e);
}

/* Hostile-peer catalogue H57: a 64 KiB password, and CR/LF in it, only
 * ever travel base64-encoded; non-UTF-8 credentials are refused before
 * anything is sent, without quoting them. */
static void
test_odd_credentials (void)
{
  g_autoptr (GString) huge = g_string_new (NULL);
  const char *const mechanisms[] = { "PLAIN", "LOGIN", "SCRAM-SHA-256" };

  for (int i = 0; i < 64 * 1024; i++)
    g_string_append_c (huge, 'p');
  for (gsize m = 0; m < G_N_ELEMENTS (mechanisms); m++)
    {
      const char *const passwords[] = { huge->str, "line\r\nbreak" };

      for (gsize i = 0; i < G_N_ELEMENTS (passwords); i++)
        {
          Account account = { "user", passwords[i] };
          MkSaslCredentials credentials = { .username = "user", .password = passwords[i] };
          g_autoptr (GError) error = NULL;
          g_autoptr (MkSaslSession) client
              = mk_sasl_session_new (mechanisms[m], &credentials, &error);
          Exchange e;

          g_test_message ("%s, password %" G_GSIZE_FORMAT, mechanisms[m], i);
          if (i == 1 && g_str_has_prefix (mechanisms[m], "SCRAM-"))
            {
              /* SASLprep (RFC 4013 §2.3) prohibits control characters:
               * refused before anything is sent. */
              g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
              g_assert_null (strstr (error->message, "break"));
              continue;
            }
          g_assert_no_error (error);
          run_exchange (client, &account, FALSE, &e);
          g_assert_no_error (e.client_error);
          /* GNU SASL's PLAIN server applies SASLprep and refuses it; LOGIN
           * takes it. */
          if (i == 0 || strcmp (mechanisms[m], "LOGIN") == 0)
            g_assert_cmpint (e.server_result, ==, GSASL_OK);
          g_assert_null (strpbrk (e.auth_line, "\r\n"));
          for (guint r = 0; r < e.sent->len; r++)
            g_assert_null (strpbrk (g_ptr_array_index (e.sent, r), "\r\n"));
          exchange_clear (&e);
        }
    }

  {
    MkSaslCredentials credentials = { .username = "user", .password = "p\xff\xfeqz7" };
    g_autoptr (GError) error = NULL;

    g_assert_null (mk_sasl_session_new ("PLAIN", &credentials, &error));
    g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
    g_assert_null (strstr (error->message, "qz7"));
  }
}

/* SCRAM authenticates the server too: a forged server-final is refused. */
static void
test_scram_forged_server (void)
{
  MkSaslCredentials credentials = { .username = "user", .password = "pencil" };
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSaslSession) client = mk_sasl_session_new ("SCRAM-SHA-256", &credentials, &error);
  Exchange e;

  run_exchange (client, &ascii_account, TRUE, &e);
  g_assert_error (e.client_error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);
  exchange_clear (&e);
}

static void
test_xoauth2 (void)
{
  MkSaslCredentials credentials = {
    .username = "someuser@example.com",
    .token = "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSaslSession) session = mk_sasl_session_new ("xoauth2", &credentials, &error);
  g_autofree char *line = mk_sasl_session_start (session, &error);
  g_autofree char *ack = NULL;
  g_autofree char *redacted = NULL;

  g_assert_no_error (error);
  /* Google's documented example. */
  g_assert_cmpstr (
      line, ==,
      "AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDR"
      "xbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2cBAQ==");
  /* An error report as a challenge is acknowledged with an empty line ... */
  ack = mk_sasl_session_step (session, "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIn0=", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ack, ==, "");
  /* ... and a second one is a loop. */
  g_assert_null (mk_sasl_session_step (session, "e30=", &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);

  redacted = mk_sasl_session_redact (session, line);
  g_assert_cmpstr (redacted, ==, "AUTH XOAUTH2 " MK_SASL_REDACTED);
}

static void
test_oauthbearer (void)
{
  MkSaslCredentials credentials = {
    .username = "user@example.com",
    .token = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
    .hostname = "server.example.com",
    .port = 143,
  };
  MkSaslCredentials escaped = { .username = "a,b=c", .token = "t" };
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSaslSession) session = mk_sasl_session_new ("OAUTHBEARER", &credentials, &error);
  g_autoptr (MkSaslSession) escaping = mk_sasl_session_new ("OAUTHBEARER", &escaped, &error);
  g_autofree char *line = mk_sasl_session_start (session, &error);
  g_autofree char *escaped_line = mk_sasl_session_start (escaping, &error);
  g_autofree char *expected_escaped
      = g_base64_encode ((const guchar *)"n,a=a=2Cb=3Dc,\001auth=Bearer t\001\001", 30);
  g_autofree char *ack = NULL;

  g_assert_no_error (error);
  /* RFC 7628 §4.1. */
  g_assert_cmpstr (
      line, ==,
      "AUTH OAUTHBEARER bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAX"
      "BvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
  g_assert_cmpstr (escaped_line + strlen ("AUTH OAUTHBEARER "), ==, expected_escaped);

  /* RFC 7628 §3.2.3: the error report is answered with a lone ^A. */
  ack = mk_sasl_session_step (session, "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ack, ==, "AQ==");
}

static void
test_oauth_refused_input (void)
{
  const char *const bad_tokens[] = { "", "a b", "tok\001en", "tok\r\nen", "=abc", "ab=c" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad_tokens); i++)
    {
      MkSaslCredentials credentials = { .username = "u", .token = bad_tokens[i] };
      g_autoptr (GError) error = NULL;

      g_assert_null (mk_sasl_session_new ("XOAUTH2", &credentials, &error));
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
    }
  {
    MkSaslCredentials credentials = { .username = "u\001auth=Bearer x", .token = "t" };
    g_autoptr (GError) error = NULL;

    g_assert_null (mk_sasl_session_new ("OAUTHBEARER", &credentials, &error));
    g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  }
}

static void
test_hostile_challenges (void)
{
  MkSaslCredentials credentials = { .username = "user", .password = "pencil" };
  g_autoptr (GString) huge = g_string_new (NULL);
  const char *const invalid[] = { "!!!!", "AAA", "VXNlcm5hbWU6\nVXNlcm5hbWU6", "V X" };

  for (int i = 0; i < MK_SASL_MAX_CHALLENGE + 4; i++)
    g_string_append_c (huge, 'A');

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MkSaslSession) session = mk_sasl_session_new ("CRAM-MD5", &credentials, &error);

      g_assert_null (mk_sasl_session_step (session, invalid[i], &error));
      g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);
    }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (MkSaslSession) session = mk_sasl_session_new ("CRAM-MD5", &credentials, &error);

    g_assert_null (mk_sasl_session_step (session, huge->str, &error));
    g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);
    g_assert_nonnull (strstr (error->message, "longer"));
  }
  /* Blanks around the challenge are tolerated (servers differ). */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (MkSaslSession) session = mk_sasl_session_new ("LOGIN", &credentials, &error);
    g_autofree char *user = mk_sasl_session_step (session, " VXNlcm5hbWU6 ", &error);

    g_assert_no_error (error);
    g_assert_cmpstr (user, ==, "dXNlcg==");
  }
}

/* Python's AUTH_BUGGY: a server answering everything with 334 is stopped
 * after MK_SASL_MAX_ROUNDS challenges, whatever the mechanism says. */
static void
test_endless_challenges (void)
{
  MkSaslCredentials credentials = { .username = "user", .password = "pencil" };
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSaslSession) session = mk_sasl_session_new ("LOGIN", &credentials, &error);
  g_autofree char *start = mk_sasl_session_start (session, &error);
  int round;

  g_assert_cmpstr (start, ==, "AUTH LOGIN");
  for (round = 1; round <= MK_SASL_MAX_ROUNDS + 1; round++)
    {
      g_autofree char *response = mk_sasl_session_step (session, "UGFzc3dvcmQ6", &error);

      if (response == NULL)
        {
          g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION);
          if (round == MK_SASL_MAX_ROUNDS + 1)
            g_assert_nonnull (strstr (error->message, "more than"));
          g_clear_error (&error);
        }
      else
        g_assert_cmpint (round, <=, 2);
    }
}

static void
test_choose (void)
{
  const char *const all[] = { "PLAIN", "LOGIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "CRAM-MD5", NULL };
  const char *const lower[] = { "login", "plain", NULL };
  const char *const cram_login[] = { "LOGIN", "CRAM-MD5", NULL };
  const char *const login[] = { "LOGIN", NULL };
  const char *const sha1[] = { "PLAIN", "scram-sha-1", NULL };
  const char *const strong_only[] = { "GSSAPI", "NTLM", "DIGEST-MD5", NULL };
  const char *const none[] = { NULL };
  const char *const oauth[] = { "XOAUTH2", "OAUTHBEARER", "PLAIN", NULL };
  const char *const xoauth[] = { "xoauth2", "PLAIN", NULL };

  g_assert_cmpstr (mk_sasl_choose_mechanism (all, FALSE), ==, "SCRAM-SHA-256");
  g_assert_cmpstr (mk_sasl_choose_mechanism (sha1, FALSE), ==, "SCRAM-SHA-1");
  g_assert_cmpstr (mk_sasl_choose_mechanism (lower, FALSE), ==, "PLAIN");
  g_assert_cmpstr (mk_sasl_choose_mechanism (cram_login, FALSE), ==, "CRAM-MD5");
  g_assert_cmpstr (mk_sasl_choose_mechanism (login, FALSE), ==, "LOGIN");
  g_assert_null (mk_sasl_choose_mechanism (strong_only, FALSE));
  g_assert_null (mk_sasl_choose_mechanism (none, FALSE));
  g_assert_cmpstr (mk_sasl_choose_mechanism (oauth, TRUE), ==, "OAUTHBEARER");
  g_assert_cmpstr (mk_sasl_choose_mechanism (xoauth, TRUE), ==, "XOAUTH2");
  g_assert_null (mk_sasl_choose_mechanism (all, TRUE));
  g_assert_cmpstr (mk_sasl_choose_mechanism (oauth, FALSE), ==, "PLAIN");
}

static void
test_cleartext (void)
{
  const char *const cleartext[] = { "PLAIN", "login", "XOAUTH2", "OAuthBearer" };
  const char *const hashed[] = { "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "GSSAPI", "PLAINX" };

  for (gsize i = 0; i < G_N_ELEMENTS (cleartext); i++)
    g_assert_true (mk_sasl_mechanism_is_cleartext (cleartext[i]));
  for (gsize i = 0; i < G_N_ELEMENTS (hashed); i++)
    g_assert_false (mk_sasl_mechanism_is_cleartext (hashed[i]));
}

static void
test_unknown_mechanism (void)
{
  MkSaslCredentials credentials = { .username = "user", .password = "pencil" };
  g_autoptr (GError) error = NULL;

  g_assert_null (mk_sasl_session_new ("NO-SUCH-MECH", &credentials, &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED);
}

static void
test_redact_overlap (void)
{
  /* A password that is part of the marker, and one inside the base64
   * response: each occurrence is replaced once, the marker left intact. */
  MkSaslCredentials credentials = { .username = "user", .password = "red" };
  g_autoptr (GError) error = NULL;
  g_autoptr (MkSaslSession) session = mk_sasl_session_new ("PLAIN", &credentials, &error);
  g_autofree char *line = mk_sasl_session_start (session, &error);
  g_autofree char *text = g_strdup_printf ("%s red", line);
  g_autofree char *redacted = mk_sasl_session_redact (session, text);

  g_assert_cmpstr (redacted, ==, "AUTH PLAIN " MK_SASL_REDACTED " " MK_SASL_REDACTED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (gsasl_mechanisms); i++)
    {
      g_autofree char *path = g_strdup_printf ("/smtp/sasl/round-trip/%s", gsasl_mechanisms[i]);
      g_test_add_data_func (path, gsasl_mechanisms[i], test_gsasl_round_trip);
    }
  g_test_add_func ("/smtp/sasl/auth-lines", test_auth_lines);
  g_test_add_func ("/smtp/sasl/long-initial-response", test_long_initial_response);
  g_test_add_func ("/smtp/sasl/odd-credentials", test_odd_credentials);
  g_test_add_func ("/smtp/sasl/scram-forged-server", test_scram_forged_server);
  g_test_add_func ("/smtp/sasl/xoauth2", test_xoauth2);
  g_test_add_func ("/smtp/sasl/oauthbearer", test_oauthbearer);
  g_test_add_func ("/smtp/sasl/oauth-refused-input", test_oauth_refused_input);
  g_test_add_func ("/smtp/sasl/hostile-challenges", test_hostile_challenges);
  g_test_add_func ("/smtp/sasl/endless-challenges", test_endless_challenges);
  g_test_add_func ("/smtp/sasl/choose", test_choose);
  g_test_add_func ("/smtp/sasl/cleartext", test_cleartext);
  g_test_add_func ("/smtp/sasl/unknown-mechanism", test_unknown_mechanism);
  g_test_add_func ("/smtp/sasl/redact-overlap", test_redact_overlap);
  return g_test_run ();
}
