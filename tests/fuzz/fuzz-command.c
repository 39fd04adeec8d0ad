/* fuzz-command.c: libFuzzer target for the command formatters
 *
 * Whatever the caller passes, a formatted command is one line: no control
 * character, valid UTF-8, and for MAIL and RCPT a path within RFC 5321's
 * length limit. A refusal is always MK_SMTP_ERROR_INVALID.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "libmailkit/smtp/mk-smtp-command-private.h"
#include "libmailkit/smtp/mk-smtp-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_line (char *line, GError *error)
{
  if (line == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == MK_SMTP_ERROR && error->code == MK_SMTP_ERROR_INVALID);
      g_error_free (error);
      return;
    }
  g_assert_null (error);
  for (const guchar *p = (const guchar *)line; *p != '\0'; p++)
    g_assert_true (*p >= 0x20 && *p != 0x7f);
  g_assert_true (g_utf8_validate (line, -1, NULL));
  g_free (line);
}

static void
check_path_command (const char *prefix, char *line, GError *error)
{
  if (line != NULL)
    {
      const char *path = line + strlen (prefix);

      g_assert_true (g_str_has_prefix (line, prefix));
      g_assert_true (path[0] == '<');
      /* No options were given: the path is the rest of the line. */
      g_assert_true (g_str_has_suffix (path, ">"));
      g_assert_cmpuint (strlen (path), <=, MK_SMTP_PATH_MAX);
      g_assert_true (path[1] != '@');
    }
  check_line (line, error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *)data, size);
  const char *const options[] = { text, NULL };
  GError *error = NULL;
  char *line;

  line = mk_smtp_command_mail (text, NULL, &error);
  check_path_command ("MAIL FROM:", line, error);
  error = NULL;
  line = mk_smtp_command_rcpt (text, NULL, &error);
  check_path_command ("RCPT TO:", line, error);
  error = NULL;

#define CHECK(call)                                                                                \
  G_STMT_START                                                                                     \
  {                                                                                                \
    GError *e = NULL;                                                                              \
    char *l = call;                                                                                \
    check_line (l, e);                                                                             \
  }                                                                                                \
  G_STMT_END

  CHECK (mk_smtp_command_mail ("a@example.org", options, &e));
  CHECK (mk_smtp_command_ehlo (text, &e));
  CHECK (mk_smtp_command_vrfy (text, &e));
  CHECK (mk_smtp_command_help (text, &e));
  CHECK (mk_smtp_command_docmd (text, text, &e));
  CHECK (mk_smtp_command_auth (text, text, &e));
  CHECK (mk_smtp_param_orcpt (text, &e));
  CHECK (mk_smtp_param_envid (text, &e));
#undef CHECK
  g_free (mk_smtp_xtext_encode (text));
  return 0;
}
