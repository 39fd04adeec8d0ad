/* test-command.c: every command formatter, and every injection refused
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/smtp/mk-smtp-command-private.h"
#include "mk-test-utils.h"

/* Strings that must never reach the wire inside a command: each would end
 * the line early or change how the server reads it. */
static const char *const injections[] = {
  "a@example.org\r\nRSET", "a@example.org\nRCPT TO:<evil@example.net>",
  "a@example.org\rDATA",   "\"evil\r\nRCPT TO:<x>\"@example.org",
  "a\t@example.org",       "a\x7f@example.org",
  "\x01@example.org",      "a@example.org\x1b[2J",
  "\xff\xfe@example.org",  "\r\n",
};

/* The call is made before its error is looked at (a function's arguments
 * are evaluated in no fixed order). */
#define assert_invalid(call, error)                                                                \
  G_STMT_START                                                                                     \
  {                                                                                                \
    char *line_ = (call);                                                                          \
    assert_invalid_result (line_, (error));                                                        \
  }                                                                                                \
  G_STMT_END

static void
assert_invalid_result (char *line, GError *error)
{
  g_assert_null (line);
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  /* The message shows the argument escaped, never the raw bytes. */
  for (const char *p = error->message; *p != '\0'; p++)
    g_assert_true ((guchar)*p >= 0x20 && *p != 0x7f);
}

/* Runs every formatter that takes a string with @arg in each argument
 * position; each must refuse. */
static void
test_injections (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (injections); i++)
    {
      const char *bad = injections[i];
      const char *const bad_options[] = { "SIZE=1", bad, NULL };
      typedef char *(*Formatter) (const char *, GError **);
      const Formatter one_argument[] = {
        mk_smtp_command_ehlo, mk_smtp_command_helo, mk_smtp_command_lhlo, mk_smtp_command_vrfy,
        mk_smtp_command_expn, mk_smtp_command_help, mk_smtp_param_orcpt,  mk_smtp_param_envid,
      };

      g_test_message ("injection %" G_GSIZE_FORMAT, i);
      for (gsize f = 0; f < G_N_ELEMENTS (one_argument); f++)
        {
          GError *error = NULL;

          assert_invalid (one_argument[f](bad, &error), error);
          g_error_free (error);
        }

#define CHECK(call)                                                                                \
  G_STMT_START                                                                                     \
  {                                                                                                \
    GError *error = NULL;                                                                          \
    assert_invalid (call, error);                                                                  \
    g_error_free (error);                                                                          \
  }                                                                                                \
  G_STMT_END

      CHECK (mk_smtp_command_mail (bad, NULL, &error));
      CHECK (mk_smtp_command_rcpt (bad, NULL, &error));
      CHECK (mk_smtp_command_mail ("a@example.org", bad_options, &error));
      CHECK (mk_smtp_command_rcpt ("a@example.org", bad_options, &error));
      CHECK (mk_smtp_command_auth (bad, NULL, &error));
      CHECK (mk_smtp_command_auth ("PLAIN", bad, &error));
      CHECK (mk_smtp_command_docmd (bad, NULL, &error));
      CHECK (mk_smtp_command_docmd ("XCLIENT", bad, &error));
      CHECK (mk_smtp_quote_address (bad, TRUE, &error));
#undef CHECK
    }
}

typedef struct
{
  const char *input;
  const char *expected; /* NULL: refused */
} AddressCase;

/* smtplib's quoteaddr examples [A0], with the LMK answer where it differs. */
static const AddressCase mail_cases[] = {
  { "", "MAIL FROM:<>" },
  { "<>", "MAIL FROM:<>" },
  { "  <>  ", "MAIL FROM:<>" },
  { "john", "MAIL FROM:<john>" },
  { "john@x.example", "MAIL FROM:<john@x.example>" },
  { "<john@x.example>", "MAIL FROM:<john@x.example>" },
  { " <john@x.example> ", "MAIL FROM:<john@x.example>" },
  { "John Doe <john@x.example>", "MAIL FROM:<john@x.example>" },
  { "\"Doe, John\" <john@x.example>", "MAIL FROM:<john@x.example>" },
  { "\"a <b@c>\" <john@x.example>", "MAIL FROM:<john@x.example>" },
  { "john@x.example (comment)", "MAIL FROM:<john@x.example>" },
  { "John (the (nested) one) <john@x.example>", "MAIL FROM:<john@x.example>" },
  { "\"a b\"@x.example", "MAIL FROM:<\"a b\"@x.example>" },
  { "\"a\\\"b\"@x.example", "MAIL FROM:<\"a\\\"b\"@x.example>" },
  { "user@[192.0.2.1]", "MAIL FROM:<user@[192.0.2.1]>" },
  { "user@[IPv6:2001:db8::1]", "MAIL FROM:<user@[IPv6:2001:db8::1]>" },
  { "J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc\x63her.example>",
    "MAIL FROM:<j\xc3\xb6rg@b\xc3\xbc\x63her.example>" },
  { "-dash@x.example", "MAIL FROM:<-dash@x.example>" },
  /* Refused where smtplib guesses. */
  { "a@x.example, b@y.example", NULL },
  { "Doe, John <john@x.example>", NULL },
  { "@route,@r2:user@x.example", NULL },
  { "<@route:user@x.example>", NULL },
  { "a@b@c.example", NULL },
  { "<a@b.example>x", NULL },
  { "a@b.example> SIZE=1", NULL },
  { "<<a@b.example>>", NULL },
  { "<a@b.example", NULL },
  { "a@", NULL },
  { "@", NULL },
  { "@x.example", NULL },
  { "a b@x.example", NULL },
  { "\"unterminated@x.example", NULL },
  { "(unterminated a@x.example", NULL },
  { "a@[192.0.2.1", NULL },
  { "a@[1]x", NULL },
  { "group: a@x.example;", NULL },
  { "a@x.example <b@y.example>", NULL },
};

static void
test_mail (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (mail_cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *line = mk_smtp_command_mail (mail_cases[i].input, NULL, &error);

      g_test_message ("MAIL %s", mail_cases[i].input);
      if (mail_cases[i].expected != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (line, ==, mail_cases[i].expected);
        }
      else
        assert_invalid (g_steal_pointer (&line), error);
    }
}

static void
test_mail_options (void)
{
  const char *const options[] = { "SIZE=12", "BODY=8BITMIME", "SMTPUTF8", "X-UTF8=\xc3\xa9", NULL };
  const char *const bad[][2] = {
    { "SIZE 1", NULL }, { "=x", NULL }, { "SIZE=", NULL },       { "A=b=c", NULL },
    { "", NULL },       { "-X", NULL }, { "S\xc3\xa9=1", NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *mail = mk_smtp_command_mail ("a@x.example", options, &error);
  g_autofree char *rcpt = NULL;
  g_autofree char *plain = mk_smtp_command_rcpt ("b@y.example", NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (mail, ==,
                   "MAIL FROM:<a@x.example> SIZE=12 BODY=8BITMIME SMTPUTF8 X-UTF8=\xc3\xa9");
  g_assert_cmpstr (plain, ==, "RCPT TO:<b@y.example>");

  {
    const char *const rcpt_options[]
        = { "NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;b+2B@y.example", NULL };
    rcpt = mk_smtp_command_rcpt ("B <b@y.example>", rcpt_options, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (rcpt, ==,
                     "RCPT TO:<b@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2B@y.example");
  }

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GError *local = NULL;

      assert_invalid (mk_smtp_command_mail ("a@x.example", bad[i], &local), local);
      g_error_free (local);
    }
}

static void
test_rcpt (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *postmaster = mk_smtp_command_rcpt ("Postmaster", NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (postmaster, ==, "RCPT TO:<Postmaster>");

  /* The null path is a sender, never a recipient. */
  assert_invalid (mk_smtp_command_rcpt ("", NULL, &error), error);
  g_clear_error (&error);
  assert_invalid (mk_smtp_command_rcpt ("<>", NULL, &error), error);
}

static void
test_limits (void)
{
  g_autoptr (GString) local = g_string_new (NULL);
  g_autoptr (GString) path = g_string_new ("a@");
  g_autoptr (GError) error = NULL;
  g_autofree char *ok = NULL;

  for (int i = 0; i < MK_SMTP_LOCAL_PART_MAX; i++)
    g_string_append_c (local, 'l');
  g_string_append (local, "@x.example");
  ok = mk_smtp_command_rcpt (local->str, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
  g_string_insert_c (local, 0, 'l');
  assert_invalid (mk_smtp_command_rcpt (local->str, NULL, &error), error);
  g_clear_error (&error);

  /* "<" + path + ">" at 256 octets passes, at 257 does not. */
  while (path->len < MK_SMTP_PATH_MAX - 2)
    g_string_append_c (path, 'd');
  g_clear_pointer (&ok, g_free);
  ok = mk_smtp_command_rcpt (path->str, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (ok), ==, strlen ("RCPT TO:") + MK_SMTP_PATH_MAX);
  g_string_append_c (path, 'd');
  assert_invalid (mk_smtp_command_rcpt (path->str, NULL, &error), error);
}

static void
test_hello (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ehlo = mk_smtp_command_ehlo ("client.example", &error);
  g_autofree char *helo = mk_smtp_command_helo ("client.example", &error);
  g_autofree char *lhlo = mk_smtp_command_lhlo ("[127.0.0.1]", &error);
  const char *const bad[] = { "", "a b", "h\xc3\xb6st", "a\r\nMAIL FROM:<x>" };

  g_assert_no_error (error);
  g_assert_cmpstr (ehlo, ==, "EHLO client.example");
  g_assert_cmpstr (helo, ==, "HELO client.example");
  g_assert_cmpstr (lhlo, ==, "LHLO [127.0.0.1]");

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      assert_invalid (mk_smtp_command_ehlo (bad[i], &error), error);
      g_clear_error (&error);
    }
}

static void
test_simple (void)
{
  struct
  {
    char *line;
    const char *expected;
  } cases[] = {
    { mk_smtp_command_data (), "DATA" },
    { mk_smtp_command_rset (), "RSET" },
    { mk_smtp_command_noop (), "NOOP" },
    { mk_smtp_command_quit (), "QUIT" },
    { mk_smtp_command_starttls (), "STARTTLS" },
    { mk_smtp_command_bdat (0, TRUE), "BDAT 0 LAST" },
    { mk_smtp_command_bdat (1000, FALSE), "BDAT 1000" },
    { mk_smtp_command_bdat (G_MAXUINT64, TRUE), "BDAT 18446744073709551615 LAST" },
    { mk_smtp_command_help (NULL, NULL), "HELP" },
    { mk_smtp_command_help ("", NULL), "HELP" },
    { mk_smtp_command_help ("MAIL", NULL), "HELP MAIL" },
    { mk_smtp_command_vrfy ("John Doe <j@x.example>", NULL), "VRFY j@x.example" },
    { mk_smtp_command_vrfy ("Smith", NULL), "VRFY Smith" },
    { mk_smtp_command_vrfy (" John Smith ", NULL), "VRFY John Smith" },
    { mk_smtp_command_expn ("staff-list", NULL), "EXPN staff-list" },
    { mk_smtp_command_auth ("plain", NULL, NULL), "AUTH PLAIN" },
    { mk_smtp_command_auth ("PLAIN", "", NULL), "AUTH PLAIN =" },
    { mk_smtp_command_auth ("PLAIN", "AHVzZXIAcGVuY2ls", NULL), "AUTH PLAIN AHVzZXIAcGVuY2ls" },
    { mk_smtp_command_auth ("scram-sha-256", NULL, NULL), "AUTH SCRAM-SHA-256" },
    { mk_smtp_command_docmd ("NOOP", NULL, NULL), "NOOP" },
    { mk_smtp_command_docmd ("XCLIENT", "NAME=x ADDR=192.0.2.1", NULL),
      "XCLIENT NAME=x ADDR=192.0.2.1" },
    { mk_smtp_xtext_encode ("a+b=c d"), "a+2Bb+3Dc+20d" },
    { mk_smtp_xtext_encode ("\xc3\xa9~!"), "+C3+A9~!" },
    { mk_smtp_xtext_encode (""), "" },
    { mk_smtp_param_orcpt ("B <b+x@y.example>", NULL), "ORCPT=rfc822;b+2Bx@y.example" },
    { mk_smtp_param_orcpt ("j\xc3\xb6rg=1@x.example", NULL),
      "ORCPT=utf-8;j\\x{F6}rg\\x{3D}1@x.example" },
    { mk_smtp_param_envid ("QQ314159", NULL), "ENVID=QQ314159" },
    { mk_smtp_param_envid ("a b+c", NULL), "ENVID=a+20b+2Bc" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_cmpstr (cases[i].line, ==, cases[i].expected);
      g_free (cases[i].line);
    }
}

static void
test_refused_arguments (void)
{
  g_autoptr (GString) long_envid = g_string_new (NULL);
  GError *error = NULL;

  for (int i = 0; i < 101; i++)
    g_string_append_c (long_envid, 'e');

#define REFUSED(call)                                                                              \
  G_STMT_START                                                                                     \
  {                                                                                                \
    assert_invalid (call, error);                                                                  \
    g_clear_error (&error);                                                                        \
  }                                                                                                \
  G_STMT_END

  REFUSED (mk_smtp_command_vrfy ("", &error));
  REFUSED (mk_smtp_command_vrfy ("   ", &error));
  REFUSED (mk_smtp_command_auth ("PL AIN", NULL, &error));
  REFUSED (mk_smtp_command_auth ("", NULL, &error));
  REFUSED (mk_smtp_command_auth ("TWENTY-ONE-CHARS-LONG", NULL, &error));
  REFUSED (mk_smtp_command_docmd ("", NULL, &error));
  REFUSED (mk_smtp_command_docmd (" NOOP", NULL, &error));
  REFUSED (mk_smtp_param_envid ("", &error));
  REFUSED (mk_smtp_param_envid (long_envid->str, &error));
  REFUSED (mk_smtp_param_envid ("\xc3\xa9", &error));
  REFUSED (mk_smtp_param_orcpt ("", &error));
#undef REFUSED

  /* An initial response is a secret: a refusal never quotes it. */
  g_assert_null (mk_smtp_command_auth ("PLAIN", "c2VjcmV0 secret", &error));
  g_assert_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID);
  g_assert_null (strstr (error->message, "secret"));
  g_assert_null (strstr (error->message, "c2VjcmV0"));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smtp/command/injections", test_injections);
  g_test_add_func ("/smtp/command/mail", test_mail);
  g_test_add_func ("/smtp/command/mail-options", test_mail_options);
  g_test_add_func ("/smtp/command/rcpt", test_rcpt);
  g_test_add_func ("/smtp/command/limits", test_limits);
  g_test_add_func ("/smtp/command/hello", test_hello);
  g_test_add_func ("/smtp/command/simple", test_simple);
  g_test_add_func ("/smtp/command/refused", test_refused_arguments);
  return g_test_run ();
}
