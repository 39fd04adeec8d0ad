/* test-mkmail-units.c: mkmail's argument normalisation, attachment specs,
 * passwords, accounts and exit codes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libmailkit/mailkit.h>

#include "mk-test-utils.h"
#include "mkmail-args.h"
#include "mkmail-config.h"
#include "mkmail-exit.h"

static void
test_normalise_sendmail_clusters (void)
{
  struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    { "mkmail -oi -t", "mkmail -i -t" },
    { "mkmail -falice@example.org bob@example.org", "mkmail -f alice@example.org bob@example.org" },
    { "mkmail -FAlice -rbounce@example.org -t", "mkmail -F Alice -r bounce@example.org -t" },
    { "mkmail -f alice@example.org -t", "mkmail -f alice@example.org -t" },
    { "mkmail -oem -odb -bm -t", "mkmail -t" },
    { "mkmail -FCronDaemon -i -B8BITMIME -oem root", "mkmail -F CronDaemon -i root" },
    { "mkmail -B 7BIT -i root", "mkmail -i root" },
    { "mkmail --from=a@b -s -fsubject x", "mkmail --from=a@b -s -f subject x" },
    { "mkmail -t -- -fnot-an-option", "mkmail -t -- -fnot-an-option" },
    { "mkmail - -i", "mkmail - -i" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (GStrv) in = g_strsplit (cases[i].in, " ", -1);
      g_auto (GStrv) out = mkmail_normalise_argv (g_strv_length (in), in);
      g_autofree char *joined = g_strjoinv (" ", out);

      g_assert_cmpstr (joined, ==, cases[i].out);
    }
}

static void
test_attachment_specs (void)
{
  struct
  {
    const char *in;
    const char *path, *type, *name;
  } good[] = {
    { "report.pdf", "report.pdf", NULL, NULL },
    { "report.pdf;type=application/pdf", "report.pdf", "application/pdf", NULL },
    { "r.bin;name=Report 2026.pdf;type=application/pdf", "r.bin", "application/pdf",
      "Report 2026.pdf" },
    { "odd;name.txt;name=x.txt", "odd;name.txt", NULL, "x.txt" },
    { "a;b", "a;b", NULL, NULL },
  };
  const char *bad[] = { ";type=text/plain", "x;type=", "x;name=a;name=b", "" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MkmailAttachmentSpec) spec = mkmail_attachment_spec_parse (good[i].in, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (spec->path, ==, good[i].path);
      g_assert_cmpstr (spec->content_type, ==, good[i].type);
      g_assert_cmpstr (spec->name, ==, good[i].name);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MkmailAttachmentSpec) spec = mkmail_attachment_spec_parse (bad[i], &error);

      g_assert_null (spec);
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
    }
}

static char *
write_temp (const char *name, const char *contents, int mode)
{
  g_autofree char *dir = mk_test_make_subdir ("mkmail");
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
test_passwords_lose_one_newline (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = write_temp ("pw", "s3cret \n\n", 0600);
  g_autofree char *from_file = mkmail_read_password_file (file, &error);
  g_autofree char *from_command = NULL;
  g_autofree char *failed = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (from_file, ==, "s3cret \n");

  from_command = mkmail_run_password_command ("printf 'p\\341ss\\r\\n'", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (from_command, ==, "p\341ss");

  failed = mkmail_run_password_command ("exit 3", &error);
  g_assert_null (failed);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "exit 3"));
}

static void
test_accounts (void)
{
  const char *config = "[mkmail]\ndefault=work\n\n"
                       "[work]\nserver=smtp.example.org\nport=587\ntls=starttls\nuser=alice\n"
                       "password-file=/run/secret\ntimeout=12.5\n\n"
                       "[home]\nserver=mail.example.net\nfrom=me@example.net\n\n"
                       "[broken]\nport=70000\n\n[typo]\nsrever=x\n";
  g_autofree char *path = write_temp ("config", config, 0644);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkmailAccount) work = mkmail_config_load (path, NULL, &error);
  g_autoptr (MkmailAccount) home = NULL;
  g_autoptr (MkmailAccount) missing = NULL;
  g_autoptr (MkmailAccount) none = NULL;
  g_autoptr (MkmailAccount) cli = mkmail_account_new ();

  g_assert_no_error (error);
  g_assert_cmpstr (work->server, ==, "smtp.example.org");
  g_assert_cmpuint (work->port, ==, 587);
  g_assert_cmpstr (work->tls, ==, "starttls");
  g_assert_cmpstr (work->password_file, ==, "/run/secret");
  g_assert_cmpfloat (work->timeout, ==, 12.5);
  g_assert_null (work->password);

  home = mkmail_config_load (path, "home", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (home->from, ==, "me@example.net");
  g_assert_cmpuint (home->port, ==, 0);

  /* The command line wins over the account. */
  cli->server = g_strdup ("localhost");
  mkmail_account_merge (cli, home);
  g_assert_cmpstr (cli->server, ==, "localhost");
  g_assert_cmpstr (cli->from, ==, "me@example.net");

  missing = mkmail_config_load (path, "nobody", &error);
  g_assert_null (missing);
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND);
  g_clear_error (&error);

  g_assert_null (mkmail_config_load (path, "broken", &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_clear_error (&error);

  g_assert_null (mkmail_config_load (path, "typo", &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "srever"));
  g_clear_error (&error);

  /* No file and no account asked for: no settings, no error. */
  none = mkmail_config_load ("/nonexistent/mkmail/config", NULL, &error);
  g_assert_no_error (error);
  g_assert_null (none->server);
}

static void
test_account_password_needs_private_file (void)
{
  const char *config = "[a]\nserver=localhost\npassword=hunter2\n";
  g_autofree char *path = write_temp ("config", config, 0640);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkmailAccount) account = mkmail_config_load (path, "a", &error);

  g_assert_null (account);
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_assert_null (strstr (error->message, "hunter2"));
  g_clear_error (&error);

  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  account = mkmail_config_load (path, "a", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->password, ==, "hunter2");
}

static void
test_exit_codes (void)
{
  struct
  {
    GQuark domain;
    int code;
    guint reply;
    gboolean transient_refusal;
    int exit_code;
  } cases[] = {
    { MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED, 0, FALSE, EX_TEMPFAIL },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN, 0, FALSE, EX_TEMPFAIL },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE, 0, FALSE, EX_PROTOCOL },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE, 421, FALSE, EX_TEMPFAIL },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_SENDER_REFUSED, 451, FALSE, EX_TEMPFAIL },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_SENDER_REFUSED, 553, FALSE, EX_UNAVAILABLE },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_DATA, 554, FALSE, EX_UNAVAILABLE },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_CONNECT, 554, FALSE, EX_UNAVAILABLE },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED, 550, FALSE, EX_UNAVAILABLE },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED, 550, TRUE, EX_TEMPFAIL },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION, 535, FALSE, EX_NOPERM },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_TLS, 0, FALSE, EX_NOPERM },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED, 0, FALSE, EX_UNAVAILABLE },
    { MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, 0, FALSE, EX_DATAERR },
    { G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, 0, FALSE, EX_TEMPFAIL },
    { G_IO_ERROR, G_IO_ERROR_TIMED_OUT, 0, FALSE, EX_TEMPFAIL },
    { G_IO_ERROR, G_IO_ERROR_NOT_FOUND, 0, FALSE, EX_NOINPUT },
    { G_IO_ERROR, G_IO_ERROR_INVALID_DATA, 0, FALSE, EX_PROTOCOL },
    { G_IO_ERROR, G_IO_ERROR_FAILED, 0, FALSE, EX_IOERR },
    { G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, 0, FALSE, EX_NOHOST },
    { G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE, 0, FALSE, EX_TEMPFAIL },
    { G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, 0, FALSE, EX_NOPERM },
    { MK_MIME_ERROR, MK_MIME_ERROR_INVALID, 0, FALSE, EX_DATAERR },
    { G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, 0, FALSE, EX_CONFIG },
    { G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, 0, FALSE, EX_USAGE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = g_error_new_literal (cases[i].domain, cases[i].code, "x");

      g_assert_cmpint (mkmail_exit_code_for_error (error, cases[i].reply, cases[i].transient_refusal),
                       ==, cases[i].exit_code);
      g_assert_nonnull (mkmail_exit_advice (error, cases[i].exit_code));
    }
}

/* The two causes of exit 77 get different advice. */
static void
test_advice_for_refusals (void)
{
  g_autoptr (GError) auth = g_error_new_literal (MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION, "x");
  g_autoptr (GError) tls = g_error_new_literal (MK_SMTP_ERROR, MK_SMTP_ERROR_TLS, "x");
  g_autoptr (GError) cert = g_error_new_literal (G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "x");

  g_assert_nonnull (strstr (mkmail_exit_advice (auth, EX_NOPERM), "password"));
  g_assert_nonnull (strstr (mkmail_exit_advice (tls, EX_NOPERM), "--tls"));
  g_assert_nonnull (strstr (mkmail_exit_advice (cert, EX_NOPERM), "--cafile"));
  g_assert_cmpstr (mkmail_exit_advice (NULL, EX_TEMPFAIL), ==,
                   "nothing was delivered: try again later");
}

static void
test_sanitize_server_text (void)
{
  g_autofree char *clean = mkmail_sanitize_text ("ok \033[31mred\033[0m\r\tb\377\303\251");

  g_assert_cmpstr (clean, ==, "ok ?[31mred?[0m?\tb?\303\251");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mkmail/args/sendmail-clusters", test_normalise_sendmail_clusters);
  g_test_add_func ("/mkmail/args/attachment-specs", test_attachment_specs);
  g_test_add_func ("/mkmail/args/passwords-lose-one-newline", test_passwords_lose_one_newline);
  g_test_add_func ("/mkmail/config/accounts", test_accounts);
  g_test_add_func ("/mkmail/config/password-needs-private-file",
                   test_account_password_needs_private_file);
  g_test_add_func ("/mkmail/exit/codes", test_exit_codes);
  g_test_add_func ("/mkmail/exit/advice-for-refusals", test_advice_for_refusals);
  g_test_add_func ("/mkmail/exit/sanitize-server-text", test_sanitize_server_text);
  return g_test_run ();
}
