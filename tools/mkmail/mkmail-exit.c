/* mkmail-exit.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <libmailkit/mailkit.h>

#include "mkmail-exit.h"

/* The library's outcome classes as sendmail's exit codes: try again later
 * (a temporary refusal, a lost connection, delivery unknown) or do not. */
static int
exit_code_for_outcome (MkSmtpOutcome outcome)
{
  return outcome == MK_SMTP_OUTCOME_REFUSED ? EX_UNAVAILABLE : EX_TEMPFAIL;
}

static int
exit_code_for_smtp_error (const GError *error, guint reply_code, gboolean any_refusal_transient)
{
  g_autoptr (MkSmtpReply) reply = NULL;

  switch ((MkSmtpError) error->code)
    {
    case MK_SMTP_ERROR_RESPONSE:
      /* A reply that broke the protocol has no valid code. */
      if (reply_code == 0)
        return EX_PROTOCOL;
      break;
    case MK_SMTP_ERROR_RECIPIENTS_REFUSED:
      /* Decided by all the refusals, not by the last reply. */
      return any_refusal_transient ? EX_TEMPFAIL : EX_UNAVAILABLE;
    case MK_SMTP_ERROR_AUTHENTICATION:
    case MK_SMTP_ERROR_TLS:
      return EX_NOPERM;
    case MK_SMTP_ERROR_INVALID:
      return EX_DATAERR;
    default:
      break;
    }
  if (reply_code >= 200 && reply_code <= 599)
    reply = mk_smtp_reply_new (reply_code, NULL);
  return exit_code_for_outcome (mk_smtp_outcome_from_error (error, reply));
}

static int
exit_code_for_io_error (int code)
{
  switch (code)
    {
    case G_IO_ERROR_NOT_FOUND:
    case G_IO_ERROR_PERMISSION_DENIED:
    case G_IO_ERROR_IS_DIRECTORY:
    case G_IO_ERROR_NOT_REGULAR_FILE:
      return EX_NOINPUT;
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_TIMED_OUT:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
    case G_IO_ERROR_CONNECTION_CLOSED:
    case G_IO_ERROR_CANCELLED:
      return EX_TEMPFAIL;
    case G_IO_ERROR_INVALID_DATA:
    case G_IO_ERROR_MESSAGE_TOO_LARGE:
      return EX_PROTOCOL;
    default:
      return EX_IOERR;
    }
}

int
mkmail_exit_code_for_error (const GError *error, guint reply_code, gboolean any_refusal_transient)
{
  if (error->domain == MK_SMTP_ERROR)
    return exit_code_for_smtp_error (error, reply_code, any_refusal_transient);
  if (error->domain == G_IO_ERROR)
    return exit_code_for_io_error (error->code);
  if (error->domain == G_RESOLVER_ERROR)
    return error->code == G_RESOLVER_ERROR_TEMPORARY_FAILURE ? EX_TEMPFAIL : EX_NOHOST;
  if (error->domain == G_TLS_ERROR)
    return EX_NOPERM;
  if (error->domain == MK_MIME_ERROR)
    return EX_DATAERR;
  if (error->domain == G_FILE_ERROR)
    return EX_NOINPUT;
  if (error->domain == G_KEY_FILE_ERROR)
    return EX_CONFIG;
  if (error->domain == G_OPTION_ERROR)
    return EX_USAGE;
  return EX_SOFTWARE;
}

const char *
mkmail_exit_advice (const GError *error, int exit_code)
{
  /* 77 has two causes with different cures. */
  if (error != NULL && g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION))
    return "check the user name (--user) and the password";
  if (error != NULL && g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS))
    return "the server must offer TLS: check --server and --port, or use --tls=implicit "
           "for port 465";
  if (error != NULL && error->domain == G_TLS_ERROR)
    return "check the server name and its certificate (--cafile)";
  switch (exit_code)
    {
    case EX_USAGE:
      return "see “mkmail --help”";
    case EX_DATAERR:
      return "check the addresses and the message";
    case EX_NOINPUT:
      return "check that the file exists and is readable";
    case EX_NOHOST:
      return "check the server name (--server, --lmtp or the account's server)";
    case EX_UNAVAILABLE:
      return "the server refused permanently: sending again will not help";
    case EX_IOERR:
      return "check the local files and the disk";
    case EX_TEMPFAIL:
      return "nothing was delivered: try again later";
    case EX_PROTOCOL:
      return "the server broke the SMTP protocol: try --debug and report it to its operator";
    case EX_NOPERM:
      return "check the certificate (--cafile) and the credentials (--user, --password-file)";
    case EX_CONFIG:
      return "fix the configuration";
    default:
      return "this is a bug in mkmail: please report it";
    }
}

char *
mkmail_sanitize_text (const char *text)
{
  gsize length = strlen (text);
  const char *end = text + length;
  g_autoptr (GString) out = g_string_sized_new (length);

  for (const char *p = text; p < end;)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* Not UTF-8: one '?' per byte. */
          g_string_append_c (out, '?');
          p++;
          continue;
        }
      if (c != '\n' && c != '\t' && (g_unichar_iscntrl (c) || c == 0x7f))
        g_string_append_c (out, '?');
      else
        g_string_append_unichar (out, c);
      p = g_utf8_next_char (p);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
