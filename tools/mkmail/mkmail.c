/* mkmail.c: compose a message and send it over SMTP or LMTP
 *
 * Built on libmailkit's public API only: the builder composes, the client
 * talks to the server, send_message turns one into the other. This file
 * reads options, decides, and explains failures; it has no protocol code.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <libmailkit/mailkit.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "mkmail-args.h"
#include "mkmail-config.h"
#include "mkmail-exit.h"

/* Messages smaller than this go out too fast for a progress bar to help. */
#define PROGRESS_MIN_BYTES (4 * 1024 * 1024)

typedef struct
{
  /* Composing */
  char *subject;
  char *from;
  char *full_name;
  char **cc;
  char **bcc;
  char **attach;
  char **inline_images;
  char *html_file;
  char *body_file;
  char **headers;
  char *reply_to;
  char **recipients;
  /* Sendmail compatibility */
  gboolean read_recipients;
  gboolean ignore_dots;
  /* Delivery */
  char *server;
  int port;
  char *lmtp;
  char *tls;
  char *cafile;
  gboolean insecure_skip_verify;
  char *user;
  char *password;
  char *password_file;
  char *password_command;
  char *auth;
  char *oauth2_token_command;
  char *dsn_notify;
  char *dsn_return;
  char *dsn_envid;
  gboolean require_tls;
  double timeout;
  char *helo;
  char *account;
  gboolean allow_partial;
  /* Output */
  gboolean print;
  gboolean dry_run;
  gboolean debug;
  gboolean help;
  gboolean version;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->subject);
  g_free (o->from);
  g_free (o->full_name);
  g_strfreev (o->cc);
  g_strfreev (o->bcc);
  g_strfreev (o->attach);
  g_strfreev (o->inline_images);
  g_free (o->html_file);
  g_free (o->body_file);
  g_strfreev (o->headers);
  g_free (o->reply_to);
  g_strfreev (o->recipients);
  g_free (o->server);
  g_free (o->lmtp);
  g_free (o->tls);
  g_free (o->cafile);
  g_free (o->user);
  g_free (o->password);
  g_free (o->password_file);
  g_free (o->password_command);
  g_free (o->auth);
  g_free (o->oauth2_token_command);
  g_free (o->dsn_notify);
  g_free (o->dsn_return);
  g_free (o->dsn_envid);
  g_free (o->helo);
  g_free (o->account);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

/* A failure on its way to the exit code: the error, and what the server
 * said behind it. */
typedef struct
{
  guint reply_code;
  gboolean any_refusal_transient;
} FailureContext;

static int
fail (GError *error, const FailureContext *context)
{
  g_autofree char *text = mkmail_sanitize_text (error->message);
  int code = mkmail_exit_code_for_error (error, context ? context->reply_code : 0,
                                         context ? context->any_refusal_transient : FALSE);

  if (g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN))
    g_printerr ("mkmail: %s: the server may have accepted the message; check with the "
                "recipients before sending it again, or it may arrive twice\n",
                text);
  else
    g_printerr ("mkmail: %s (%s)\n", text, mkmail_exit_advice (error, code));
  return code;
}

static int
usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("mkmail: %s (see “mkmail --help”)\n", message);
  return EX_USAGE;
}

static void
add_group (GOptionContext *context, const char *name, const char *title,
           const GOptionEntry *entries)
{
  GOptionGroup *group = g_option_group_new (name, title, title, NULL, NULL);

  g_option_group_add_entries (group, entries);
  g_option_context_add_group (context, group);
}

/* Descriptions stay short enough for an 80-column terminal: GLib does not
 * wrap them. */
static GOptionContext *
make_option_context (Options *o)
{
  const GOptionEntry main_entries[] = {
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->recipients, NULL, "RECIPIENT…" },
    { NULL },
  };
  const GOptionEntry compose[] = {
    { "subject", 's', 0, G_OPTION_ARG_STRING, &o->subject, "Subject", "TEXT" },
    { "from", 'f', 0, G_OPTION_ARG_STRING, &o->from, "Sender (header and envelope)",
      "ADDRESS" },
    { "cc", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &o->cc, "Carbon copy (repeatable)", "ADDRESS" },
    { "bcc", 'b', 0, G_OPTION_ARG_STRING_ARRAY, &o->bcc, "Blind carbon copy (repeatable)",
      "ADDRESS" },
    { "attach", 'a', 0, G_OPTION_ARG_FILENAME_ARRAY, &o->attach,
      "Attach FILE (repeatable; see below)", "FILE" },
    { "inline", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->inline_images,
      "Image for the HTML: <img src=\"cid:NAME\">", "FILE" },
    { "html", 0, 0, G_OPTION_ARG_FILENAME, &o->html_file, "HTML body from FILE", "FILE" },
    { "body", 0, 0, G_OPTION_ARG_FILENAME, &o->body_file,
      "Text body from FILE (default: stdin)", "FILE" },
    { "header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &o->headers,
      "Add a header (repeatable)", "'NAME: VALUE'" },
    { "reply-to", 0, 0, G_OPTION_ARG_STRING, &o->reply_to, "Reply-To address", "ADDRESS" },
    { NULL },
  };
  const GOptionEntry sendmail[] = {
    { "read-recipients", 't', 0, G_OPTION_ARG_NONE, &o->read_recipients,
      "Send the message on stdin to its To/Cc/Bcc", NULL },
    { "ignore-dots", 'i', 0, G_OPTION_ARG_NONE, &o->ignore_dots,
      "Send the message on stdin (as sendmail -i)", NULL },
    { "envelope-from", 'r', 0, G_OPTION_ARG_STRING, &o->from, "Same as -f", "ADDRESS" },
    { "full-name", 'F', 0, G_OPTION_ARG_STRING, &o->full_name, "Sender's display name", "NAME" },
    { NULL },
  };
  const GOptionEntry delivery[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &o->server, "SMTP server (default localhost:25)",
      "HOST[:PORT]" },
    { "port", 0, 0, G_OPTION_ARG_INT, &o->port, "Server port", "PORT" },
    { "lmtp", 0, 0, G_OPTION_ARG_STRING, &o->lmtp, "Deliver over LMTP instead",
      "HOST[:PORT]|SOCKET" },
    { "tls", 0, 0, G_OPTION_ARG_STRING, &o->tls, "auto, starttls, implicit or none",
      "MODE" },
    { "cafile", 0, 0, G_OPTION_ARG_FILENAME, &o->cafile, "Trust the CAs in FILE", "FILE" },
    { "insecure-skip-verify", 0, 0, G_OPTION_ARG_NONE, &o->insecure_skip_verify,
      "INSECURE: accept any certificate", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o->timeout,
      "Limit on each network wait (default 60)", "SECONDS" },
    { "helo", 0, 0, G_OPTION_ARG_STRING, &o->helo, "Name to give in EHLO/LHLO", "NAME" },
    { "dsn-notify", 0, 0, G_OPTION_ARG_STRING, &o->dsn_notify,
      "never, or success,failure,delay", "WHEN" },
    { "dsn-return", 0, 0, G_OPTION_ARG_STRING, &o->dsn_return,
      "DSN returns full or headers", "WHAT" },
    { "dsn-envid", 0, 0, G_OPTION_ARG_STRING, &o->dsn_envid,
      "Identifier the DSN quotes back", "ID" },
    { "require-tls", 0, 0, G_OPTION_ARG_NONE, &o->require_tls,
      "Every hop must use TLS (REQUIRETLS)", NULL },
    { "allow-partial", 0, 0, G_OPTION_ARG_NONE, &o->allow_partial,
      "Succeed if some recipients were refused", NULL },
    { "account", 0, 0, G_OPTION_ARG_STRING, &o->account,
      "Settings of account NAME (see below)", "NAME" },
    { NULL },
  };
  const GOptionEntry authentication[] = {
    { "user", 0, 0, G_OPTION_ARG_STRING, &o->user, "Authenticate as USER", "USER" },
    { "password", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &o->password, NULL, NULL },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &o->password_file,
      "Read the password from FILE", "FILE" },
    { "password-command", 0, 0, G_OPTION_ARG_STRING, &o->password_command,
      "Read it from what COMMAND prints", "COMMAND" },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &o->auth,
      "SASL mechanism (default: strongest)", "MECH" },
    { "oauth2-token-command", 0, 0, G_OPTION_ARG_STRING, &o->oauth2_token_command,
      "XOAUTH2 with the token COMMAND prints", "COMMAND" },
    { NULL },
  };
  const GOptionEntry output[] = {
    { "print", 0, 0, G_OPTION_ARG_NONE, &o->print,
      "Write the message to stdout; send nothing", NULL },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &o->dry_run, "Like --print, envelope first", NULL },
    { "debug", 0, 0, G_OPTION_ARG_NONE, &o->debug,
      "Trace the conversation (secrets hidden)", NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &o->help, "Show this help", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Show the version", NULL },
    { NULL },
  };
  GOptionContext *context = g_option_context_new (NULL);

  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_set_summary (
      context,
      "Compose a message and send it over SMTP or LMTP.\n"
      "\n"
      "  mkmail -s Report -a report.pdf boss@example.org < body.txt\n"
      "  mkmail --account work -s Hi --html hi.html --inline logo.png bob@example.org\n"
      "  mkmail -t < message.eml       (sendmail mode: recipients from the headers)");
  g_option_context_set_description (
      context,
      "Attachments: -a 'FILE;type=TYPE;name=NAME' sets the content type and the\n"
      "file name the recipient sees; both are optional.\n"
      "\n"
      "TLS: --tls=auto (the default) uses implicit TLS on port 465 and STARTTLS\n"
      "when the server offers it, and requires STARTTLS when a user is given.\n"
      "There is no --password option: other users could read it.\n"
      "\n"
      "Delivery status notifications: --dsn-notify, --dsn-return and --dsn-envid\n"
      "need a server that offers DSN, and --require-tls one that offers REQUIRETLS\n"
      "over TLS; otherwise nothing is sent (exit 69).\n"
      "\n"
      "Accounts: $XDG_CONFIG_HOME/mkmail/config (~/.config/mkmail/config) is a\n"
      "key file with one [NAME] group per account, keys named like the long\n"
      "options (server, port, lmtp, tls, cafile, user, password, password-file,\n"
      "password-command, auth, from, helo, timeout), and default=NAME in a\n"
      "[mkmail] group. A file holding a password must be private (chmod 600).\n"
      "\n"
      "Exit status (sysexits.h):\n"
      "   0  sent                          69  refused permanently, unsupported\n"
      "  64  usage error                   70  internal error\n"
      "  65  bad message data or address   74  local I/O error\n"
      "  66  an input file is unreadable   75  temporary failure: try again\n"
      "  68  unknown host                  76  protocol error\n"
      "  77  TLS or authentication refused 78  configuration error\n"
      "Exit 75 also means \"delivery unknown\" when the connection was lost after\n"
      "the whole message was sent: the message says so.\n"
      "\n"
      "See mkmail(1) for more.");
  g_option_context_add_main_entries (context, main_entries, NULL);
  add_group (context, "compose", "Composing:", compose);
  add_group (context, "sendmail", "Sendmail compatibility:", sendmail);
  add_group (context, "delivery", "Delivery:", delivery);
  add_group (context, "auth", "Authentication:", authentication);
  add_group (context, "output", "Output:", output);
  return context;
}

/* The message and where it goes, once the options have been read. */
typedef struct
{
  GMimeMessage *message;
  char *envelope_from;     /* NULL: from the headers */
  char **envelope_to;      /* NULL: from the headers */
  MkDsnNotify dsn_notify;
  MkDsnReturn dsn_return;
} Outgoing;

static void
outgoing_clear (Outgoing *out)
{
  g_clear_object (&out->message);
  g_free (out->envelope_from);
  g_strfreev (out->envelope_to);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Outgoing, outgoing_clear)

static char *
read_stdin_text (GError **error)
{
  g_autoptr (GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();

  if (isatty (STDIN_FILENO))
    g_printerr ("mkmail: type the message, then press Ctrl-D on a line of its own\n");
  /* The target stays open for the terminating NUL: a closed memory stream
   * takes no more bytes, and the text would not be a C string. */
  if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_NONE, NULL, error) < 0
      || !g_output_stream_write_all (out, "", 1, NULL, NULL, error)
      || !g_output_stream_close (out, NULL, error))
    {
      g_prefix_error (error, "reading standard input: ");
      return NULL;
    }
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
}

static char *
read_text_file (const char *path, GError **error)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  return text;
}

static gboolean
check_utf8 (const char *text, const char *what, GError **error)
{
  if (g_utf8_validate (text, -1, NULL))
    return TRUE;
  g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
               "%s is not UTF-8 text (attach it with -a instead)", what);
  return FALSE;
}

static gboolean
add_header_option (MkMessageBuilder *builder, const char *option, GError **error)
{
  const char *colon = strchr (option, ':');
  g_autofree char *name = NULL;

  if (colon == NULL || colon == option)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "-H “%s”: write the header as 'Name: value'", option);
      return FALSE;
    }
  name = g_strstrip (g_strndup (option, colon - option));
  return mk_message_builder_add_header (builder, name, colon + 1 + strspn (colon + 1, " \t"),
                                        error);
}

static gboolean
add_addresses (MkMessageBuilder *builder,
               gboolean (*add) (MkMessageBuilder *, const char *, GError **),
               char **addresses, GError **error)
{
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    if (!add (builder, addresses[i], error))
      return FALSE;
  return TRUE;
}

static char *
sender_header (const char *address, const char *full_name)
{
  InternetAddress *mailbox;
  char *header;

  if (full_name == NULL)
    return g_strdup (address);
  mailbox = internet_address_mailbox_new (full_name, address);
  header = internet_address_to_string (mailbox, NULL, TRUE);
  g_object_unref (mailbox);
  return header;
}

/* -f may name the sender as a header would ("Alice <alice@example.org>");
 * the envelope takes the bare address. */
static char *
envelope_address (const char *from)
{
  InternetAddressList *list;
  char *address = NULL;

  if (from == NULL)
    return NULL;
  list = internet_address_list_parse (NULL, from);
  if (list != NULL && internet_address_list_length (list) == 1
      && INTERNET_ADDRESS_IS_MAILBOX (internet_address_list_get_address (list, 0)))
    address = g_strdup (internet_address_mailbox_get_addr (
        INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (list, 0))));
  g_clear_object (&list);
  return address != NULL ? address : g_strdup (from);
}

static GMimeMessage *
compose (const Options *o, const char *from, GError **error)
{
  g_autoptr (MkMessageBuilder) builder = mk_message_builder_new ();
  g_autofree char *from_header = sender_header (from, o->full_name);
  g_autofree char *text = NULL;
  g_autofree char *html = NULL;
  const char *body_name = NULL;

  if (!mk_message_builder_set_from (builder, from_header, error)
      || !add_addresses (builder, mk_message_builder_add_to, o->recipients, error)
      || !add_addresses (builder, mk_message_builder_add_cc, o->cc, error)
      || !add_addresses (builder, mk_message_builder_add_bcc, o->bcc, error))
    return NULL;
  if (o->reply_to != NULL && !mk_message_builder_set_reply_to (builder, o->reply_to, error))
    return NULL;
  if (o->subject != NULL && !mk_message_builder_set_subject (builder, o->subject, error))
    return NULL;
  for (guint i = 0; o->headers != NULL && o->headers[i] != NULL; i++)
    if (!add_header_option (builder, o->headers[i], error))
      return NULL;

  /* Attachments first: a missing file must stop us before we wait for a
   * body on the terminal. */
  for (guint i = 0; o->attach != NULL && o->attach[i] != NULL; i++)
    {
      g_autoptr (MkmailAttachmentSpec) spec = mkmail_attachment_spec_parse (o->attach[i], error);

      if (spec == NULL
          || !mk_message_builder_add_attachment (builder, spec->path, spec->name,
                                                 spec->content_type, error))
        return NULL;
    }
  for (guint i = 0; o->inline_images != NULL && o->inline_images[i] != NULL; i++)
    {
      g_autofree char *base = g_path_get_basename (o->inline_images[i]);
      g_autofree char *cid = mk_message_builder_add_inline (builder, o->inline_images[i], base,
                                                            error);
      if (cid == NULL)
        return NULL;
    }
  if (o->html_file != NULL)
    {
      html = read_text_file (o->html_file, error);
      if (html == NULL || !check_utf8 (html, o->html_file, error)
          || !mk_message_builder_set_html (builder, html, error))
        return NULL;
    }

  /* The text body: --body, else standard input unless an HTML body was
   * given and nobody is typing on it. */
  if (o->body_file != NULL)
    {
      body_name = o->body_file;
      text = read_text_file (o->body_file, error);
    }
  else if (html == NULL || !isatty (STDIN_FILENO))
    {
      body_name = "standard input";
      text = read_stdin_text (error);
    }
  if (body_name != NULL)
    {
      if (text == NULL || !check_utf8 (text, body_name, error))
        return NULL;
      /* Nothing on standard input next to an HTML body adds no text part. */
      if ((*text != '\0' || html == NULL) && !mk_message_builder_set_text (builder, text, error))
        return NULL;
    }

  return mk_message_builder_build (builder, error);
}

static GMimeMessage *
read_message_from_stdin (GError **error)
{
  GMimeStream *stream = g_mime_stream_pipe_new (STDIN_FILENO);
  GMimeParser *parser;
  GMimeMessage *message;

  /* GMime 3.2 declares no g_autoptr cleanups for its types. */
  g_mime_stream_pipe_set_owner (GMIME_STREAM_PIPE (stream), FALSE);
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  if (message == NULL)
    g_set_error (error, MK_MIME_ERROR, MK_MIME_ERROR_INVALID,
                 "standard input does not hold a message");
  return message;
}

/* Sendmail's way: the message comes whole on standard input. With -t its
 * recipients are those of its headers plus any named on the command line;
 * without (-i alone, as cron and git send-email call sendmail), only those
 * named on the command line. */
static gboolean
prepare_sendmail_mode (const Options *o, const char *from, Outgoing *out, GError **error)
{
  if (o->attach || o->inline_images || o->html_file || o->body_file || o->subject || o->cc
      || o->bcc || o->headers || o->reply_to)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "-t and -i read a complete message: compose options cannot change it");
      return FALSE;
    }
  if (!o->read_recipients && o->recipients == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "no recipient: name at least one, or use -t to send to the message's own");
      return FALSE;
    }
  out->message = read_message_from_stdin (error);
  if (out->message == NULL)
    return FALSE;
  if (o->full_name != NULL && from != NULL
      && g_mime_message_get_from (out->message) != NULL
      && internet_address_list_length (g_mime_message_get_from (out->message)) == 0)
    {
      g_autofree char *header = sender_header (from, o->full_name);
      g_mime_object_set_header (GMIME_OBJECT (out->message), "From", header, NULL);
    }
  out->envelope_from = envelope_address (from);
  if (!o->read_recipients)
    out->envelope_to = g_strdupv (o->recipients);
  else if (o->recipients != NULL)
    {
      g_autoptr (MkEnvelope) envelope
          = mk_envelope_new_from_message (out->message, out->envelope_from, NULL, error);

      if (envelope == NULL)
        return FALSE;
      for (guint i = 0; o->recipients[i] != NULL; i++)
        if (!mk_envelope_add_recipient (envelope, o->recipients[i], error))
          return FALSE;
      out->envelope_to = g_strdupv ((char **) mk_envelope_get_recipients (envelope));
    }
  return TRUE;
}

/* --dsn-notify and --dsn-return, checked before anything else is done. */
static gboolean
prepare_dsn (const Options *o, Outgoing *out, GError **error)
{
  static const struct
  {
    const char *word;
    MkDsnNotify flag;
  } notify_words[] = {
    { "never", MK_DSN_NOTIFY_NEVER },
    { "success", MK_DSN_NOTIFY_SUCCESS },
    { "failure", MK_DSN_NOTIFY_FAILURE },
    { "delay", MK_DSN_NOTIFY_DELAY },
  };

  if (o->dsn_return != NULL)
    {
      if (g_ascii_strcasecmp (o->dsn_return, "full") == 0)
        out->dsn_return = MK_DSN_RETURN_FULL;
      else if (g_ascii_strcasecmp (o->dsn_return, "headers") == 0)
        out->dsn_return = MK_DSN_RETURN_HEADERS;
      else
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--dsn-return takes full or headers, not “%s”", o->dsn_return);
          return FALSE;
        }
    }
  if (o->dsn_notify != NULL)
    {
      g_auto (GStrv) words = g_strsplit (o->dsn_notify, ",", -1);

      for (guint i = 0; words[i] != NULL; i++)
        {
          gsize j = 0;

          while (j < G_N_ELEMENTS (notify_words)
                 && g_ascii_strcasecmp (words[i], notify_words[j].word) != 0)
            j++;
          if (j == G_N_ELEMENTS (notify_words))
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--dsn-notify takes never, or any of success,failure,delay, not “%s”",
                           o->dsn_notify);
              return FALSE;
            }
          out->dsn_notify |= notify_words[j].flag;
        }
      if ((out->dsn_notify & MK_DSN_NOTIFY_NEVER) != 0 && out->dsn_notify != MK_DSN_NOTIFY_NEVER)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--dsn-notify=never cannot be combined with other values");
          return FALSE;
        }
    }
  return TRUE;
}

/* The envelope the message goes out with: sender and recipients, and what
 * the DSN and REQUIRETLS options ask for. A DSN option given is a
 * requirement: a server without DSN makes the delivery fail (69) rather
 * than silently drop what the user asked for. */
static MkEnvelope *
make_envelope (const Options *o, const Outgoing *out, GError **error)
{
  g_autoptr (MkEnvelope) envelope = mk_envelope_new_from_message (
      out->message, out->envelope_from, (const char *const *) out->envelope_to, error);
  g_autoptr (GError) envid_error = NULL;

  if (envelope == NULL)
    return NULL;
  if (!mk_envelope_set_dsn_notify (envelope, NULL, out->dsn_notify, error))
    return NULL;
  mk_envelope_set_dsn_return (envelope, out->dsn_return);
  if (o->dsn_envid != NULL && !mk_envelope_set_dsn_envid (envelope, o->dsn_envid, &envid_error))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--dsn-envid: %s",
                   envid_error->message);
      return NULL;
    }
  mk_envelope_set_dsn_required (envelope, o->dsn_notify != NULL || o->dsn_return != NULL
                                              || o->dsn_envid != NULL);
  mk_envelope_set_require_tls (envelope, o->require_tls);
  return g_steal_pointer (&envelope);
}

/* Where and how to deliver, from the options and the account. */
typedef struct
{
  gboolean lmtp;
  char *host;
  guint16 port;
  MkTlsMode tls_mode;
  char *user;
  char *secret;
  char *mechanism;
  gboolean secret_is_token;
} Route;

static void
route_clear (Route *route)
{
  g_free (route->host);
  g_free (route->user);
  if (route->secret != NULL)
    memset (route->secret, 0, strlen (route->secret));
  g_free (route->secret);
  g_free (route->mechanism);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Route, route_clear)

/* Every failure to get the secret is a configuration problem (78), even
 * when the cause is a file that cannot be read. */
static gboolean
read_secret (const Options *o, const MkmailAccount *account, Route *route, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *token_command = o->oauth2_token_command;

  if (token_command != NULL)
    {
      route->secret_is_token = TRUE;
      route->secret = mkmail_run_password_command (token_command, &local_error);
    }
  else if (o->password_file != NULL)
    route->secret = mkmail_read_password_file (o->password_file, &local_error);
  else if (o->password_command != NULL)
    route->secret = mkmail_run_password_command (o->password_command, &local_error);
  else if (account->password != NULL)
    route->secret = g_strdup (account->password);
  else if (account->password_file != NULL)
    route->secret = mkmail_read_password_file (account->password_file, &local_error);
  else if (account->password_command != NULL)
    route->secret = mkmail_run_password_command (account->password_command, &local_error);
  else
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "a user is given but no password: use --password-file or --password-command");
      return FALSE;
    }
  if (route->secret == NULL)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "cannot get the %s: %s", route->secret_is_token ? "token" : "password",
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
choose_tls_mode (const char *tls, Route *route, gboolean unix_socket, GError **error)
{
  gboolean credentials = route->user != NULL;

  if (tls == NULL || g_str_equal (tls, "auto"))
    {
      if (unix_socket)
        route->tls_mode = MK_TLS_MODE_NONE;
      else if (route->port == MK_SMTP_SSL_PORT)
        route->tls_mode = MK_TLS_MODE_IMPLICIT;
      else if (credentials)
        route->tls_mode = MK_TLS_MODE_STARTTLS;
      else
        route->tls_mode = MK_TLS_MODE_STARTTLS_OPPORTUNISTIC;
    }
  else if (g_str_equal (tls, "starttls"))
    route->tls_mode = MK_TLS_MODE_STARTTLS;
  else if (g_str_equal (tls, "implicit"))
    route->tls_mode = MK_TLS_MODE_IMPLICIT;
  else if (g_str_equal (tls, "none"))
    route->tls_mode = MK_TLS_MODE_NONE;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--tls takes auto, starttls, implicit or none, not “%s”", tls);
      return FALSE;
    }
  return TRUE;
}

static gboolean
plan_route (const Options *o, const MkmailAccount *account, Route *route, GError **error)
{
  const char *lmtp = o->lmtp ? o->lmtp : (o->server ? NULL : account->lmtp);
  const char *server = o->server ? o->server : account->server;
  guint port = o->port > 0 ? (guint) o->port : account->port;
  gboolean unix_socket = FALSE;
  guint16 default_port;

  if (o->port < 0 || o->port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--port takes a number from 1 to 65535");
      return FALSE;
    }
  route->lmtp = lmtp != NULL;
  if (lmtp != NULL && lmtp[0] == '/')
    {
      unix_socket = TRUE;
      route->host = g_strdup (lmtp);
    }
  else
    {
      g_autoptr (GError) local_error = NULL;

      default_port = lmtp != NULL ? 2003 : MK_SMTP_PORT;
      if (!mk_net_parse_host_port (lmtp ? lmtp : (server ? server : "localhost"), default_port,
                                   &route->host, &route->port, &local_error))
        {
          g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                               local_error->message);
          return FALSE;
        }
      if (port != 0)
        route->port = port;
    }

  route->user = g_strdup (o->user ? o->user : account->user);
  route->mechanism = g_strdup (o->auth ? o->auth : account->auth);
  if (o->oauth2_token_command != NULL && route->user == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--oauth2-token-command needs --user");
      return FALSE;
    }
  if (route->user != NULL && !read_secret (o, account, route, error))
    return FALSE;
  /* With --tls=auto a plain port 25 server without credentials gets
   * opportunistic STARTTLS; a user's secret never travels in the clear. */
  return choose_tls_mode (o->tls ? o->tls : account->tls, route, unix_socket, error);
}

typedef struct
{
  gint64 started;
  gboolean drawn;
  /* The last report: once every byte is out, the final '.' may be too. */
  guint64 sent;
  guint64 total;
} Progress;

static void
on_progress (MkSmtpClient *client, guint64 sent, guint64 total, Progress *progress)
{
  double seconds, rate;
  int width = 30, filled;

  progress->sent = sent;
  progress->total = total;
  if (total < PROGRESS_MIN_BYTES || !isatty (STDERR_FILENO))
    return;
  if (progress->started == 0)
    progress->started = g_get_monotonic_time ();
  seconds = (g_get_monotonic_time () - progress->started) / (double) G_USEC_PER_SEC;
  rate = seconds > 0 ? sent / seconds : 0;
  filled = (int) (width * (double) sent / total);
  g_printerr ("\r[%.*s%*s] %3d%% %.1f of %.1f MiB, %.1f MiB/s ", filled,
              "##############################", width - filled, "", (int) (100.0 * sent / total),
              sent / 1048576.0, total / 1048576.0, rate / 1048576.0);
  progress->drawn = TRUE;
  if (sent == total)
    g_printerr ("\n");
}

static void
report_refused (GHashTable *refused, gboolean *any_transient)
{
  GHashTableIter iter;
  gpointer address, reply;

  *any_transient = FALSE;
  g_hash_table_iter_init (&iter, refused);
  while (g_hash_table_iter_next (&iter, &address, &reply))
    {
      g_autofree char *text = mkmail_sanitize_text (mk_smtp_reply_get_text (reply));
      g_autofree char *who = mkmail_sanitize_text (address);

      *any_transient = *any_transient || mk_smtp_reply_is_transient (reply);
      g_printerr ("mkmail: %s: refused: %u %s\n", who, mk_smtp_reply_get_code (reply), text);
    }
}

typedef struct
{
  const Options *options;
  const char *cafile;
  const char *helo;
  double timeout;
  Route *route;
  Outgoing *outgoing;
  MkEnvelope *envelope;
  GCancellable *cancellable;
  int exit_code;
} Job;

static int
deliver (Job *job)
{
  const Options *o = job->options;
  Route *route = job->route;
  Outgoing *out = job->outgoing;
  g_autoptr (MkSmtpClient) client = route->lmtp ? mk_lmtp_client_new () : mk_smtp_client_new ();
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  FailureContext context = { 0 };
  Progress progress = { 0 };
  gboolean sent;

  g_object_set (client, "tls-mode", route->tls_mode, "tls-insecure-skip-verify",
                o->insecure_skip_verify, NULL);
  if (job->timeout > 0)
    g_object_set (client, "timeout", job->timeout, NULL);
  if (job->cafile != NULL)
    g_object_set (client, "tls-ca-file", job->cafile, NULL);
  if (job->helo != NULL)
    g_object_set (client, "local-hostname", job->helo, NULL);
  if (o->debug)
    mk_smtp_client_set_debuglevel (client, 1);
  g_signal_connect (client, "progress", G_CALLBACK (on_progress), &progress);

  /* The stage goes first in the message, so the one line says where it
   * failed: the server, then logging in, then the transaction. */
  reply = mk_smtp_client_connect (client, route->host, route->port, job->cancellable, &error);
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  if (error != NULL)
    {
      if (route->port != 0)
        g_prefix_error (&error, "%s port %u: ", route->host, route->port);
      else
        g_prefix_error (&error, "%s: ", route->host);
    }
  if (error == NULL && route->user != NULL)
    {
      if (route->mechanism != NULL || route->secret_is_token)
        reply = mk_smtp_client_auth (client, route->mechanism ? route->mechanism : "XOAUTH2",
                                     route->user, route->secret, job->cancellable, &error);
      else
        reply = mk_smtp_client_login (client, route->user, route->secret, job->cancellable,
                                      &error);
      g_clear_pointer (&reply, mk_smtp_reply_unref);
      if (error != NULL)
        g_prefix_error (&error, "logging in as %s: ", route->user);
    }
  if (error == NULL)
    {
      sent = mk_smtp_client_send_message_full (client, out->message, job->envelope, &refused,
                                               job->cancellable, &error);
      if (progress.drawn && !sent)
        g_printerr ("\n");
    }
  /* The library reports a cancel as a cancel (GIO's rule), wherever it
   * came; after the whole message went out the server may have it. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && progress.total > 0
      && progress.sent >= progress.total)
    {
      g_clear_error (&error);
      g_set_error_literal (&error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN,
                           "interrupted while the server was taking the message");
    }
  if (error != NULL)
    {
      MkSmtpReply *last = mk_smtp_client_get_last_reply (client);

      context.reply_code = last != NULL ? mk_smtp_reply_get_code (last) : 0;
      if (refused != NULL && g_hash_table_size (refused) > 0)
        report_refused (refused, &context.any_refusal_transient);
      mk_smtp_client_close (client);
      return fail (error, &context);
    }

  /* Delivered: a failing QUIT changes nothing, it is only worth a note. */
  reply = mk_smtp_client_quit (client, NULL, &error);
  if (error != NULL && o->debug)
    g_printerr ("mkmail: note: the message was sent; QUIT failed: %s\n", error->message);

  if (refused != NULL && g_hash_table_size (refused) > 0)
    {
      gboolean any_transient;

      report_refused (refused, &any_transient);
      if (!o->allow_partial)
        {
          g_printerr ("mkmail: the message was sent to the other recipients (--allow-partial "
                      "makes this a success)\n");
          return any_transient ? EX_TEMPFAIL : EX_UNAVAILABLE;
        }
    }
  return EX_OK;
}

static void
deliver_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;

  job->exit_code = deliver (job);
  g_task_return_boolean (task, TRUE);
}

static gboolean
on_interrupt (gpointer cancellable)
{
  /* What became of the message is said by the line that follows, once the
   * delivery has stopped: the final '.' may already have gone out. */
  g_printerr ("\nmkmail: interrupted: closing the connection\n");
  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

static void
on_delivered (GObject *source, GAsyncResult *result, gpointer loop)
{
  g_main_loop_quit (loop);
}

/* Delivery runs in a worker thread so that Ctrl-C (SIGINT) or SIGTERM can
 * cancel it cleanly: the connection is closed without the end of data, so
 * the server never takes a half-sent message. */
static int
run_delivery (Job *job)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, on_delivered, loop);
  guint sigint = g_unix_signal_add (SIGINT, on_interrupt, cancellable);
  guint sigterm = g_unix_signal_add (SIGTERM, on_interrupt, cancellable);

  job->cancellable = cancellable;
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, deliver_in_thread);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  return job->exit_code;
}

static int
print_message (const Options *o, const Outgoing *out, gboolean with_envelope)
{
  g_autoptr (GOutputStream) stdout_stream = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
  g_autoptr (GError) error = NULL;

  if (with_envelope)
    {
      g_autoptr (MkEnvelope) envelope = make_envelope (o, out, &error);
      g_autofree char *to = NULL;

      if (envelope == NULL)
        return fail (error, NULL);
      to = g_strjoinv (", ", (char **) mk_envelope_get_recipients (envelope));
      g_print ("Envelope-From: <%s>\nEnvelope-To: %s\n\n", mk_envelope_get_reverse_path (envelope),
               to);
      fflush (stdout);
    }
  if (!mk_message_write_to_stream (out->message, stdout_stream, NULL, &error))
    return fail (error, NULL);
  return EX_OK;
}

int
main (int argc, char **argv)
{
  g_auto (Options) o = { 0 };
  g_auto (Outgoing) out = { 0 };
  g_auto (Route) route = { 0 };
  g_autoptr (GOptionContext) context = make_option_context (&o);
  g_autoptr (MkmailAccount) account = NULL;
  g_autoptr (MkEnvelope) envelope = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) args = NULL;
  g_autofree char *config_path = NULL;
  const char *from;
  Job job = { 0 };

  setlocale (LC_ALL, "");
  /* -t hands standard input to GMime's parser before any library object
   * exists, so GMime must be ready first. */
  mk_init ();
  /* A server that resets the connection must give an error, not kill us. */
  signal (SIGPIPE, SIG_IGN);

  args = mkmail_normalise_argv (argc, argv);
  if (!g_option_context_parse_strv (context, &args, &error))
    return usage_error ("%s", error->message);
  if (o.help)
    {
      g_autofree char *help = g_option_context_get_help (context, FALSE, NULL);

      g_print ("%s", help);
      return EX_OK;
    }
  if (o.version)
    {
      g_print ("mkmail %s (libmailkit %s)\n", PACKAGE_VERSION, mk_get_version ());
      return EX_OK;
    }
  if (o.password != NULL)
    return usage_error ("a password on the command line can be read by other users: "
                        "use --password-file or --password-command");

  config_path = mkmail_config_path ();
  account = mkmail_config_load (config_path, o.account, &error);
  if (account == NULL)
    return fail (error, NULL);

  /* -t takes the sender from Sender or From unless one is given. */
  from = o.from ? o.from : account->from;
  if (o.read_recipients || o.ignore_dots)
    {
      if (!prepare_sendmail_mode (&o, from, &out, &error))
        return fail (error, NULL);
    }
  else
    {
      if (o.recipients == NULL && o.cc == NULL && o.bcc == NULL)
        return usage_error ("no recipient: name at least one, or use -t");
      if (from == NULL)
        from = g_getenv ("EMAIL");
      if (from == NULL)
        return usage_error ("no sender: give -f ADDRESS, set from= in an account, or set $EMAIL");
      out.message = compose (&o, from, &error);
      if (out.message == NULL)
        return fail (error, NULL);
      out.envelope_from = envelope_address (o.from);
    }
  if (!prepare_dsn (&o, &out, &error))
    return fail (error, NULL);

  if (o.print || o.dry_run)
    return print_message (&o, &out, o.dry_run);

  if (!plan_route (&o, account, &route, &error))
    return fail (error, NULL);
  if (o.insecure_skip_verify)
    g_printerr ("mkmail: WARNING: --insecure-skip-verify: the server's identity is not checked; "
                "anyone on the path can read and change this message\n");

  envelope = make_envelope (&o, &out, &error);
  if (envelope == NULL)
    return fail (error, NULL);
  job.options = &o;
  job.route = &route;
  job.outgoing = &out;
  job.envelope = envelope;
  job.cafile = o.cafile ? o.cafile : account->cafile;
  job.helo = o.helo ? o.helo : account->helo;
  job.timeout = o.timeout > 0 ? o.timeout : account->timeout;
  return run_delivery (&job);
}
