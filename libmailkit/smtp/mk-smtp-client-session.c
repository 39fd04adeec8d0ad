/* mk-smtp-client-session.c: the protocol of MkSmtpClient
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every function here is blocking and cancellable, and runs inside a step
 * (mk-smtp-client.c runs steps in the caller's thread or in a worker
 * thread). The mail transaction is in mk-smtp-client-transaction.c.
 *
 * Recovery policy, the same for every call: a refusing reply leaves the
 * session usable (sendmail sends RSET); a 421 (RFC 5321 §3.8: the server
 * closes), an I/O error, a timeout, a protocol violation or a cancelled
 * call closes the connection.
 */
#include "config.h"

#include <string.h>

#include <libmailkit/net/mk-net-address.h>

#include "mk-lmtp-client.h"
#include "mk-sasl-session-private.h"
#include "mk-smtp-client-session-private.h"
#include "mk-smtp-command-private.h"
#include "mk-smtp-data-stream-private.h"
#include "mk-smtp-error.h"

/* A reply text in an error message is cut here, so a hostile server cannot
 * make error messages (and logs, and dialogs) arbitrarily long. */
#define ERROR_TEXT_MAX 200

/* Unsolicited bytes quoted in the desync error: enough to recognise them. */
#define UNSOLICITED_TEXT_MAX 80

/* What a line sent asks for, as far as keeping in step needs to know. */
typedef enum
{
  REPLY_TO_OTHER,
  REPLY_TO_MAIL,
  REPLY_TO_RCPT,
  REPLY_TO_DATA,
  REPLY_TO_STARTTLS,
  REPLY_TO_QUIT,
} ReplyTo;

static const char *const state_names[] = { "disconnected", "connected", "ready", "mail", "data" };

#define PRIV(self) mk_smtp_client_get_private (self)

/* ---------------------------------------------------------------------- */
/* The trace. */

/* smtplib's debug output: level 1 the conversation, level 2 with the wall
 * clock time in front of every line. */
void
mk_smtp_session_trace (MkSmtpClient *self, const char *format, ...)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autofree char *message = NULL;
  va_list args;

  if (priv->debuglevel <= 0)
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (priv->debuglevel >= 2)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S");

      mk_smtp_client_emit_trace (
          self, g_strdup_printf ("%s.%06d %s", stamp, g_date_time_get_microsecond (now), message));
    }
  else
    mk_smtp_client_emit_trace (self, g_steal_pointer (&message));
}

/* Server text and our own lines as printable ASCII, so a trace cannot carry
 * terminal escapes from a hostile server. */
static char *
printable (const char *text, gsize length)
{
  GString *out = g_string_sized_new (length + 8);

  for (gsize i = 0; i < length; i++)
    {
      guchar c = text[i];
      if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c < 0x20 || c >= 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_c (out, c);
    }
  return g_string_free (out, FALSE);
}

void
mk_smtp_session_set_state (MkSmtpClient *self, MkSmtpSessionState state)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (priv->state == state)
    return;
  /* A body that no 354 announced is BDAT: its writer alone knows how many
   * chunks, hence replies, are out, until it leaves the DATA state. */
  priv->body_uncounted = state == MK_SMTP_SESSION_DATA && priv->body_replies == 0;
  /* Structured g_debug() formats its message before any writer drops it:
   * a few microseconds a message when many go over one connection. */
  if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    g_debug ("SMTP session %p: %s → %s", self, state_names[priv->state], state_names[state]);
  priv->state = state;
}

/* ---------------------------------------------------------------------- */
/* The connection: net/'s MkConnection, and its errors in smtp/ terms. */

/* DESIGN.md, "Errors by layer": the end of the stream is
 * MK_SMTP_ERROR_SERVER_DISCONNECTED, a malformed or oversized reply and
 * bytes after the STARTTLS 220 are MK_SMTP_ERROR_RESPONSE; timeouts,
 * cancellation and TLS errors stay GIO's. */
static void
translate_connection_error (GError **error, const char *stage)
{
  GError *original;

  if (error == NULL || *error == NULL || (*error)->domain != G_IO_ERROR)
    return;
  original = *error;
  switch (original->code)
    {
    case G_IO_ERROR_CONNECTION_CLOSED:
    case G_IO_ERROR_PARTIAL_INPUT:
    case G_IO_ERROR_NOT_CONNECTED:
      *error = g_error_new (MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED,
                            "%s: connection unexpectedly closed: %s", stage, original->message);
      break;
    case G_IO_ERROR_MESSAGE_TOO_LARGE:
    case G_IO_ERROR_INVALID_DATA:
      *error
          = g_error_new (MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE, "%s: %s", stage, original->message);
      break;
    default:
      return;
    }
  g_error_free (original);
}

static MkTlsPolicy *
tls_policy (MkSmtpClient *self)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  MkTlsPolicy *policy = mk_tls_policy_new ();

  mk_tls_policy_set_ca_file (policy, priv->tls_ca_file);
  mk_tls_policy_set_client_certificate (policy, priv->tls_client_certificate);
  mk_tls_policy_set_client_key (policy, priv->tls_client_key);
  mk_tls_policy_set_pin_sha256 (policy, priv->tls_pin_sha256);
  mk_tls_policy_set_insecure_skip_verify (policy, priv->tls_insecure_skip_verify);
  return policy;
}

static gboolean
connection_start_tls (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkTlsPolicy) policy = tls_policy (self);
  gboolean ok;

  ok = mk_connection_start_tls (priv->connection, policy, priv->tls_server_name, cancellable,
                                error);
  translate_connection_error (error, "TLS");
  return ok;
}

static MkConnection *
connection_open (MkSmtpClient *self, const char *address, guint16 port, guint16 default_port,
                 GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkConnection) connection = mk_connection_new ();
  g_autofree char *host = NULL;

  /* smtplib's host:port rule when no port is given, without its IPv6
   * blind spot; a unix socket path is taken whole. */
  if (address[0] == '/')
    host = g_strdup (address);
  else if (port != 0)
    host = g_strdup (address);
  else if (!mk_net_parse_host_port (address, default_port, &host, &port, error))
    return NULL;
  mk_connection_set_timeout (connection, priv->timeout);
  mk_connection_set_reply_timeout (connection, priv->timeout);
  if (!mk_connection_set_source_address (connection, priv->source_address, error))
    return NULL;
  mk_smtp_session_trace (self, "connect: to (%s, %u) %s", host, port,
                         priv->source_address ? priv->source_address : "");
  if (!mk_connection_connect (connection, host, port, cancellable, error))
    return NULL;
  return g_steal_pointer (&connection);
}

/* ---------------------------------------------------------------------- */
/* The session: connection, commands, replies. */

static void
forget_greeting (MkSmtpClient *self)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  g_clear_pointer (&priv->helo_resp, mk_smtp_reply_unref);
  g_clear_pointer (&priv->ehlo_resp, mk_smtp_reply_unref);
  g_clear_pointer (&priv->capabilities, mk_smtp_capabilities_unref);
  priv->does_esmtp = FALSE;
}

void
mk_smtp_session_close (MkSmtpClient *self)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (priv->connection != NULL)
    {
      mk_smtp_session_trace (self, "close: %s", priv->host ? priv->host : "");
      mk_connection_close (priv->connection);
      g_clear_object (&priv->connection);
    }
  g_clear_pointer (&priv->parser, mk_smtp_reply_parser_free);
  forget_greeting (self);
  priv->accepted_recipients = 0;
  g_queue_clear (&priv->awaiting);
  priv->body_replies = 0;
  mk_smtp_session_set_state (self, MK_SMTP_SESSION_DISCONNECTED);
}

static gboolean
is_connected (MkSmtpClient *self, GError **error)
{
  if (PRIV (self)->connection != NULL)
    return TRUE;
  g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED,
                       "Not connected: call connect() first");
  return FALSE;
}

/* CR or LF would end the command line early: refused in every argument
 * before anything is sent, EHLO included (smtplib bpo-43124 checks only the
 * final line, after address parsing has rewritten it). The formatters check
 * the rest of each argument's grammar. */
gboolean
mk_smtp_session_check_argument (const char *what, const char *value, GError **error)
{
  if (value == NULL || strpbrk (value, "\r\n") == NULL)
    return TRUE;
  g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
               "The %s contains a line break, which would inject SMTP commands", what);
  return FALSE;
}

gboolean
mk_smtp_session_check_arguments (const char *what, const char *const *values, GError **error)
{
  for (gsize i = 0; values != NULL && values[i] != NULL; i++)
    if (!mk_smtp_session_check_argument (what, values[i], error))
      return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Keeping in step: every reply answers one line sent, or the body. */

static ReplyTo
reply_to (const char *line)
{
  if (g_ascii_strncasecmp (line, "MAIL FROM:", 10) == 0)
    return REPLY_TO_MAIL;
  if (g_ascii_strncasecmp (line, "RCPT TO:", 8) == 0)
    return REPLY_TO_RCPT;
  if (g_ascii_strcasecmp (line, "DATA") == 0)
    return REPLY_TO_DATA;
  if (g_ascii_strcasecmp (line, "STARTTLS") == 0)
    return REPLY_TO_STARTTLS;
  if (g_ascii_strcasecmp (line, "QUIT") == 0)
    return REPLY_TO_QUIT;
  return REPLY_TO_OTHER;
}

/* The replies a body sent after DATA's 354 is owed: one, or for LMTP one
 * per accepted recipient (RFC 2033 §4.2). */
static guint
body_reply_count (MkSmtpClientPrivate *priv)
{
  return priv->lmtp ? MAX (priv->accepted_recipients, 1) : 1;
}

static gboolean
nothing_outstanding (MkSmtpClientPrivate *priv)
{
  return g_queue_is_empty (&priv->awaiting) && priv->body_replies == 0 && !priv->body_uncounted;
}

/* Hostile-peers rule 7 (catalogue T28, T29, T95): with nothing
 * outstanding, a byte from the server is a reply nobody asked for, and the
 * replies read so far may have been paired with the wrong commands (an
 * extra 250 read as the answer to the next DATA …). The session cannot be
 * trusted any more: closed, never reused. A 421 is the exception: RFC 5321
 * §3.8 lets a server announce its shutdown at any time, and the next read
 * takes it as the reply it is. @when says where the bytes were found. */
static gboolean
check_in_step (MkSmtpClient *self, const char *stage, const char *when, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  const char *bytes = NULL;
  g_autofree char *shown = NULL;
  GError *local_error;
  const char *end;
  gsize length = 0;

  if (!mk_connection_has_pending_input (priv->connection, &bytes, &length)
      || strncmp (bytes, "421", MIN (length, 3)) == 0)
    return TRUE;
  end = memchr (bytes, '\n', length);
  if (end != NULL)
    length = end - bytes;
  if (length > 0 && bytes[length - 1] == '\r')
    length--;
  shown = printable (bytes, MIN (length, UNSOLICITED_TEXT_MAX));
  local_error = g_error_new (MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE,
                             "%s: the server sent a reply that was not asked for (“%s%s” %s): the "
                             "session is out of step and was closed",
                             stage, shown, length > UNSOLICITED_TEXT_MAX ? "…" : "", when);
  mk_smtp_session_trace (self, "desync: %s", local_error->message);
  mk_smtp_session_close (self);
  g_propagate_error (error, local_error);
  return FALSE;
}

/* The first word of what the trace shows of @line: the command, never a
 * secret. */
static char *
command_name (const char *line, const char *shown)
{
  const char *text = shown != NULL ? shown : line;

  return printable (text, MIN (strcspn (text, " "), ERROR_TEXT_MAX));
}

/* Writes one command line into the connection's output buffer, without
 * flushing it. @shown is what the trace shows instead (a redacted AUTH). */
gboolean
mk_smtp_session_queue_line (MkSmtpClient *self, const char *line, const char *shown,
                            GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autofree char *text = g_strconcat (line, "\r\n", NULL);

  if (!is_connected (self, error))
    return FALSE;
  if (nothing_outstanding (priv))
    {
      g_autofree char *name = command_name (line, shown);

      if (!check_in_step (self, name, "before the command was sent", error))
        return FALSE;
    }
  g_queue_push_tail (&priv->awaiting, GINT_TO_POINTER (reply_to (line)));
  if (shown != NULL)
    mk_smtp_session_trace (self, "send: '%s\\r\\n'", shown);
  else if (priv->debuglevel > 0)
    {
      g_autofree char *escaped = printable (line, strlen (line));
      mk_smtp_session_trace (self, "send: '%s\\r\\n'", escaped);
    }
  if (!g_output_stream_write_all (mk_connection_get_output_stream (priv->connection), text,
                                  strlen (text), NULL, cancellable, error))
    {
      translate_connection_error (error, "Sending");
      mk_smtp_session_close (self);
      return FALSE;
    }
  return TRUE;
}

gboolean
mk_smtp_session_flush (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (!is_connected (self, error))
    return FALSE;
  if (!mk_connection_flush (priv->connection, cancellable, error))
    {
      translate_connection_error (error, "Sending");
      mk_smtp_session_close (self);
      return FALSE;
    }
  return TRUE;
}

static void
set_last_reply (MkSmtpClient *self, MkSmtpReply *reply)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  g_clear_pointer (&priv->last_reply, mk_smtp_reply_unref);
  priv->last_reply = mk_smtp_reply_ref (reply);
}

char *
mk_smtp_session_reply_summary (const MkSmtpReply *reply)
{
  const char *text = mk_smtp_reply_get_text (reply);
  gsize length = strlen (text);
  g_autofree char *shown = printable (text, MIN (length, ERROR_TEXT_MAX));

  return g_strdup_printf ("%u %s%s", mk_smtp_reply_get_code (reply), shown,
                          length > ERROR_TEXT_MAX ? "…" : "");
}

void
mk_smtp_session_set_reply_error (GError **error, MkSmtpError code, const char *stage,
                                 const MkSmtpReply *reply)
{
  g_autofree char *summary = mk_smtp_session_reply_summary (reply);

  g_set_error (error, MK_SMTP_ERROR, code, "%s refused: %s", stage, summary);
}

/* Takes @reply as the answer to the oldest line outstanding, or to the
 * body; returns whether it was the last reply owed (then nothing is left
 * for the server to say). */
static gboolean
account_reply (MkSmtpClient *self, const char *stage, const MkSmtpReply *reply, ReplyTo *to)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  *to = REPLY_TO_OTHER;
  if (g_strcmp0 (stage, MK_SMTP_STAGE_END_OF_DATA) == 0
      || g_strcmp0 (stage, MK_SMTP_STAGE_BDAT) == 0)
    {
      /* A reply the body's writer counts (BDAT) leaves the count alone. */
      if (priv->body_replies == 0)
        return FALSE;
      priv->body_replies--;
    }
  else if (!g_queue_is_empty (&priv->awaiting))
    *to = GPOINTER_TO_INT (g_queue_pop_head (&priv->awaiting));

  if (*to == REPLY_TO_MAIL)
    priv->accepted_recipients = 0;
  else if (*to == REPLY_TO_RCPT && mk_smtp_session_reply_is_positive (reply))
    priv->accepted_recipients++;
  return nothing_outstanding (priv);
}

/* Reads one whole reply. The end of the stream is
 * MK_SMTP_ERROR_SERVER_DISCONNECTED, a malformed or oversized reply
 * MK_SMTP_ERROR_RESPONSE; both, any I/O error and a 421 close the session.
 * @stage names what the reply answers, for error messages. */
MkSmtpReply *
mk_smtp_session_read_reply (MkSmtpClient *self, const char *stage, GCancellable *cancellable,
                            GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;
  ReplyTo to;
  gboolean last;

  if (!is_connected (self, error))
    return NULL;
  if (priv->parser == NULL)
    priv->parser = mk_smtp_reply_parser_new ();
  mk_connection_begin_reply (priv->connection);
  while (reply == NULL)
    {
      g_autoptr (GError) local_error = NULL;
      g_autofree char *line = NULL;
      gsize length = 0;

      line = mk_connection_read_line (priv->connection, &length, cancellable, &local_error);
      translate_connection_error (&local_error, stage);
      if (line != NULL)
        {
          if (priv->debuglevel > 0)
            {
              g_autofree char *shown = printable (line, length);
              mk_smtp_session_trace (self, "reply: '%s\\r\\n'", shown);
            }
          mk_smtp_reply_parser_feed_line (priv->parser, line, length, &reply, &local_error);
        }
      if (local_error != NULL)
        {
          mk_smtp_session_close (self);
          if (line != NULL)
            g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", stage);
          else
            g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  set_last_reply (self, reply);
  /* The trace's strings are built only when someone reads the trace: this
   * runs for every reply of every message. */
  if (priv->debuglevel > 0)
    {
      g_autofree char *summary = mk_smtp_session_reply_summary (reply);
      mk_smtp_session_trace (self, "reply: retcode (%s)", summary);
    }
  last = account_reply (self, stage, reply, &to);
  if (mk_smtp_reply_get_code (reply) == 421)
    {
      mk_smtp_session_close (self);
      return g_steal_pointer (&reply);
    }
  /* After QUIT the session ends whatever follows; after STARTTLS's 220 the
   * connection refuses any byte before the handshake itself. */
  if (last && to != REPLY_TO_QUIT
      && !(to == REPLY_TO_STARTTLS && mk_smtp_reply_get_code (reply) == 220)
      && !check_in_step (self, stage, "after the reply to the last command", error))
    return NULL;
  /* The body goes out after this: its replies are owed from now. */
  if (to == REPLY_TO_DATA && mk_smtp_session_reply_is (reply, 354))
    priv->body_replies += body_reply_count (priv);
  return g_steal_pointer (&reply);
}

static MkSmtpReply *
command (MkSmtpClient *self, const char *line, const char *stage, GCancellable *cancellable,
         GError **error)
{
  if (!mk_smtp_session_queue_line (self, line, NULL, cancellable, error)
      || !mk_smtp_session_flush (self, cancellable, error))
    return NULL;
  return mk_smtp_session_read_reply (self, stage, cancellable, error);
}

gboolean
mk_smtp_session_reply_is (const MkSmtpReply *reply, guint code)
{
  return reply != NULL && mk_smtp_reply_get_code (reply) == code;
}

gboolean
mk_smtp_session_reply_is_positive (const MkSmtpReply *reply)
{
  return reply != NULL && mk_smtp_reply_get_code (reply) / 100 == 2;
}

/* RSET after a refusal, so the next transaction starts clean. Failures are
 * not reported: the refusal is the error the caller needs (bpo-17498); a
 * lost connection simply stays closed. The refusal also stays the last
 * reply, since that is the reply behind the error the caller gets. */
void
mk_smtp_session_safety_rset (MkSmtpClient *self, GCancellable *cancellable)
{
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (MkSmtpReply) refusal = NULL;

  if (PRIV (self)->connection == NULL)
    return;
  if (PRIV (self)->last_reply != NULL)
    refusal = mk_smtp_reply_ref (PRIV (self)->last_reply);
  reply = command (self, "RSET", "RSET", cancellable, NULL);
  if (reply != NULL)
    mk_smtp_session_set_state (self, MK_SMTP_SESSION_READY);
  if (refusal != NULL)
    set_last_reply (self, refusal);
}

/* smtplib's default: the machine's name when it is fully qualified, else
 * an address literal of the address the machine's name resolves to (a
 * local lookup), else [127.0.0.1]. */
static char *
default_local_hostname (GCancellable *cancellable)
{
  const char *name = g_get_host_name ();
  GResolver *resolver;
  GList *addresses;
  char *literal = NULL;

  if (strchr (name, '.') != NULL)
    return g_strdup (name);
  resolver = g_resolver_get_default ();
  addresses = g_resolver_lookup_by_name_with_flags (
      resolver, name, G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY, cancellable, NULL);
  if (addresses != NULL)
    {
      g_autofree char *text = g_inet_address_to_string (addresses->data);
      literal = g_strdup_printf ("[%s]", text);
    }
  g_resolver_free_addresses (addresses);
  g_object_unref (resolver);
  return literal != NULL ? literal : g_strdup ("[127.0.0.1]");
}

static char *
hello_name (MkSmtpClient *self, const char *name, GCancellable *cancellable)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (name != NULL && *name != '\0')
    return g_strdup (name);
  if (priv->local_hostname != NULL)
    return g_strdup (priv->local_hostname);
  priv->local_hostname = default_local_hostname (cancellable);
  return g_strdup (priv->local_hostname);
}

MkSmtpReply *
mk_smtp_session_connect (MkSmtpClient *self, const char *host, guint16 port,
                         GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) greeting = NULL;
  guint16 default_port;

  /* smtplib leaks the previous socket; we close it. */
  mk_smtp_session_close (self);
  if (priv->lmtp)
    default_port = MK_LMTP_PORT;
  else if (priv->tls_mode == MK_TLS_MODE_IMPLICIT)
    default_port = MK_SMTP_SSL_PORT;
  else
    default_port = MK_SMTP_PORT;

  priv->connection = connection_open (self, host, port, default_port, cancellable, error);
  if (priv->connection == NULL)
    return NULL;
  if (priv->tls_mode == MK_TLS_MODE_IMPLICIT && !connection_start_tls (self, cancellable, error))
    {
      mk_smtp_session_close (self);
      return NULL;
    }
  g_free (priv->host);
  priv->host = g_strdup (mk_connection_get_host (priv->connection));
  mk_smtp_session_set_state (self, MK_SMTP_SESSION_CONNECTED);

  /* The greeting is the first reply owed; bytes after its last line,
   * before EHLO, are unsolicited. */
  g_queue_push_tail (&priv->awaiting, GINT_TO_POINTER (REPLY_TO_OTHER));
  greeting = mk_smtp_session_read_reply (self, "Greeting", cancellable, error);
  if (greeting == NULL)
    return NULL;
  if (!mk_smtp_session_reply_is (greeting, 220))
    {
      mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_CONNECT, "Greeting", greeting);
      mk_smtp_session_close (self);
      return NULL;
    }
  return g_steal_pointer (&greeting);
}

MkSmtpReply *
mk_smtp_session_helo (MkSmtpClient *self, const char *name, GCancellable *cancellable,
                      GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autofree char *hostname = hello_name (self, name, cancellable);
  g_autofree char *line = NULL;
  MkSmtpReply *reply;

  if (!is_connected (self, error))
    return NULL;
  line = mk_smtp_command_helo (hostname, error);
  if (line == NULL)
    return NULL;
  reply = command (self, line, "HELO", cancellable, error);
  if (reply == NULL)
    return NULL;
  g_clear_pointer (&priv->helo_resp, mk_smtp_reply_unref);
  priv->helo_resp = mk_smtp_reply_ref (reply);
  if (mk_smtp_session_reply_is_positive (reply) && priv->connection != NULL)
    mk_smtp_session_set_state (self, MK_SMTP_SESSION_READY);
  return reply;
}

MkSmtpReply *
mk_smtp_session_ehlo (MkSmtpClient *self, const char *name, GCancellable *cancellable,
                      GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autofree char *hostname = hello_name (self, name, cancellable);
  g_autofree char *line = NULL;
  const char *verb = priv->lmtp ? "LHLO" : "EHLO";
  MkSmtpReply *reply;

  if (!is_connected (self, error))
    return NULL;
  line = priv->lmtp ? mk_smtp_command_lhlo (hostname, error)
                    : mk_smtp_command_ehlo (hostname, error);
  if (line == NULL)
    return NULL;
  /* smtplib keeps does_esmtp from an earlier EHLO when a later one fails
   * (its BUG-13); everything learnt from an earlier EHLO goes here. */
  g_clear_pointer (&priv->capabilities, mk_smtp_capabilities_unref);
  priv->does_esmtp = FALSE;
  reply = command (self, line, verb, cancellable, error);
  if (reply == NULL)
    return NULL;
  g_clear_pointer (&priv->ehlo_resp, mk_smtp_reply_unref);
  priv->ehlo_resp = mk_smtp_reply_ref (reply);
  if (mk_smtp_session_reply_is (reply, 250))
    {
      priv->capabilities = mk_smtp_capabilities_new_from_reply (reply);
      priv->does_esmtp = TRUE;
      if (priv->connection != NULL)
        mk_smtp_session_set_state (self, MK_SMTP_SESSION_READY);
    }
  return reply;
}

gboolean
mk_smtp_session_ehlo_or_helo_if_needed (MkSmtpClient *self, GCancellable *cancellable,
                                        GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;

  if (!is_connected (self, error))
    return FALSE;
  if (priv->helo_resp != NULL || priv->ehlo_resp != NULL)
    return TRUE;
  reply = mk_smtp_session_ehlo (self, NULL, cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (mk_smtp_session_reply_is_positive (reply))
    return TRUE;
  /* RFC 2033 §4.1: LHLO is the only greeting an LMTP server knows; HELO
   * after a refused LHLO (smtplib) is not LMTP. A closing server (421) is
   * not asked again either. */
  if (priv->lmtp || priv->connection == NULL)
    {
      mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_HELO, priv->lmtp ? "LHLO" : "EHLO",
                                       reply);
      return FALSE;
    }
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = mk_smtp_session_helo (self, NULL, cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (!mk_smtp_session_reply_is_positive (reply))
    {
      mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_HELO, "HELO", reply);
      return FALSE;
    }
  return TRUE;
}

gboolean
mk_smtp_session_has_capability (MkSmtpClient *self, const char *keyword)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  return priv->capabilities != NULL && mk_smtp_capabilities_has (priv->capabilities, keyword);
}

MkSmtpReply *
mk_smtp_session_starttls (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;
  GError *local_error = NULL;

  if (!mk_smtp_session_ehlo_or_helo_if_needed (self, cancellable, error))
    return NULL;
  if (mk_connection_is_tls (priv->connection))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS,
                           "STARTTLS: the connection is already encrypted");
      return NULL;
    }
  if (!mk_smtp_session_has_capability (self, "STARTTLS"))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "STARTTLS extension not supported by server");
      return NULL;
    }
  reply = command (self, "STARTTLS", "STARTTLS", cancellable, error);
  if (reply == NULL)
    return NULL;
  if (!mk_smtp_session_reply_is (reply, 220))
    {
      mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_RESPONSE, "STARTTLS", reply);
      return NULL;
    }
  mk_smtp_session_trace (self, "starttls: handshake with %s",
                         priv->tls_server_name != NULL ? priv->tls_server_name : priv->host);
  /* The reply parser holds no bytes between replies, and the connection
   * refuses any byte the server sent after the 220 (response injection):
   * nothing from before the handshake can be read as a reply after it. */
  if (!connection_start_tls (self, cancellable, &local_error))
    {
      mk_smtp_session_close (self);
      g_propagate_prefixed_error (error, local_error, "STARTTLS: ");
      return NULL;
    }
  /* RFC 3207 §4.2: forget everything learnt before the handshake. */
  forget_greeting (self);
  mk_smtp_session_set_state (self, MK_SMTP_SESSION_CONNECTED);
  return g_steal_pointer (&reply);
}

gboolean
mk_smtp_client_prepare_session (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;

  if (!mk_smtp_session_ehlo_or_helo_if_needed (self, cancellable, error))
    return FALSE;
  if (mk_connection_is_tls (priv->connection))
    return TRUE;
  if (priv->tls_mode == MK_TLS_MODE_STARTTLS && !mk_smtp_session_has_capability (self, "STARTTLS"))
    {
      /* A server (or a man in the middle) that hides STARTTLS must not get
       * credentials or mail in the clear. */
      mk_smtp_session_close (self);
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS,
                           "TLS is required but the server does not offer STARTTLS");
      return FALSE;
    }
  if (priv->tls_mode == MK_TLS_MODE_STARTTLS
      || (priv->tls_mode == MK_TLS_MODE_STARTTLS_OPPORTUNISTIC
          && mk_smtp_session_has_capability (self, "STARTTLS")))
    {
      g_autoptr (GError) local_error = NULL;

      reply = mk_smtp_session_starttls (self, cancellable, &local_error);
      if (reply == NULL)
        {
          if (g_error_matches (local_error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE))
            {
              /* A refused STARTTLS: no fallback to plaintext
               * (CVE-2016-0772). */
              mk_smtp_session_close (self);
              g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS, "TLS is required: %s",
                           local_error->message);
            }
          else
            g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return mk_smtp_session_ehlo_or_helo_if_needed (self, cancellable, error);
    }
  return TRUE;
}

/* What mail(), rcpt(), data(), vrfy(), expn() and auth() need first: with
 * tls-mode asking for STARTTLS, the upgrade before anything private is
 * sent. */
gboolean
mk_smtp_session_require_tls (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (!is_connected (self, error))
    return FALSE;
  if ((priv->tls_mode != MK_TLS_MODE_STARTTLS
       && priv->tls_mode != MK_TLS_MODE_STARTTLS_OPPORTUNISTIC)
      || mk_connection_is_tls (priv->connection))
    return TRUE;
  return mk_smtp_client_prepare_session (self, cancellable, error);
}

gboolean
mk_smtp_client_session_supports (MkSmtpClient *self, const char *keyword)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (keyword != NULL, FALSE);

  if (!mk_smtp_session_has_capability (self, keyword))
    return FALSE;
  if (g_ascii_strcasecmp (keyword, "PIPELINING") == 0)
    return priv->use_pipelining;
  if (g_ascii_strcasecmp (keyword, "CHUNKING") == 0)
    return priv->use_chunking;
  if (g_ascii_strcasecmp (keyword, "8BITMIME") == 0)
    return priv->use_8bitmime;
  if (g_ascii_strcasecmp (keyword, "SMTPUTF8") == 0)
    return priv->use_smtputf8;
  if (g_ascii_strcasecmp (keyword, "BINARYMIME") == 0)
    return priv->use_binarymime;
  return TRUE;
}

/* ESMTP parameters and the extension each belongs to: a parameter the
 * server did not advertise would be refused by it, or worse, ignored (a DSN
 * or REQUIRETLS request silently dropped). */
static const struct
{
  const char *parameter; /* keyword, or keyword=value when only that value needs it */
  const char *extension;
} parameter_extensions[] = {
  { "SMTPUTF8", "SMTPUTF8" },          /* RFC 6531 §3.4 */
  { "BODY=8BITMIME", "8BITMIME" },     /* RFC 6152 §2 */
  { "BODY=BINARYMIME", "BINARYMIME" }, /* RFC 3030 §3 */
  { "RET", "DSN" },                    /* RFC 3461 §4 */
  { "ENVID", "DSN" },
  { "NOTIFY", "DSN" },
  { "ORCPT", "DSN" },
  { "REQUIRETLS", "REQUIRETLS" }, /* RFC 8689 §4.1 */
  { "AUTH", "AUTH" },             /* RFC 4954 §5 */
};

/* REQUIRETLS (RFC 8689 §4.1) is never dropped: without verified TLS on
 * this hop or the server's promise to keep it on the next ones, the
 * message does not go. */
gboolean
mk_smtp_client_check_require_tls (MkSmtpClient *client, GError **error)
{
  gboolean unverified = FALSE;

  if (!mk_smtp_client_session_is_tls (client))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "REQUIRETLS was asked for and the session is not protected by TLS "
                           "(RFC 8689 §4.1); use STARTTLS or implicit TLS");
      return FALSE;
    }
  g_object_get (client, "tls-insecure-skip-verify", &unverified, NULL);
  if (unverified)
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "REQUIRETLS was asked for and the server's certificate is not "
                           "verified (tls-insecure-skip-verify); RFC 8689 §4.1 requires it");
      return FALSE;
    }
  if (!mk_smtp_client_session_supports (client, "REQUIRETLS"))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "REQUIRETLS was asked for and the server does not offer it "
                           "(RFC 8689)");
      return FALSE;
    }
  return TRUE;
}

static gboolean
parameter_is (const char *option, const char *parameter)
{
  gsize length = strlen (parameter);

  if (strchr (parameter, '=') != NULL)
    return g_ascii_strcasecmp (option, parameter) == 0;
  return g_ascii_strncasecmp (option, parameter, length) == 0
         && (option[length] == '\0' || option[length] == '=');
}

/* The ESMTP parameters of a MAIL or RCPT command. smtplib drops options
 * silently when the session is not ESMTP (its BUG-12), so that an SMTPUTF8
 * or DSN request goes unnoticed; here it is an error before MAIL, as is a
 * parameter of an extension the server did not advertise. */
gboolean
mk_smtp_session_check_options (MkSmtpClient *self, const char *const *options, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (options == NULL || options[0] == NULL)
    return TRUE;
  if (!priv->does_esmtp)
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                   "The server is not ESMTP: it cannot take the parameter “%s”", options[0]);
      return FALSE;
    }
  for (gsize i = 0; options[i] != NULL; i++)
    if (parameter_is (options[i], "REQUIRETLS") && !mk_smtp_client_check_require_tls (self, error))
      return FALSE;
  for (gsize i = 0; options[i] != NULL; i++)
    for (gsize j = 0; j < G_N_ELEMENTS (parameter_extensions); j++)
      if (parameter_is (options[i], parameter_extensions[j].parameter)
          && !mk_smtp_client_session_supports (self, parameter_extensions[j].extension))
        {
          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                       "%s not supported by server (needed for the parameter “%s”)",
                       parameter_extensions[j].extension, options[i]);
          return FALSE;
        }
  return TRUE;
}

gboolean
mk_smtp_session_is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar)*p >= 0x80)
      return FALSE;
  return TRUE;
}

gboolean
mk_smtp_session_options_have (const char *const *options, const char *keyword)
{
  for (gsize i = 0; options != NULL && options[i] != NULL; i++)
    if (parameter_is (options[i], keyword))
      return TRUE;
  return FALSE;
}

/* MAIL or RCPT, through the formatters (which refuse control characters,
 * several addresses, source routes). A non-ASCII address needs SMTPUTF8
 * among the MAIL options (RFC 6531 §3.4); smtplib raises
 * UnicodeEncodeError. */
char *
mk_smtp_session_format_path (gboolean mail, const char *address, const char *const *options,
                             gboolean utf8, GError **error)
{
  if (!utf8 && !mk_smtp_session_is_ascii (address))
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                   "The address “%s” needs SMTPUTF8, which this transaction does not use", address);
      return NULL;
    }
  return mail ? mk_smtp_command_mail (address, options, error)
              : mk_smtp_command_rcpt (address, options, error);
}

MkSmtpReply *
mk_smtp_session_mail (MkSmtpClient *self, const char *sender, const char *const *options,
                      GCancellable *cancellable, GError **error)
{
  g_autofree char *line = NULL;
  MkSmtpReply *reply;

  if (!mk_smtp_session_check_argument ("sender", sender, error)
      || !mk_smtp_session_check_arguments ("option", options, error)
      || !mk_smtp_session_require_tls (self, cancellable, error)
      || !mk_smtp_session_check_options (self, options, error))
    return NULL;
  line = mk_smtp_session_format_path (TRUE, sender, options,
                                      mk_smtp_session_options_have (options, "SMTPUTF8"), error);
  if (line == NULL)
    return NULL;
  reply = command (self, line, "MAIL", cancellable, error);
  if (mk_smtp_session_reply_is (reply, 250))
    mk_smtp_session_set_state (self, MK_SMTP_SESSION_MAIL);
  return reply;
}

MkSmtpReply *
mk_smtp_session_rcpt (MkSmtpClient *self, const char *recipient, const char *const *options,
                      GCancellable *cancellable, GError **error)
{
  g_autofree char *line = NULL;

  if (!mk_smtp_session_check_argument ("recipient", recipient, error)
      || !mk_smtp_session_check_arguments ("option", options, error)
      || !mk_smtp_session_require_tls (self, cancellable, error)
      || !mk_smtp_session_check_options (self, options, error))
    return NULL;
  line = mk_smtp_session_format_path (FALSE, recipient, options,
                                      mk_smtp_session_has_capability (self, "SMTPUTF8"), error);
  if (line == NULL)
    return NULL;
  return command (self, line, "RCPT", cancellable, error);
}

/* ---------------------------------------------------------------------- */
/* The other commands. */

MkSmtpReply *
mk_smtp_session_command (MkSmtpClient *self, char *line, const char *stage,
                         GCancellable *cancellable, GError **error)
{
  g_autofree char *owned = line;

  if (line == NULL || !is_connected (self, error))
    return NULL;
  return command (self, line, stage, cancellable, error);
}

MkSmtpReply *
mk_smtp_session_data (MkSmtpClient *self, GBytes *message, GCancellable *cancellable,
                      GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (MkSmtpDataStream) stream = NULL;
  gsize length = 0;
  const char *bytes = g_bytes_get_data (message, &length);
  guint expected = body_reply_count (priv);

  if (!mk_smtp_session_require_tls (self, cancellable, error))
    return NULL;
  reply = command (self, "DATA", "DATA", cancellable, error);
  if (reply == NULL)
    return NULL;
  if (!mk_smtp_session_reply_is (reply, 354))
    {
      mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_DATA, "DATA", reply);
      return NULL;
    }
  mk_smtp_session_set_state (self, MK_SMTP_SESSION_DATA);
  stream = mk_smtp_data_stream_new (mk_connection_get_output_stream (priv->connection),
                                    MK_SMTP_DATA_FRAMING_DOT);
  if (!g_output_stream_write_all (G_OUTPUT_STREAM (stream), bytes, length, NULL, cancellable, error)
      || !mk_smtp_data_stream_finish (stream, cancellable, error))
    {
      mk_smtp_session_close (self);
      return NULL;
    }
  mk_smtp_client_emit_progress (self, length, length);
  /* LMTP answers once per accepted recipient (RFC 2033 §4.2); smtplib reads
   * one reply and is out of step from then on. The last is returned. */
  for (guint i = 0; i < expected; i++)
    {
      g_clear_pointer (&reply, mk_smtp_reply_unref);
      reply = mk_smtp_session_read_reply (self, MK_SMTP_STAGE_END_OF_DATA, cancellable, error);
      if (reply == NULL)
        return NULL;
    }
  priv->accepted_recipients = 0;
  if (priv->connection != NULL)
    mk_smtp_session_set_state (self, MK_SMTP_SESSION_READY);
  return g_steal_pointer (&reply);
}

MkSmtpReply *
mk_smtp_session_quit (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpReply *reply
      = mk_smtp_session_command (self, mk_smtp_command_quit (), "QUIT", cancellable, error);

  /* smtplib keeps its state when QUIT fails; we reset and close always. */
  mk_smtp_session_close (self);
  /* DESIGN.md: quit() fails when the server refuses (smtplib's context
   * manager raises on anything but 221). */
  if (reply != NULL && !mk_smtp_session_reply_is (reply, 221))
    {
      mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_RESPONSE, "QUIT", reply);
      g_clear_pointer (&reply, mk_smtp_reply_unref);
    }
  return reply;
}

/* ---------------------------------------------------------------------- */
/* Authentication. */

static gboolean
cleartext_allowed (MkSmtpClient *self, const char *mechanism, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (!mk_sasl_mechanism_is_cleartext (mechanism) || priv->allow_plaintext_auth
      || mk_connection_is_tls (priv->connection) || mk_connection_is_local (priv->connection))
    return TRUE;
  g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS,
               "AUTH %s would send the password in the clear to %s: use STARTTLS or implicit "
               "TLS, or set allow-plaintext-auth",
               mechanism, priv->host);
  return FALSE;
}

MkSmtpReply *
mk_smtp_session_auth (MkSmtpClient *self, const char *mechanism, const char *user,
                      const char *secret, gboolean is_token, GCancellable *cancellable,
                      GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  MkSaslCredentials credentials = { 0 };
  g_autoptr (MkSaslSession) session = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autofree char *line = NULL;
  g_autofree char *shown = NULL;

  if (!mk_smtp_session_require_tls (self, cancellable, error)
      || !mk_smtp_session_ehlo_or_helo_if_needed (self, cancellable, error)
      || !cleartext_allowed (self, mechanism, error))
    return NULL;
  credentials.username = user;
  credentials.password = is_token ? NULL : secret;
  credentials.token = is_token ? secret : NULL;
  credentials.hostname = priv->tls_server_name != NULL ? priv->tls_server_name : priv->host;
  session = mk_sasl_session_new (mechanism, &credentials, error);
  if (session == NULL)
    return NULL;
  line = mk_sasl_session_start (session, error);
  if (line == NULL)
    return NULL;
  shown = mk_sasl_session_redact (session, line);
  if (!mk_smtp_session_queue_line (self, line, shown, cancellable, error)
      || !mk_smtp_session_flush (self, cancellable, error))
    return NULL;
  reply = mk_smtp_session_read_reply (self, "AUTH", cancellable, error);
  while (reply != NULL && mk_smtp_session_reply_is (reply, 334))
    {
      g_autoptr (GError) step_error = NULL;
      g_autofree char *response = NULL;

      response = mk_sasl_session_step (session, mk_smtp_reply_get_text (reply), &step_error);
      g_clear_pointer (&reply, mk_smtp_reply_unref);
      if (response == NULL)
        {
          /* RFC 4954 §4: "*" cancels; the server answers 501. */
          if (mk_smtp_session_queue_line (self, "*", NULL, cancellable, NULL)
              && mk_smtp_session_flush (self, cancellable, NULL))
            reply = mk_smtp_session_read_reply (self, "AUTH", cancellable, NULL);
          g_propagate_error (error, g_steal_pointer (&step_error));
          return NULL;
        }
      g_free (shown);
      shown = mk_sasl_session_redact (session, response);
      if (!mk_smtp_session_queue_line (self, response, shown, cancellable, error)
          || !mk_smtp_session_flush (self, cancellable, error))
        return NULL;
      reply = mk_smtp_session_read_reply (self, "AUTH", cancellable, error);
    }
  if (reply == NULL)
    return NULL;
  /* 503: already authenticated, as smtplib. */
  if (!mk_smtp_session_reply_is (reply, 235) && !mk_smtp_session_reply_is (reply, 503))
    {
      g_autofree char *summary = mk_smtp_session_reply_summary (reply);
      g_autofree char *safe = mk_sasl_session_redact (session, summary);

      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION, "AUTH %s refused: %s",
                   mk_sasl_session_get_mechanism (session), safe);
      return NULL;
    }
  return g_steal_pointer (&reply);
}

MkSmtpReply *
mk_smtp_session_login (MkSmtpClient *self, const char *user, const char *password,
                       GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  const char *const *advertised;
  g_autoptr (GPtrArray) candidates = g_ptr_array_new ();
  g_autoptr (GError) last_error = NULL;

  if (!mk_smtp_session_require_tls (self, cancellable, error)
      || !mk_smtp_session_ehlo_or_helo_if_needed (self, cancellable, error))
    return NULL;
  if (!mk_smtp_session_has_capability (self, "AUTH"))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "SMTP AUTH extension not supported by server");
      return NULL;
    }
  /* The mechanisms in our order of preference; a cleartext one only where
   * the policy allows it, so a stronger mechanism is never skipped for it. */
  advertised = mk_smtp_capabilities_get_auth_mechanisms (priv->capabilities);
  {
    g_autoptr (GPtrArray) remaining = g_ptr_array_new ();
    for (gsize i = 0; advertised[i] != NULL; i++)
      if (cleartext_allowed (self, advertised[i], NULL))
        g_ptr_array_add (remaining, (gpointer)advertised[i]);
    g_ptr_array_add (remaining, NULL);
    for (const char *choice;
         (choice = mk_sasl_choose_mechanism ((const char *const *)remaining->pdata, FALSE))
         != NULL;)
      {
        g_ptr_array_add (candidates, (gpointer)choice);
        for (guint i = 0; i + 1 < remaining->len; i++)
          if (g_ascii_strcasecmp (g_ptr_array_index (remaining, i), choice) == 0)
            g_ptr_array_remove_index (remaining, i--);
      }
  }
  if (candidates->len == 0)
    {
      gboolean any_cleartext = FALSE;

      for (gsize i = 0; advertised[i] != NULL; i++)
        any_cleartext = any_cleartext || mk_sasl_mechanism_is_cleartext (advertised[i]);
      if (any_cleartext && mk_sasl_choose_mechanism (advertised, FALSE) != NULL)
        cleartext_allowed (self, mk_sasl_choose_mechanism (advertised, FALSE), error);
      else
        g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                             "No suitable authentication method found");
      return NULL;
    }
  for (guint i = 0; i < candidates->len; i++)
    {
      MkSmtpReply *reply;

      g_clear_error (&last_error);
      reply = mk_smtp_session_auth (self, g_ptr_array_index (candidates, i), user, password, FALSE,
                                    cancellable, &last_error);
      if (reply != NULL)
        return reply;
      /* A wrong password (535) is not retried with a weaker mechanism
       * (cpython gh-100331: lockouts, a misleading last error); neither is
       * anything that is not a refusal of this mechanism. */
      if (!g_error_matches (last_error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION)
          || priv->connection == NULL || priv->last_reply == NULL
          || mk_smtp_reply_get_code (priv->last_reply) == 535
          || mk_smtp_reply_get_code (priv->last_reply) / 100 != 5)
        break;
    }
  g_propagate_error (error, g_steal_pointer (&last_error));
  return NULL;
}

MkSmtpReply *
mk_smtp_session_rset (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpReply *reply
      = mk_smtp_session_command (self, mk_smtp_command_rset (), "RSET", cancellable, error);

  if (mk_smtp_session_reply_is_positive (reply))
    mk_smtp_session_set_state (self, MK_SMTP_SESSION_READY);
  PRIV (self)->accepted_recipients = 0;
  return reply;
}
