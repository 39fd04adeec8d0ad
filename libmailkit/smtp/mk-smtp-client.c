/* mk-smtp-client.c: the SMTP/ESMTP session, with smtplib's API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every public call is a "step": one blocking, cancellable function that
 * the sync call runs in the caller's thread and the _async call runs with
 * g_task_run_in_thread (mk_smtp_client_run_step*). The protocol is written
 * once. The one mail transaction (mk_smtp_client_run_transaction) is a
 * linear script, as MailKit's Send: prepare → MAIL → RCPT×n → flush the
 * pipeline → DATA or BDAT → end of data; pipelining only decides whether a
 * command waits for its reply before the next one is written.
 *
 * Recovery policy, the same for every call: a refusing reply leaves the
 * session usable (sendmail sends RSET); a 421 (RFC 5321 §3.8: the server
 * closes), an I/O error, a timeout, a protocol violation or a cancelled
 * call closes the connection.
 */
#include "config.h"

#include <string.h>

#include <libmailkit/mk-enum-types.h>

#include <libmailkit/mk-init.h>
#include <libmailkit/net/mk-net-address.h>
#include "libmailkit/net/mk-connection-private.h"
#include "mk-lmtp-client.h"
#include "mk-smtp-client-private.h"
#include "mk-smtp-command-private.h"
#include "mk-sasl-session-private.h"
#include "mk-smtp-data-stream-private.h"
#include "mk-smtp-error.h"
#include "mk-smtp-reply-parser-private.h"

/* RFC 4954 leaves the number of challenge rounds open. The mechanisms we
 * offer need at most 3 (SCRAM: server-first, server-final, then 235);
 * smtplib stops after 5. A server asking for more is looping. */
#define MK_SMTP_AUTH_MAX_ROUNDS 8

/* A reply text in an error message is cut here, so a hostile server cannot
 * make error messages (and logs, and dialogs) arbitrarily long. */
#define ERROR_TEXT_MAX 200

typedef enum
{
  STATE_DISCONNECTED,
  STATE_CONNECTED, /* greeting read, no EHLO/HELO answer yet */
  STATE_READY,     /* EHLO/HELO answered */
  STATE_MAIL,      /* a transaction is open on the server */
  STATE_DATA,      /* the message body is being sent */
} SessionState;

static const char *const state_names[] = { "disconnected", "connected", "ready", "mail", "data" };

typedef struct
{
  /* Properties. */
  char *local_hostname;
  double timeout;
  char *source_address;
  MkTlsMode tls_mode;
  char *tls_ca_file;
  char *tls_client_certificate;
  char *tls_client_key;
  char *tls_pin_sha256;
  char *tls_server_name;
  gboolean tls_insecure_skip_verify;
  gboolean allow_plaintext_auth;
  gboolean use_pipelining;
  gboolean use_chunking;
  gboolean use_8bitmime;
  gboolean use_smtputf8;
  int debuglevel;
  gboolean lmtp;

  /* The session. */
  SessionState state;
  MkConnection *connection;
  char *host;
  MkSmtpReplyParser *parser;
  MkSmtpReply *helo_resp;
  MkSmtpReply *ehlo_resp;
  MkSmtpReply *last_reply;
  MkSmtpCapabilities *capabilities;
  gboolean does_esmtp;
  /* Recipients accepted since the last MAIL (LMTP's data() answers once
   * for each). */
  guint accepted_recipients;

  /* The running operation: set by run_step, read by the signal emitters. */
  gint busy;
  GMainContext *signal_context;
} MkSmtpClientPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (MkSmtpClient, mk_smtp_client, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_LOCAL_HOSTNAME,
  PROP_TIMEOUT,
  PROP_SOURCE_ADDRESS,
  PROP_TLS_MODE,
  PROP_TLS_CA_FILE,
  PROP_TLS_CLIENT_CERTIFICATE,
  PROP_TLS_CLIENT_KEY,
  PROP_TLS_PIN_SHA256,
  PROP_TLS_SERVER_NAME,
  PROP_TLS_INSECURE_SKIP_VERIFY,
  PROP_ALLOW_PLAINTEXT_AUTH,
  PROP_USE_PIPELINING,
  PROP_USE_CHUNKING,
  PROP_USE_8BITMIME,
  PROP_USE_SMTPUTF8,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_PROGRESS,
  SIGNAL_TRACE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define PRIV(self) ((MkSmtpClientPrivate *)mk_smtp_client_get_instance_private (self))

/* ---------------------------------------------------------------------- */
/* Signals: in the calling thread for sync calls, on the caller's main
 * context for async ones (the step then runs in a worker thread). */

typedef struct
{
  MkSmtpClient *client;
  guint signal_id;
  char *line;
  guint64 sent;
  guint64 total;
} Emission;

static void
emission_free (gpointer data)
{
  Emission *emission = data;

  g_object_unref (emission->client);
  g_free (emission->line);
  g_free (emission);
}

static gboolean
emission_run (gpointer data)
{
  Emission *emission = data;
  gboolean handled = FALSE;

  if (emission->signal_id == signals[SIGNAL_TRACE])
    g_signal_emit (emission->client, signals[SIGNAL_TRACE], 0, emission->line, &handled);
  else
    g_signal_emit (emission->client, signals[SIGNAL_PROGRESS], 0, emission->sent, emission->total);
  return G_SOURCE_REMOVE;
}

static void
emit (MkSmtpClient *self, guint signal_id, char *line, guint64 sent, guint64 total)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  Emission *emission = g_new0 (Emission, 1);

  emission->client = g_object_ref (self);
  emission->signal_id = signal_id;
  emission->line = line;
  emission->sent = sent;
  emission->total = total;
  if (priv->signal_context != NULL)
    g_main_context_invoke_full (priv->signal_context, G_PRIORITY_DEFAULT, emission_run, emission,
                                emission_free);
  else
    {
      emission_run (emission);
      emission_free (emission);
    }
}

/* smtplib's debug output: level 1 the conversation, level 2 with the wall
 * clock time in front of every line. */
static void trace (MkSmtpClient *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
trace (MkSmtpClient *self, const char *format, ...)
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

      emit (self, signals[SIGNAL_TRACE],
            g_strdup_printf ("%s.%06d %s", stamp, g_date_time_get_microsecond (now), message), 0,
            0);
    }
  else
    emit (self, signals[SIGNAL_TRACE], g_steal_pointer (&message), 0, 0);
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

static void
set_state (MkSmtpClient *self, SessionState state)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (priv->state == state)
    return;
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
  g_autoptr (GCancellable) own_cancellable = NULL;
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
  trace (self, "connect: to (%s, %u) %s", host, port,
         priv->source_address ? priv->source_address : "");
  /* mk_connection_connect() needs a cancellable (net/ issue, reported). */
  if (cancellable == NULL)
    cancellable = own_cancellable = g_cancellable_new ();
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

static void
close_session (MkSmtpClient *self)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (priv->connection != NULL)
    {
      trace (self, "close: %s", priv->host ? priv->host : "");
      mk_connection_close (priv->connection);
      g_clear_object (&priv->connection);
    }
  g_clear_pointer (&priv->parser, mk_smtp_reply_parser_free);
  forget_greeting (self);
  priv->accepted_recipients = 0;
  set_state (self, STATE_DISCONNECTED);
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

/* CR, LF and NUL would end the command line early or be cut by the server:
 * refused in every argument, before anything is sent (smtplib bpo-43124, and
 * before address parsing, which smtplib does first). */
static gboolean
check_argument (const char *what, const char *value, GError **error)
{
  if (value == NULL || strpbrk (value, "\r\n") == NULL)
    return TRUE;
  g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
               "The %s contains a line break, which would inject SMTP commands", what);
  return FALSE;
}

static gboolean
check_arguments (const char *what, const char *const *values, GError **error)
{
  for (gsize i = 0; values != NULL && values[i] != NULL; i++)
    if (!check_argument (what, values[i], error))
      return FALSE;
  return TRUE;
}

/* Writes one command line into the connection's output buffer, without
 * flushing it. @shown is what the trace shows instead (a redacted AUTH). */
static gboolean
queue_line (MkSmtpClient *self, const char *line, const char *shown, GCancellable *cancellable,
            GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autofree char *text = g_strconcat (line, "\r\n", NULL);

  if (!is_connected (self, error))
    return FALSE;
  if (shown != NULL)
    trace (self, "send: '%s\\r\\n'", shown);
  else
    {
      g_autofree char *escaped = printable (line, strlen (line));
      trace (self, "send: '%s\\r\\n'", escaped);
    }
  if (!g_output_stream_write_all (mk_connection_get_output_stream (priv->connection), text,
                                  strlen (text), NULL, cancellable, error))
    {
      translate_connection_error (error, "Sending");
      close_session (self);
      return FALSE;
    }
  return TRUE;
}

static gboolean
flush (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (!is_connected (self, error))
    return FALSE;
  if (!mk_connection_flush (priv->connection, cancellable, error))
    {
      translate_connection_error (error, "Sending");
      close_session (self);
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

static char *
reply_summary (const MkSmtpReply *reply)
{
  const char *text = mk_smtp_reply_get_text (reply);
  gsize length = strlen (text);
  g_autofree char *shown = printable (text, MIN (length, ERROR_TEXT_MAX));

  return g_strdup_printf ("%u %s%s", mk_smtp_reply_get_code (reply), shown,
                          length > ERROR_TEXT_MAX ? "…" : "");
}

static void
set_reply_error (GError **error, MkSmtpError code, const char *stage, const MkSmtpReply *reply)
{
  g_autofree char *summary = reply_summary (reply);

  g_set_error (error, MK_SMTP_ERROR, code, "%s refused: %s", stage, summary);
}

/* Reads one whole reply. The end of the stream is
 * MK_SMTP_ERROR_SERVER_DISCONNECTED, a malformed or oversized reply
 * MK_SMTP_ERROR_RESPONSE; both, any I/O error and a 421 close the session.
 * @stage names what the reply answers, for error messages. */
static MkSmtpReply *
read_reply (MkSmtpClient *self, const char *stage, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;

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
          g_autofree char *shown = printable (line, length);
          trace (self, "reply: '%s\\r\\n'", shown);
          mk_smtp_reply_parser_feed_line (priv->parser, line, length, &reply, &local_error);
        }
      if (local_error != NULL)
        {
          close_session (self);
          if (line != NULL)
            g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", stage);
          else
            g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  set_last_reply (self, reply);
  {
    g_autofree char *summary = reply_summary (reply);
    trace (self, "reply: retcode (%s)", summary);
  }
  if (mk_smtp_reply_get_code (reply) == 421)
    close_session (self);
  return g_steal_pointer (&reply);
}

static MkSmtpReply *
command (MkSmtpClient *self, const char *line, const char *stage, GCancellable *cancellable,
         GError **error)
{
  if (!queue_line (self, line, NULL, cancellable, error) || !flush (self, cancellable, error))
    return NULL;
  return read_reply (self, stage, cancellable, error);
}

static gboolean
reply_is (const MkSmtpReply *reply, guint code)
{
  return reply != NULL && mk_smtp_reply_get_code (reply) == code;
}

static gboolean
reply_is_positive (const MkSmtpReply *reply)
{
  return reply != NULL && mk_smtp_reply_get_code (reply) / 100 == 2;
}

/* RSET after a refusal, so the next transaction starts clean. Failures are
 * not reported: the refusal is the error the caller needs (bpo-17498); a
 * lost connection simply stays closed. */
static void
safety_rset (MkSmtpClient *self, GCancellable *cancellable)
{
  g_autoptr (MkSmtpReply) reply = NULL;

  if (PRIV (self)->connection == NULL)
    return;
  reply = command (self, "RSET", "RSET", cancellable, NULL);
  if (reply != NULL)
    set_state (self, STATE_READY);
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

static MkSmtpReply *
do_connect (MkSmtpClient *self, const char *host, guint16 port, GCancellable *cancellable,
            GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) greeting = NULL;
  guint16 default_port;

  /* smtplib leaks the previous socket; we close it. */
  close_session (self);
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
      close_session (self);
      return NULL;
    }
  g_free (priv->host);
  priv->host = g_strdup (mk_connection_get_host (priv->connection));
  set_state (self, STATE_CONNECTED);

  greeting = read_reply (self, "Greeting", cancellable, error);
  if (greeting == NULL)
    return NULL;
  if (!reply_is (greeting, 220))
    {
      set_reply_error (error, MK_SMTP_ERROR_CONNECT, "Greeting", greeting);
      close_session (self);
      return NULL;
    }
  return g_steal_pointer (&greeting);
}

static MkSmtpReply *
do_helo (MkSmtpClient *self, const char *name, GCancellable *cancellable, GError **error)
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
  if (reply_is_positive (reply) && priv->connection != NULL)
    set_state (self, STATE_READY);
  return reply;
}

static MkSmtpReply *
do_ehlo (MkSmtpClient *self, const char *name, GCancellable *cancellable, GError **error)
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
  if (reply_is (reply, 250))
    {
      priv->capabilities = mk_smtp_capabilities_new_from_reply (reply);
      priv->does_esmtp = TRUE;
      if (priv->connection != NULL)
        set_state (self, STATE_READY);
    }
  return reply;
}

static gboolean
do_ehlo_or_helo_if_needed (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;

  if (!is_connected (self, error))
    return FALSE;
  if (priv->helo_resp != NULL || priv->ehlo_resp != NULL)
    return TRUE;
  reply = do_ehlo (self, NULL, cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (reply_is_positive (reply))
    return TRUE;
  /* RFC 2033 §4.1: LHLO is the only greeting an LMTP server knows; HELO
   * after a refused LHLO (smtplib) is not LMTP. A closing server (421) is
   * not asked again either. */
  if (priv->lmtp || priv->connection == NULL)
    {
      set_reply_error (error, MK_SMTP_ERROR_HELO, priv->lmtp ? "LHLO" : "EHLO", reply);
      return FALSE;
    }
  g_clear_pointer (&reply, mk_smtp_reply_unref);
  reply = do_helo (self, NULL, cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (!reply_is_positive (reply))
    {
      set_reply_error (error, MK_SMTP_ERROR_HELO, "HELO", reply);
      return FALSE;
    }
  return TRUE;
}

static gboolean
capability (MkSmtpClient *self, const char *keyword)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  return priv->capabilities != NULL && mk_smtp_capabilities_has (priv->capabilities, keyword);
}

static MkSmtpReply *
do_starttls (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;
  GError *local_error = NULL;

  if (!do_ehlo_or_helo_if_needed (self, cancellable, error))
    return NULL;
  if (mk_connection_is_tls (priv->connection))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS,
                           "STARTTLS: the connection is already encrypted");
      return NULL;
    }
  if (!capability (self, "STARTTLS"))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                           "STARTTLS extension not supported by server");
      return NULL;
    }
  reply = command (self, "STARTTLS", "STARTTLS", cancellable, error);
  if (reply == NULL)
    return NULL;
  if (!reply_is (reply, 220))
    {
      set_reply_error (error, MK_SMTP_ERROR_RESPONSE, "STARTTLS", reply);
      return NULL;
    }
  trace (self, "starttls: handshake with %s",
         priv->tls_server_name != NULL ? priv->tls_server_name : priv->host);
  /* The reply parser holds no bytes between replies, and the connection
   * refuses any byte the server sent after the 220 (response injection):
   * nothing from before the handshake can be read as a reply after it. */
  if (!connection_start_tls (self, cancellable, &local_error))
    {
      close_session (self);
      g_propagate_prefixed_error (error, local_error, "STARTTLS: ");
      return NULL;
    }
  /* RFC 3207 §4.2: forget everything learnt before the handshake. */
  forget_greeting (self);
  set_state (self, STATE_CONNECTED);
  return g_steal_pointer (&reply);
}

gboolean
mk_smtp_client_prepare_session (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;

  if (!do_ehlo_or_helo_if_needed (self, cancellable, error))
    return FALSE;
  if (mk_connection_is_tls (priv->connection))
    return TRUE;
  if (priv->tls_mode == MK_TLS_MODE_STARTTLS && !capability (self, "STARTTLS"))
    {
      /* A server (or a man in the middle) that hides STARTTLS must not get
       * credentials or mail in the clear. */
      close_session (self);
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS,
                           "TLS is required but the server does not offer STARTTLS");
      return FALSE;
    }
  if (priv->tls_mode == MK_TLS_MODE_STARTTLS
      || (priv->tls_mode == MK_TLS_MODE_STARTTLS_OPPORTUNISTIC && capability (self, "STARTTLS")))
    {
      g_autoptr (GError) local_error = NULL;

      reply = do_starttls (self, cancellable, &local_error);
      if (reply == NULL)
        {
          if (g_error_matches (local_error, MK_SMTP_ERROR, MK_SMTP_ERROR_RESPONSE))
            {
              /* A refused STARTTLS: no fallback to plaintext
               * (CVE-2016-0772). */
              close_session (self);
              g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_TLS, "TLS is required: %s",
                           local_error->message);
            }
          else
            g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return do_ehlo_or_helo_if_needed (self, cancellable, error);
    }
  return TRUE;
}

/* What mail(), rcpt(), data(), vrfy(), expn() and auth() need first: with
 * tls-mode asking for STARTTLS, the upgrade before anything private is
 * sent. */
static gboolean
enforce_tls_mode (MkSmtpClient *self, GCancellable *cancellable, GError **error)
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

  if (!capability (self, keyword))
    return FALSE;
  if (g_ascii_strcasecmp (keyword, "PIPELINING") == 0)
    return priv->use_pipelining;
  if (g_ascii_strcasecmp (keyword, "CHUNKING") == 0)
    return priv->use_chunking;
  if (g_ascii_strcasecmp (keyword, "8BITMIME") == 0)
    return priv->use_8bitmime;
  if (g_ascii_strcasecmp (keyword, "SMTPUTF8") == 0)
    return priv->use_smtputf8;
  return TRUE;
}

static gboolean
option_is (const char *option, const char *keyword)
{
  gsize length = strlen (keyword);

  return g_ascii_strncasecmp (option, keyword, length) == 0
         && (option[length] == '\0' || option[length] == '=');
}

/* The ESMTP parameters of a MAIL or RCPT command. smtplib drops options
 * silently when the session is not ESMTP (its BUG-12), so that an SMTPUTF8
 * or DSN request goes unnoticed; here it is an error before MAIL. */
static gboolean
check_options (MkSmtpClient *self, const char *const *options, GError **error)
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
    if (option_is (options[i], "SMTPUTF8") && !mk_smtp_client_session_supports (self, "SMTPUTF8"))
      {
        g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                             "SMTPUTF8 not supported by server");
        return FALSE;
      }
  return TRUE;
}

static gboolean
is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar)*p >= 0x80)
      return FALSE;
  return TRUE;
}

static gboolean
options_have (const char *const *options, const char *keyword)
{
  for (gsize i = 0; options != NULL && options[i] != NULL; i++)
    if (option_is (options[i], keyword))
      return TRUE;
  return FALSE;
}

/* MAIL or RCPT, through the formatters (which refuse control characters,
 * several addresses, source routes). A non-ASCII address needs SMTPUTF8
 * among the MAIL options (RFC 6531 §3.4); smtplib raises
 * UnicodeEncodeError. */
static char *
format_path_command (gboolean mail, const char *address, const char *const *options, gboolean utf8,
                     GError **error)
{
  if (!utf8 && !is_ascii (address))
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                   "The address “%s” needs SMTPUTF8, which this transaction does not use", address);
      return NULL;
    }
  return mail ? mk_smtp_command_mail (address, options, error)
              : mk_smtp_command_rcpt (address, options, error);
}

static MkSmtpReply *
do_mail (MkSmtpClient *self, const char *sender, const char *const *options,
         GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autofree char *line = NULL;
  MkSmtpReply *reply;

  if (!check_argument ("sender", sender, error) || !check_arguments ("option", options, error)
      || !enforce_tls_mode (self, cancellable, error) || !check_options (self, options, error))
    return NULL;
  line = format_path_command (TRUE, sender, options, options_have (options, "SMTPUTF8"), error);
  if (line == NULL)
    return NULL;
  reply = command (self, line, "MAIL", cancellable, error);
  priv->accepted_recipients = 0;
  if (reply_is (reply, 250))
    set_state (self, STATE_MAIL);
  return reply;
}

static MkSmtpReply *
do_rcpt (MkSmtpClient *self, const char *recipient, const char *const *options,
         GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autofree char *line = NULL;
  MkSmtpReply *reply;

  if (!check_argument ("recipient", recipient, error) || !check_arguments ("option", options, error)
      || !enforce_tls_mode (self, cancellable, error) || !check_options (self, options, error))
    return NULL;
  line = format_path_command (FALSE, recipient, options, capability (self, "SMTPUTF8"), error);
  if (line == NULL)
    return NULL;
  reply = command (self, line, "RCPT", cancellable, error);
  if (reply_is_positive (reply))
    priv->accepted_recipients++;
  return reply;
}

/* ---------------------------------------------------------------------- */
/* The message body: the caller's writer → MkSmtpBodyStream (progress, and
 * the BDAT replies read as chunks go out) → MkSmtpDataStream (CRLF,
 * dot-stuffing or BDAT framing) → the connection. */

typedef struct _Transaction Transaction;

static gboolean transaction_account_chunks (Transaction *t, GCancellable *cancellable,
                                            GError **error);

#define MK_TYPE_SMTP_BODY_STREAM (mk_smtp_body_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkSmtpBodyStream, mk_smtp_body_stream, MK, SMTP_BODY_STREAM,
                      GFilterOutputStream)

struct _MkSmtpBodyStream
{
  GFilterOutputStream parent_instance;
  Transaction *transaction;
  MkSmtpClient *client;
  guint64 total;
};

G_DEFINE_FINAL_TYPE (MkSmtpBodyStream, mk_smtp_body_stream, G_TYPE_FILTER_OUTPUT_STREAM)

static gssize
mk_smtp_body_stream_write_fn (GOutputStream *stream, const void *buffer, gsize count,
                              GCancellable *cancellable, GError **error)
{
  MkSmtpBodyStream *self = MK_SMTP_BODY_STREAM (stream);
  GOutputStream *data = g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (stream));
  gssize written = g_output_stream_write (data, buffer, count, cancellable, error);

  if (written < 0 || !transaction_account_chunks (self->transaction, cancellable, error))
    return -1;
  emit (self->client, signals[SIGNAL_PROGRESS], NULL,
        mk_smtp_data_stream_get_message_bytes (MK_SMTP_DATA_STREAM (data)), self->total);
  return written;
}

static gboolean
mk_smtp_body_stream_flush (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  /* The data stream sends whole blocks only; flushing mid-message would
   * cut a BDAT chunk short. */
  return TRUE;
}

static void
mk_smtp_body_stream_class_init (MkSmtpBodyStreamClass *klass)
{
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  stream_class->write_fn = mk_smtp_body_stream_write_fn;
  stream_class->flush = mk_smtp_body_stream_flush;
}

static void
mk_smtp_body_stream_init (MkSmtpBodyStream *self)
{
}

/* ---------------------------------------------------------------------- */
/* The transaction. */

struct _Transaction
{
  MkSmtpClient *client;
  gboolean pipelining;
  gboolean chunking;
  /* The commands written, each with the stage its reply answers, and the
   * replies read so far, in the same order. */
  GPtrArray *stages;
  GPtrArray *replies;
  guint n_recipients;
  GPtrArray *recipients;
  MkSmtpDataStream *data_stream;
  guint chunks_accounted;
  /* With PIPELINING and CHUNKING the envelope is judged once the first
   * chunk went out (or at the end); a refusal then stops the body. */
  gboolean envelope_checked;
  GError *envelope_error;
  GHashTable *refused;
  GArray *accepted; /* indexes into recipients */
};

static void
transaction_clear (Transaction *t)
{
  g_clear_pointer (&t->stages, g_ptr_array_unref);
  g_clear_pointer (&t->replies, g_ptr_array_unref);
  g_clear_object (&t->data_stream);
  g_clear_error (&t->envelope_error);
  g_clear_pointer (&t->accepted, g_array_unref);
}

static guint
transaction_outstanding (Transaction *t)
{
  return t->stages->len - t->replies->len;
}

/* Reads replies until at most @keep commands wait for one. A 421 ends the
 * reading: the server has closed and answers nothing more. */
static gboolean
transaction_read (Transaction *t, guint keep, GCancellable *cancellable, GError **error)
{
  if (transaction_outstanding (t) > keep && !flush (t->client, cancellable, error))
    return FALSE;
  while (transaction_outstanding (t) > keep)
    {
      const char *stage = g_ptr_array_index (t->stages, t->replies->len);
      MkSmtpReply *reply = read_reply (t->client, stage, cancellable, error);

      if (reply == NULL)
        return FALSE;
      g_ptr_array_add (t->replies, reply);
      if (PRIV (t->client)->connection == NULL)
        return TRUE;
    }
  return TRUE;
}

/* Queues one command. Without PIPELINING it is answered before the next is
 * written; with it, replies are read only when the window is full. */
static gboolean
transaction_command (Transaction *t, const char *line, const char *stage, GCancellable *cancellable,
                     GError **error)
{
  if (!queue_line (t->client, line, NULL, cancellable, error))
    return FALSE;
  g_ptr_array_add (t->stages, (gpointer)stage);
  return transaction_read (t, t->pipelining ? MK_SMTP_PIPELINE_WINDOW - 1 : 0, cancellable, error);
}

static MkSmtpReply *
transaction_reply (Transaction *t, guint index)
{
  return index < t->replies->len ? g_ptr_array_index (t->replies, index) : NULL;
}

static gboolean
transaction_lost (Transaction *t)
{
  return PRIV (t->client)->connection == NULL;
}

/* Judges MAIL and the RCPTs from their replies (all of them read). */
static gboolean
transaction_check_envelope (Transaction *t, GError **error)
{
  MkSmtpReply *mail = transaction_reply (t, 0);

  t->envelope_checked = TRUE;
  if (!reply_is (mail, 250))
    {
      set_reply_error (error, MK_SMTP_ERROR_SENDER_REFUSED, "MAIL FROM", mail);
      return FALSE;
    }
  for (guint i = 0; i < t->n_recipients; i++)
    {
      MkSmtpReply *reply = transaction_reply (t, 1 + i);
      const char *address = g_ptr_array_index (t->recipients, i);

      if (reply == NULL)
        break;
      /* 2xx is acceptance; smtplib refuses 252 ("cannot verify, will
       * try"), which RFC 5321 §3.5.3 means as yes. */
      if (reply_is_positive (reply))
        g_array_append_val (t->accepted, i);
      else
        g_hash_table_replace (t->refused, g_strdup (address), mk_smtp_reply_ref (reply));
    }
  /* A 421 to a RCPT leaves the rest unanswered: nothing is delivered. */
  if (t->accepted->len == 0 || t->replies->len < 1 + t->n_recipients)
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED,
                   "RCPT TO refused for %s recipient%s", t->accepted->len == 0 ? "every" : "a",
                   t->n_recipients == 1 ? "" : "s");
      if (t->accepted->len > 0)
        {
          g_autofree char *summary = reply_summary (PRIV (t->client)->last_reply);
          g_prefix_error (error, "The server closed the connection (%s): ", summary);
        }
      return FALSE;
    }
  return TRUE;
}

/* Called after every write into the body: counts the BDAT commands the
 * data stream wrote, and reads their replies as the window asks. */
static gboolean
transaction_account_chunks (Transaction *t, GCancellable *cancellable, GError **error)
{
  guint chunks = mk_smtp_data_stream_get_chunk_count (t->data_stream);

  for (; t->chunks_accounted < chunks; t->chunks_accounted++)
    g_ptr_array_add (t->stages, "BDAT");
  if (chunks == 0)
    return TRUE;
  if (!t->envelope_checked)
    {
      if (!transaction_read (t, 0, cancellable, error))
        return FALSE;
      if (!transaction_check_envelope (t, &t->envelope_error))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The envelope was refused: the body is not sent");
          return FALSE;
        }
      return TRUE;
    }
  return transaction_read (t, t->pipelining ? MK_SMTP_PIPELINE_WINDOW - 1 : 0, cancellable, error);
}

/* After a refusal: RSET when the session can go on. A server that answered
 * 354 to a refused envelope waits for a body: closing is the only safe way
 * out of that. */
static void
transaction_abort (Transaction *t, GCancellable *cancellable)
{
  guint data_index = 1 + t->n_recipients;

  if (!t->chunking && reply_is (transaction_reply (t, data_index), 354))
    close_session (t->client);
  else
    safety_rset (t->client, cancellable);
}

static GPtrArray *
unique_recipients (const char *const *to)
{
  GPtrArray *recipients = g_ptr_array_new_null_terminated (8, NULL, TRUE);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (gsize i = 0; to != NULL && to[i] != NULL; i++)
    if (g_hash_table_add (seen, (gpointer)to[i]))
      g_ptr_array_add (recipients, (gpointer)to[i]);
  return recipients;
}

GHashTable *
mk_smtp_client_new_refused_table (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify)mk_smtp_reply_unref);
}

/* The final replies: one, or for LMTP one per accepted recipient (RFC 2033
 * §4.2). The connection lost before they all came → delivery unknown: the
 * message is out, the server may have taken it. */
static gboolean
transaction_end_of_data (Transaction *t, GCancellable *cancellable, GError **error)
{
  MkSmtpClient *self = t->client;
  MkSmtpClientPrivate *priv = PRIV (self);
  guint expected = priv->lmtp ? t->accepted->len : 1;
  g_autoptr (GPtrArray) finals = g_ptr_array_new ();
  g_autoptr (GError) local_error = NULL;
  MkSmtpReply *last;

  if (t->chunking)
    {
      /* Every BDAT chunk is answered; the reply to LAST is the first final
       * reply. */
      if (!transaction_read (t, 0, cancellable, &local_error))
        goto lost;
      for (guint i = 1 + t->n_recipients; i < t->replies->len; i++)
        {
          MkSmtpReply *reply = transaction_reply (t, i);

          if (i + 1 < t->stages->len && !reply_is (reply, 250))
            {
              set_reply_error (error, MK_SMTP_ERROR_DATA, "BDAT", reply);
              safety_rset (self, cancellable);
              return FALSE;
            }
        }
      if (t->replies->len < t->stages->len)
        goto lost;
      g_ptr_array_add (finals, transaction_reply (t, t->replies->len - 1));
    }
  while (finals->len < expected)
    {
      MkSmtpReply *reply;

      if (!flush (self, cancellable, &local_error))
        goto lost;
      reply = read_reply (self, "End of data", cancellable, &local_error);
      if (reply == NULL)
        goto lost;
      g_ptr_array_add (t->replies, reply);
      g_ptr_array_add (finals, reply);
    }
  if (priv->connection != NULL)
    set_state (self, STATE_READY);

  if (priv->lmtp)
    {
      for (guint i = 0; i < finals->len; i++)
        {
          guint index = g_array_index (t->accepted, guint, i);
          MkSmtpReply *reply = g_ptr_array_index (finals, i);

          if (!reply_is (reply, 250))
            g_hash_table_replace (t->refused, g_strdup (g_ptr_array_index (t->recipients, index)),
                                  mk_smtp_reply_ref (reply));
        }
      if (g_hash_table_size (t->refused) == t->n_recipients)
        {
          g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED,
                               "End of data: the message was refused for every recipient");
          return FALSE;
        }
      return TRUE;
    }
  last = g_ptr_array_index (finals, 0);
  if (!reply_is (last, 250))
    {
      set_reply_error (error, MK_SMTP_ERROR_DATA, "End of data", last);
      safety_rset (self, cancellable);
      return FALSE;
    }
  return TRUE;

lost:
  close_session (self);
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN,
               "The connection was lost after the message was sent and before the server "
               "confirmed it (%s): it may have been delivered, and sending it again may deliver "
               "it twice",
               local_error != NULL ? local_error->message : "the server closed it");
  return FALSE;
}

gboolean
mk_smtp_client_run_transaction (MkSmtpClient *self, const char *from, const char *const *to,
                                const char *const *mail_options, const char *const *rcpt_options,
                                goffset size, MkSmtpBodyWriter write_body, gpointer write_body_data,
                                GHashTable **refused, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv;
  g_autoptr (GPtrArray) recipients = NULL;
  g_autoptr (GHashTable) refused_table = NULL;
  g_autoptr (GPtrArray) options = NULL;
  g_autoptr (GOutputStream) body = NULL;
  g_autofree char *mail_line = NULL;
  g_autofree char *size_option = NULL;
  g_autoptr (GError) body_error = NULL;
  Transaction t = { 0 };
  gboolean utf8;
  gboolean ok = FALSE;

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (from != NULL, FALSE);
  g_return_val_if_fail (write_body != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  priv = PRIV (self);
  if (refused != NULL)
    *refused = NULL;

  /* What the caller gave is checked before anything is sent. smtplib sends
   * MAIL and RSET for an empty list (its BUG-8). */
  recipients = unique_recipients (to);
  if (recipients->len == 0)
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, "No recipients");
      return FALSE;
    }
  if (!check_argument ("sender", from, error)
      || !check_arguments ("recipient", (const char *const *)recipients->pdata, error)
      || !check_arguments ("option", mail_options, error)
      || !check_arguments ("option", rcpt_options, error))
    return FALSE;
  for (guint i = 0; i < recipients->len; i++)
    if (*(const char *)g_ptr_array_index (recipients, i) == '\0')
      {
        g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                             "An empty recipient address");
        return FALSE;
      }

  /* Prepare: the session and the extensions this transaction uses, chosen
   * up front from the capabilities. */
  if (!mk_smtp_client_prepare_session (self, cancellable, error)
      || !check_options (self, mail_options, error) || !check_options (self, rcpt_options, error))
    return FALSE;
  options = g_ptr_array_new ();
  if (size >= 0 && capability (self, "SIZE"))
    {
      guint64 limit = mk_smtp_capabilities_get_size_limit (priv->capabilities);

      if (limit > 0 && (guint64)size > limit)
        {
          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                       "The message (%" G_GINT64_FORMAT " bytes) is larger than the server takes "
                       "(%" G_GUINT64_FORMAT " bytes)",
                       (gint64)size, limit);
          return FALSE;
        }
      size_option = g_strdup_printf ("SIZE=%" G_GINT64_FORMAT, (gint64)size);
      g_ptr_array_add (options, size_option);
    }
  for (gsize i = 0; mail_options != NULL && mail_options[i] != NULL; i++)
    g_ptr_array_add (options, (gpointer)mail_options[i]);
  g_ptr_array_add (options, NULL);
  utf8 = options_have (mail_options, "SMTPUTF8");
  mail_line = format_path_command (TRUE, from, (const char *const *)options->pdata, utf8, error);
  if (mail_line == NULL)
    return FALSE;

  refused_table = mk_smtp_client_new_refused_table ();
  t.client = self;
  t.pipelining = mk_smtp_client_session_supports (self, "PIPELINING");
  t.chunking = mk_smtp_client_session_supports (self, "CHUNKING");
  t.stages = g_ptr_array_new ();
  t.replies = g_ptr_array_new_with_free_func ((GDestroyNotify)mk_smtp_reply_unref);
  t.recipients = recipients;
  t.n_recipients = recipients->len;
  t.refused = refused_table;
  t.accepted = g_array_new (FALSE, FALSE, sizeof (guint));
  priv->accepted_recipients = 0;

  /* MAIL → RCPT×n (→ DATA). Without PIPELINING every command is answered
   * before the next; a refused MAIL stops here, and DATA is sent only when
   * a recipient was accepted. */
  if (!transaction_command (&t, mail_line, "MAIL FROM", cancellable, error))
    goto out;
  set_state (self, STATE_MAIL);
  if (t.pipelining || reply_is (transaction_reply (&t, 0), 250))
    for (guint i = 0; i < recipients->len && !transaction_lost (&t); i++)
      {
        g_autofree char *line = format_path_command (FALSE, g_ptr_array_index (recipients, i),
                                                     rcpt_options, utf8, error);

        if (line == NULL)
          {
            /* Checked above but for SMTPUTF8: nothing of this recipient was
             * sent, the transaction is abandoned. */
            transaction_read (&t, 0, cancellable, NULL);
            safety_rset (self, cancellable);
            goto out;
          }
        if (!transaction_command (&t, line, "RCPT TO", cancellable, error))
          goto out;
      }
  if (!t.chunking && !transaction_lost (&t))
    {
      gboolean any_accepted = t.pipelining;

      for (guint i = 1; i < t.replies->len; i++)
        any_accepted = any_accepted || reply_is_positive (transaction_reply (&t, i));
      if (any_accepted && !transaction_command (&t, "DATA", "DATA", cancellable, error))
        goto out;
    }

  /* Flush the pipeline and judge the envelope, except with PIPELINING and
   * CHUNKING: then the first chunk goes out with the envelope and the
   * envelope is judged as soon as it did (one round trip per message). */
  if (!t.chunking || !t.pipelining)
    {
      if (!transaction_read (&t, 0, cancellable, error))
        goto out;
      if (!transaction_check_envelope (&t, error))
        {
          transaction_abort (&t, cancellable);
          goto out;
        }
      if (!t.chunking && !reply_is (transaction_reply (&t, 1 + t.n_recipients), 354))
        {
          set_reply_error (error, MK_SMTP_ERROR_DATA, "DATA",
                           transaction_reply (&t, 1 + t.n_recipients));
          transaction_abort (&t, cancellable);
          goto out;
        }
    }

  /* The body. A writer that fails, or a cancelled write, ends the session
   * without the terminator, so the server never takes a truncated
   * message. */
  set_state (self, STATE_DATA);
  if (!flush (self, cancellable, error))
    goto out;
  t.data_stream
      = mk_smtp_data_stream_new (mk_connection_get_output_stream (priv->connection),
                                 t.chunking ? MK_SMTP_DATA_FRAMING_BDAT : MK_SMTP_DATA_FRAMING_DOT);
  body = g_object_new (MK_TYPE_SMTP_BODY_STREAM, "base-stream", t.data_stream, "close-base-stream",
                       FALSE, NULL);
  MK_SMTP_BODY_STREAM (body)->transaction = &t;
  MK_SMTP_BODY_STREAM (body)->client = self;
  MK_SMTP_BODY_STREAM (body)->total = size >= 0 ? (guint64)size : 0;
  trace (self, "data: sending the message");
  if (!write_body (body, write_body_data, cancellable, &body_error)
      || !mk_smtp_data_stream_finish (t.data_stream, cancellable, &body_error)
      || !transaction_account_chunks (&t, cancellable, &body_error))
    {
      if (t.envelope_error != NULL)
        {
          /* Pipelined BDAT: the envelope was refused after the first chunk;
           * LAST was never sent, so RSET ends the transaction. */
          g_propagate_error (error, g_steal_pointer (&t.envelope_error));
          if (!transaction_lost (&t) && transaction_read (&t, 0, cancellable, NULL))
            safety_rset (self, cancellable);
        }
      else
        {
          close_session (self);
          g_propagate_error (error, g_steal_pointer (&body_error));
        }
      goto out;
    }
  emit (self, signals[SIGNAL_PROGRESS], NULL, mk_smtp_data_stream_get_message_bytes (t.data_stream),
        size >= 0 ? (guint64)size : 0);
  ok = transaction_end_of_data (&t, cancellable, error);

out:
  if (refused != NULL && t.refused != NULL && (ok || g_hash_table_size (t.refused) > 0))
    *refused = g_steal_pointer (&refused_table);
  if (priv->connection != NULL && priv->state != STATE_READY)
    set_state (self, STATE_READY);
  transaction_clear (&t);
  return ok;
}

/* ---------------------------------------------------------------------- */
/* The other commands. */

static MkSmtpReply *
simple_command (MkSmtpClient *self, char *line, const char *stage, GCancellable *cancellable,
                GError **error)
{
  g_autofree char *owned = line;

  if (line == NULL || !is_connected (self, error))
    return NULL;
  return command (self, line, stage, cancellable, error);
}

static MkSmtpReply *
do_data (MkSmtpClient *self, GBytes *message, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autoptr (MkSmtpDataStream) stream = NULL;
  g_autoptr (GPtrArray) finals = NULL;
  gsize length = 0;
  const char *bytes = g_bytes_get_data (message, &length);
  guint expected = priv->lmtp ? MAX (priv->accepted_recipients, 1) : 1;

  if (!enforce_tls_mode (self, cancellable, error))
    return NULL;
  reply = command (self, "DATA", "DATA", cancellable, error);
  if (reply == NULL)
    return NULL;
  if (!reply_is (reply, 354))
    {
      set_reply_error (error, MK_SMTP_ERROR_DATA, "DATA", reply);
      return NULL;
    }
  set_state (self, STATE_DATA);
  stream = mk_smtp_data_stream_new (mk_connection_get_output_stream (priv->connection),
                                    MK_SMTP_DATA_FRAMING_DOT);
  if (!g_output_stream_write_all (G_OUTPUT_STREAM (stream), bytes, length, NULL, cancellable, error)
      || !mk_smtp_data_stream_finish (stream, cancellable, error))
    {
      close_session (self);
      return NULL;
    }
  emit (self, signals[SIGNAL_PROGRESS], NULL, length, length);
  /* LMTP answers once per accepted recipient (RFC 2033 §4.2); smtplib reads
   * one reply and is out of step from then on. The last is returned. */
  for (guint i = 0; i < expected; i++)
    {
      g_clear_pointer (&reply, mk_smtp_reply_unref);
      reply = read_reply (self, "End of data", cancellable, error);
      if (reply == NULL)
        return NULL;
    }
  priv->accepted_recipients = 0;
  if (priv->connection != NULL)
    set_state (self, STATE_READY);
  return g_steal_pointer (&reply);
}

static MkSmtpReply *
do_quit (MkSmtpClient *self, GCancellable *cancellable, GError **error)
{
  MkSmtpReply *reply = simple_command (self, mk_smtp_command_quit (), "QUIT", cancellable, error);

  /* smtplib keeps its state when QUIT fails; we reset and close always. */
  close_session (self);
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

static MkSmtpReply *
do_auth (MkSmtpClient *self, const char *mechanism, const char *user, const char *secret,
         gboolean is_token, GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  MkSaslCredentials credentials = { 0 };
  g_autoptr (MkSaslSession) session = NULL;
  g_autoptr (MkSmtpReply) reply = NULL;
  g_autofree char *line = NULL;
  g_autofree char *shown = NULL;

  if (!enforce_tls_mode (self, cancellable, error)
      || !do_ehlo_or_helo_if_needed (self, cancellable, error)
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
  if (!queue_line (self, line, shown, cancellable, error) || !flush (self, cancellable, error))
    return NULL;
  reply = read_reply (self, "AUTH", cancellable, error);
  while (reply != NULL && reply_is (reply, 334))
    {
      g_autoptr (GError) step_error = NULL;
      g_autofree char *response = NULL;

      response = mk_sasl_session_step (session, mk_smtp_reply_get_text (reply), &step_error);
      g_clear_pointer (&reply, mk_smtp_reply_unref);
      if (response == NULL)
        {
          /* RFC 4954 §4: "*" cancels; the server answers 501. */
          if (queue_line (self, "*", NULL, cancellable, NULL) && flush (self, cancellable, NULL))
            reply = read_reply (self, "AUTH", cancellable, NULL);
          g_propagate_error (error, g_steal_pointer (&step_error));
          return NULL;
        }
      g_free (shown);
      shown = mk_sasl_session_redact (session, response);
      if (!queue_line (self, response, shown, cancellable, error)
          || !flush (self, cancellable, error))
        return NULL;
      reply = read_reply (self, "AUTH", cancellable, error);
    }
  if (reply == NULL)
    return NULL;
  /* 503: already authenticated, as smtplib. */
  if (!reply_is (reply, 235) && !reply_is (reply, 503))
    {
      g_autofree char *summary = reply_summary (reply);
      g_autofree char *safe = mk_sasl_session_redact (session, summary);

      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_AUTHENTICATION, "AUTH %s refused: %s",
                   mk_sasl_session_get_mechanism (session), safe);
      return NULL;
    }
  return g_steal_pointer (&reply);
}

static MkSmtpReply *
do_login (MkSmtpClient *self, const char *user, const char *password, GCancellable *cancellable,
          GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  const char *const *advertised;
  g_autoptr (GPtrArray) candidates = g_ptr_array_new ();
  g_autoptr (GError) last_error = NULL;

  if (!enforce_tls_mode (self, cancellable, error)
      || !do_ehlo_or_helo_if_needed (self, cancellable, error))
    return NULL;
  if (!capability (self, "AUTH"))
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
      reply = do_auth (self, g_ptr_array_index (candidates, i), user, password, FALSE, cancellable,
                       &last_error);
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

/* ---------------------------------------------------------------------- */
/* Steps: one protocol implementation for the sync and the async calls. */

static gboolean
begin_operation (MkSmtpClient *self, GError **error)
{
  if (g_atomic_int_compare_and_exchange (&PRIV (self)->busy, 0, 1))
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                       "Another operation is running on this SMTP client");
  return FALSE;
}

/* Cancelled, timed out, lost, TLS broken: the session is in no state to
 * go on (the server may be in the middle of a command). */
static void
end_operation (MkSmtpClient *self, const GError *error)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  if (error != NULL && (error->domain == G_IO_ERROR || error->domain == G_TLS_ERROR))
    close_session (self);
  g_clear_pointer (&priv->signal_context, g_main_context_unref);
  g_atomic_int_set (&priv->busy, 0);
}

gboolean
mk_smtp_client_run_step (MkSmtpClient *self, MkSmtpClientStep step, gpointer step_data,
                         GCancellable *cancellable, GError **error)
{
  GError *local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (step != NULL, FALSE);

  if (!begin_operation (self, error))
    return FALSE;
  ok = step (self, step_data, cancellable, &local_error);
  g_assert (ok == (local_error == NULL));
  end_operation (self, local_error);
  if (local_error != NULL)
    g_propagate_error (error, local_error);
  return ok;
}

typedef struct
{
  MkSmtpClientStep step;
  gpointer data;
  GDestroyNotify free;
} StepTask;

static void
step_task_free (gpointer data)
{
  StepTask *task = data;

  if (task->free != NULL)
    task->free (task->data);
  g_free (task);
}

static void
step_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  MkSmtpClient *self = source_object;
  StepTask *step = task_data;
  GError *error = NULL;
  gboolean ok = step->step (self, step->data, cancellable, &error);

  end_operation (self, error);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mk_smtp_client_run_step_async (MkSmtpClient *self, MkSmtpClientStep step, gpointer step_data,
                               GDestroyNotify step_data_free, gpointer source_tag,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  StepTask *data;
  GError *error = NULL;

  g_return_if_fail (MK_IS_SMTP_CLIENT (self));
  g_return_if_fail (step != NULL);

  data = g_new0 (StepTask, 1);
  data->step = step;
  data->data = step_data;
  data->free = step_data_free;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, step_task_free);
  /* The step's own cancellation checks give the right state (closed);
   * GTask's would answer before the step ran. */
  g_task_set_return_on_cancel (task, FALSE);
  if (!begin_operation (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  PRIV (self)->signal_context = g_main_context_ref_thread_default ();
  g_task_run_in_thread (task, step_thread);
}

gboolean
mk_smtp_client_run_step_finish (MkSmtpClient *self, GAsyncResult *result, gpointer source_tag,
                                GError **error)
{
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gpointer
mk_smtp_client_step_get_data (GAsyncResult *result)
{
  StepTask *task = g_task_get_task_data (G_TASK (result));

  return task->data;
}

/* The arguments and results of one public call. Sync calls borrow the
 * caller's arguments; async calls own copies. */
typedef struct
{
  gboolean owned;
  char *s1, *s2, *s3;
  char **v1, **v2, **v3;
  GBytes *bytes;
  GInputStream *stream;
  guint16 port;
  MkSmtpReply *reply;
  GHashTable *refused;
} Call;

static void
call_free (gpointer data)
{
  Call *call = data;

  if (call->owned)
    {
      g_free (call->s1);
      g_free (call->s2);
      g_free (call->s3);
      g_strfreev (call->v1);
      g_strfreev (call->v2);
      g_strfreev (call->v3);
      g_clear_pointer (&call->bytes, g_bytes_unref);
      g_clear_object (&call->stream);
    }
  g_clear_pointer (&call->reply, mk_smtp_reply_unref);
  g_clear_pointer (&call->refused, g_hash_table_unref);
  g_free (call);
}

static Call *
call_new (const char *s1, const char *s2, const char *s3)
{
  Call *call = g_new0 (Call, 1);

  call->owned = TRUE;
  call->s1 = g_strdup (s1);
  call->s2 = g_strdup (s2);
  call->s3 = g_strdup (s3);
  return call;
}

static void
call_start (MkSmtpClient *self, MkSmtpClientStep step, Call *call, gpointer source_tag,
            GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  mk_smtp_client_run_step_async (self, step, call, call_free, source_tag, cancellable, callback,
                                 user_data);
}

static MkSmtpReply *
call_run_reply (MkSmtpClient *self, MkSmtpClientStep step, Call *call, GCancellable *cancellable,
                GError **error)
{
  if (!mk_smtp_client_run_step (self, step, call, cancellable, error))
    return NULL;
  return g_steal_pointer (&call->reply);
}

static MkSmtpReply *
call_finish_reply (MkSmtpClient *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  Call *call;

  if (!mk_smtp_client_run_step_finish (self, result, source_tag, error))
    return NULL;
  call = mk_smtp_client_step_get_data (result);
  return g_steal_pointer (&call->reply);
}

#define REPLY_STEP(name, expression)                                                               \
  static gboolean name (MkSmtpClient *self, gpointer data, GCancellable *cancellable,              \
                        GError **error)                                                            \
  {                                                                                                \
    Call *call = data;                                                                             \
    call->reply = (expression);                                                                    \
    return call->reply != NULL;                                                                    \
  }

REPLY_STEP (step_connect, do_connect (self, call->s1, call->port, cancellable, error))
REPLY_STEP (step_docmd, simple_command (self, mk_smtp_command_docmd (call->s1, call->s2, error),
                                        call->s1, cancellable, error))
REPLY_STEP (step_helo, do_helo (self, call->s1, cancellable, error))
REPLY_STEP (step_ehlo, do_ehlo (self, call->s1, cancellable, error))
REPLY_STEP (step_verify, (enforce_tls_mode (self, cancellable, error)
                              ? simple_command (self, mk_smtp_command_vrfy (call->s1, error),
                                                "VRFY", cancellable, error)
                              : NULL))
REPLY_STEP (step_expn, (enforce_tls_mode (self, cancellable, error)
                            ? simple_command (self, mk_smtp_command_expn (call->s1, error), "EXPN",
                                              cancellable, error)
                            : NULL))
REPLY_STEP (step_help, simple_command (self, mk_smtp_command_help (call->s1, error), "HELP",
                                       cancellable, error))
REPLY_STEP (step_noop, simple_command (self, mk_smtp_command_noop (), "NOOP", cancellable, error))
REPLY_STEP (step_login, do_login (self, call->s1, call->s2, cancellable, error))
REPLY_STEP (step_auth, do_auth (self, call->s1, call->s2, call->s3,
                                g_ascii_strcasecmp (call->s1, "XOAUTH2") == 0
                                    || g_ascii_strcasecmp (call->s1, "OAUTHBEARER") == 0,
                                cancellable, error))
REPLY_STEP (step_starttls, do_starttls (self, cancellable, error))
REPLY_STEP (step_mail, do_mail (self, call->s1, (const char *const *)call->v1, cancellable, error))
REPLY_STEP (step_rcpt, do_rcpt (self, call->s1, (const char *const *)call->v1, cancellable, error))
REPLY_STEP (step_data, do_data (self, call->bytes, cancellable, error))
REPLY_STEP (step_quit, do_quit (self, cancellable, error))

static gboolean
step_rset (MkSmtpClient *self, gpointer data, GCancellable *cancellable, GError **error)
{
  Call *call = data;

  call->reply = simple_command (self, mk_smtp_command_rset (), "RSET", cancellable, error);
  if (reply_is_positive (call->reply))
    set_state (self, STATE_READY);
  PRIV (self)->accepted_recipients = 0;
  return call->reply != NULL;
}

static gboolean
step_ehlo_or_helo_if_needed (MkSmtpClient *self, gpointer data, GCancellable *cancellable,
                             GError **error)
{
  return do_ehlo_or_helo_if_needed (self, cancellable, error);
}

/* In blocks, so that #MkSmtpClient::progress moves while a large message
 * goes out. */
static gboolean
write_bytes (GOutputStream *stream, gpointer user_data, GCancellable *cancellable, GError **error)
{
  gsize length = 0;
  const guint8 *data = g_bytes_get_data (user_data, &length);

  for (gsize offset = 0; offset < length; offset += MK_SMTP_DATA_BLOCK_SIZE)
    if (!g_output_stream_write_all (stream, data + offset,
                                    MIN (MK_SMTP_DATA_BLOCK_SIZE, length - offset), NULL,
                                    cancellable, error))
      return FALSE;
  return TRUE;
}

static gboolean
write_stream (GOutputStream *stream, gpointer user_data, GCancellable *cancellable, GError **error)
{
  return g_output_stream_splice (stream, user_data, G_OUTPUT_STREAM_SPLICE_NONE, cancellable, error)
         >= 0;
}

static gboolean
step_sendmail (MkSmtpClient *self, gpointer data, GCancellable *cancellable, GError **error)
{
  Call *call = data;

  if (call->bytes != NULL)
    return mk_smtp_client_run_transaction (
        self, call->s1, (const char *const *)call->v1, (const char *const *)call->v2,
        (const char *const *)call->v3, (goffset)g_bytes_get_size (call->bytes), write_bytes,
        call->bytes, &call->refused, cancellable, error);
  return mk_smtp_client_run_transaction (self, call->s1, (const char *const *)call->v1,
                                         (const char *const *)call->v2,
                                         (const char *const *)call->v3, -1, write_stream,
                                         call->stream, &call->refused, cancellable, error);
}
/**
 * mk_smtp_client_connect:
 * @client: a client
 * @host: the server: a host name, an IP address, `host:port`, `[v6]:port`, or for #MkLmtpClient
 *   a unix socket path starting with `/`
 * @port: the port, or 0 for `host:port` or the default (25, 465 for implicit TLS, 2003 for LMTP)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to @host and reads the greeting, as smtplib's `connect()`. A previous connection is
 * closed first. With #MkSmtpClient:tls-mode %MK_TLS_MODE_IMPLICIT the TLS handshake comes
 * before the greeting.
 *
 * Errors: %MK_SMTP_ERROR_CONNECT when the greeting is not 220 (the reply stays available as the
 * last reply, and the connection is closed), %MK_SMTP_ERROR_SERVER_DISCONNECTED,
 * %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR, %G_RESOLVER_ERROR, %G_TLS_ERROR; %G_IO_ERROR_PENDING
 * while another call runs.
 *
 * Returns: (transfer full): the greeting (220), or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_connect (MkSmtpClient *client, const char *host, guint16 port,
                        GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (host != NULL, NULL);

  call->s1 = (char *)host;
  call->port = port;
  return call_run_reply (client, step_connect, call, cancellable, error);
}

/**
 * mk_smtp_client_connect_async:
 * @client: a client
 * @host: the server: a host name, an IP address, `host:port`, `[v6]:port`, or for #MkLmtpClient
 *   a unix socket path starting with `/`
 * @port: the port, or 0 for `host:port` or the default (25, 465 for implicit TLS, 2003 for LMTP)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_connect(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_connect_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_connect_async (MkSmtpClient *client, const char *host, guint16 port,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (host != NULL);

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (host);
  call->port = port;
  call_start (client, step_connect, call, mk_smtp_client_connect_async, cancellable, callback,
              user_data);
}

/**
 * mk_smtp_client_connect_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_connect_async().
 *
 * Returns: (transfer full): the greeting (220), or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_connect_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_connect_async, error);
}

/**
 * mk_smtp_client_docmd:
 * @client: a client
 * @command: the command verb, sent as given
 * @args: (nullable): its arguments, or %NULL
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends one command line and returns the reply, whatever its code, as smtplib's `docmd()`. The
 * line must not contain CR, LF or NUL.
 *
 * Errors: %MK_SMTP_ERROR_INVALID, %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE,
 * %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_docmd (MkSmtpClient *client, const char *command, const char *args,
                      GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (command != NULL, NULL);

  call->s1 = (char *)command;
  call->s2 = (char *)args;
  return call_run_reply (client, step_docmd, call, cancellable, error);
}

/**
 * mk_smtp_client_docmd_async:
 * @client: a client
 * @command: the command verb, sent as given
 * @args: (nullable): its arguments, or %NULL
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_docmd(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_docmd_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_docmd_async (MkSmtpClient *client, const char *command, const char *args,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (command != NULL);

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (command);
  call->s2 = g_strdup (args);
  call_start (client, step_docmd, call, mk_smtp_client_docmd_async, cancellable, callback,
              user_data);
}

/**
 * mk_smtp_client_docmd_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_docmd_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_docmd_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_docmd_async, error);
}

/**
 * mk_smtp_client_helo:
 * @client: a client
 * @name: (nullable): the name to greet with, or %NULL for #MkSmtpClient:local-hostname
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends HELO and returns the reply, whatever its code; it is also kept as
 * mk_smtp_client_get_helo_resp().
 *
 * Errors: %MK_SMTP_ERROR_INVALID, %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE,
 * %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_helo (MkSmtpClient *client, const char *name, GCancellable *cancellable,
                     GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  call->s1 = (char *)name;
  return call_run_reply (client, step_helo, call, cancellable, error);
}

/**
 * mk_smtp_client_helo_async:
 * @client: a client
 * @name: (nullable): the name to greet with, or %NULL for #MkSmtpClient:local-hostname
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_helo(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_helo_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_helo_async (MkSmtpClient *client, const char *name, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (name);
  call_start (client, step_helo, call, mk_smtp_client_helo_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_helo_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_helo_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_helo_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_helo_async, error);
}

/**
 * mk_smtp_client_ehlo:
 * @client: a client
 * @name: (nullable): the name to greet with, or %NULL for #MkSmtpClient:local-hostname
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends EHLO (LHLO for #MkLmtpClient) and returns the reply, whatever its code. A 250 reply
 * sets the capabilities and #MkSmtpClient:does-esmtp; any other reply clears them (smtplib
 * keeps `does_esmtp` set after a failed second EHLO).
 *
 * Errors: %MK_SMTP_ERROR_INVALID, %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE,
 * %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_ehlo (MkSmtpClient *client, const char *name, GCancellable *cancellable,
                     GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  call->s1 = (char *)name;
  return call_run_reply (client, step_ehlo, call, cancellable, error);
}

/**
 * mk_smtp_client_ehlo_async:
 * @client: a client
 * @name: (nullable): the name to greet with, or %NULL for #MkSmtpClient:local-hostname
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_ehlo(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_ehlo_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_ehlo_async (MkSmtpClient *client, const char *name, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (name);
  call_start (client, step_ehlo, call, mk_smtp_client_ehlo_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_ehlo_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_ehlo_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_ehlo_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_ehlo_async, error);
}

/**
 * mk_smtp_client_ehlo_or_helo_if_needed:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends EHLO, and HELO if EHLO is refused, unless the session has already exchanged one since
 * the connection or the last STARTTLS. #MkLmtpClient never falls back to HELO.
 *
 * Errors: %MK_SMTP_ERROR_HELO when both are refused, %MK_SMTP_ERROR_SERVER_DISCONNECTED,
 * %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_ehlo_or_helo_if_needed (MkSmtpClient *client, GCancellable *cancellable,
                                       GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);

  return mk_smtp_client_run_step (client, step_ehlo_or_helo_if_needed, call, cancellable, error);
}

/**
 * mk_smtp_client_ehlo_or_helo_if_needed_async:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_ehlo_or_helo_if_needed(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_ehlo_or_helo_if_needed_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_ehlo_or_helo_if_needed_async (MkSmtpClient *client, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  call = call_new (NULL, NULL, NULL);

  call_start (client, step_ehlo_or_helo_if_needed, call,
              mk_smtp_client_ehlo_or_helo_if_needed_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_ehlo_or_helo_if_needed_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_ehlo_or_helo_if_needed_async().
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_ehlo_or_helo_if_needed_finish (MkSmtpClient *client, GAsyncResult *result,
                                              GError **error)
{
  return mk_smtp_client_run_step_finish (client, result,
                                         mk_smtp_client_ehlo_or_helo_if_needed_async, error);
}

/**
 * mk_smtp_client_verify:
 * @client: a client
 * @address: the address or user name to verify
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends VRFY and returns the reply, whatever its code.
 *
 * Errors: %MK_SMTP_ERROR_INVALID, %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE,
 * %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_verify (MkSmtpClient *client, const char *address, GCancellable *cancellable,
                       GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  call->s1 = (char *)address;
  return call_run_reply (client, step_verify, call, cancellable, error);
}

/**
 * mk_smtp_client_verify_async:
 * @client: a client
 * @address: the address or user name to verify
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_verify(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_verify_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_verify_async (MkSmtpClient *client, const char *address, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (address != NULL);

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (address);
  call_start (client, step_verify, call, mk_smtp_client_verify_async, cancellable, callback,
              user_data);
}

/**
 * mk_smtp_client_verify_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_verify_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_verify_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_verify_async, error);
}

/**
 * mk_smtp_client_expn:
 * @client: a client
 * @address: the mailing list to expand
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends EXPN and returns the reply, whatever its code.
 *
 * Errors: %MK_SMTP_ERROR_INVALID, %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE,
 * %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_expn (MkSmtpClient *client, const char *address, GCancellable *cancellable,
                     GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  call->s1 = (char *)address;
  return call_run_reply (client, step_expn, call, cancellable, error);
}

/**
 * mk_smtp_client_expn_async:
 * @client: a client
 * @address: the mailing list to expand
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_expn(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_expn_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_expn_async (MkSmtpClient *client, const char *address, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (address != NULL);

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (address);
  call_start (client, step_expn, call, mk_smtp_client_expn_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_expn_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_expn_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_expn_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_expn_async, error);
}

/**
 * mk_smtp_client_help:
 * @client: a client
 * @args: (nullable): the topic, or %NULL
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends HELP and returns the reply, whatever its code (smtplib returns only the text).
 *
 * Errors: %MK_SMTP_ERROR_INVALID, %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE,
 * %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_help (MkSmtpClient *client, const char *args, GCancellable *cancellable,
                     GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  call->s1 = (char *)args;
  return call_run_reply (client, step_help, call, cancellable, error);
}

/**
 * mk_smtp_client_help_async:
 * @client: a client
 * @args: (nullable): the topic, or %NULL
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_help(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_help_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_help_async (MkSmtpClient *client, const char *args, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (args);
  call_start (client, step_help, call, mk_smtp_client_help_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_help_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_help_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_help_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_help_async, error);
}

/**
 * mk_smtp_client_rset:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends RSET and returns the reply, whatever its code.
 *
 * Errors: %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR;
 * %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_rset (MkSmtpClient *client, GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  return call_run_reply (client, step_rset, call, cancellable, error);
}

/**
 * mk_smtp_client_rset_async:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_rset(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_rset_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_rset_async (MkSmtpClient *client, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  call = call_new (NULL, NULL, NULL);

  call_start (client, step_rset, call, mk_smtp_client_rset_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_rset_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_rset_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_rset_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_rset_async, error);
}

/**
 * mk_smtp_client_noop:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends NOOP and returns the reply, whatever its code.
 *
 * Errors: %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR;
 * %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_noop (MkSmtpClient *client, GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  return call_run_reply (client, step_noop, call, cancellable, error);
}

/**
 * mk_smtp_client_noop_async:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_noop(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_noop_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_noop_async (MkSmtpClient *client, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  call = call_new (NULL, NULL, NULL);

  call_start (client, step_noop, call, mk_smtp_client_noop_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_noop_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_noop_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_noop_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_noop_async, error);
}

/**
 * mk_smtp_client_login:
 * @client: a client
 * @user: the user name (UTF-8)
 * @password: the password (UTF-8)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Authenticates with the strongest mechanism both sides offer: SCRAM-SHA-256, SCRAM-SHA-1,
 * PLAIN, CRAM-MD5, LOGIN, in that order (mechanism names compared without regard to case). EHLO
 * is sent first if needed. A cleartext mechanism (PLAIN, LOGIN) is used on an unencrypted
 * connection only to a loopback address or a unix socket, or with
 * #MkSmtpClient:allow-plaintext-auth. A wrong password (535) is not retried with another
 * mechanism.
 *
 * Errors: %MK_SMTP_ERROR_AUTHENTICATION when the server refuses, %MK_SMTP_ERROR_NOT_SUPPORTED
 * when it offers no AUTH or no usable mechanism, %MK_SMTP_ERROR_TLS when only cleartext
 * mechanisms are offered over plaintext, %MK_SMTP_ERROR_SERVER_DISCONNECTED,
 * %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's 235 reply (or 503: already authenticated), or %NULL
 * with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_login (MkSmtpClient *client, const char *user, const char *password,
                      GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  call->s1 = (char *)user;
  call->s2 = (char *)password;
  return call_run_reply (client, step_login, call, cancellable, error);
}

/**
 * mk_smtp_client_login_async:
 * @client: a client
 * @user: the user name (UTF-8)
 * @password: the password (UTF-8)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_login(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_login_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_login_async (MkSmtpClient *client, const char *user, const char *password,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (user != NULL);
  g_return_if_fail (password != NULL);

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (user);
  call->s2 = g_strdup (password);
  call_start (client, step_login, call, mk_smtp_client_login_async, cancellable, callback,
              user_data);
}

/**
 * mk_smtp_client_login_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_login_async().
 *
 * Returns: (transfer full): the server's 235 reply (or 503: already authenticated), or %NULL
 * with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_login_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_login_async, error);
}

/**
 * mk_smtp_client_auth:
 * @client: a client
 * @mechanism: the SASL mechanism, in any case (e.g. "PLAIN", "SCRAM-SHA-256", "XOAUTH2")
 * @user: the user name (UTF-8)
 * @secret: the password, or the OAuth 2 token for XOAUTH2 and OAUTHBEARER
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Authenticates with one named mechanism, through GNU SASL (XOAUTH2 and OAUTHBEARER are built
 * in). The secret never appears in the trace or in error messages. Challenge rounds are
 * bounded; a server that keeps challenging is cancelled with `*`.
 *
 * Errors: %MK_SMTP_ERROR_AUTHENTICATION, %MK_SMTP_ERROR_NOT_SUPPORTED for a mechanism nobody
 * implements, %MK_SMTP_ERROR_TLS for a cleartext mechanism over plaintext (see
 * mk_smtp_client_login()), %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE,
 * %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's 235 reply (or 503: already authenticated), or %NULL
 * with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_auth (MkSmtpClient *client, const char *mechanism, const char *user,
                     const char *secret, GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (mechanism != NULL, NULL);
  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (secret != NULL, NULL);

  call->s1 = (char *)mechanism;
  call->s2 = (char *)user;
  call->s3 = (char *)secret;
  return call_run_reply (client, step_auth, call, cancellable, error);
}

/**
 * mk_smtp_client_auth_async:
 * @client: a client
 * @mechanism: the SASL mechanism, in any case (e.g. "PLAIN", "SCRAM-SHA-256", "XOAUTH2")
 * @user: the user name (UTF-8)
 * @secret: the password, or the OAuth 2 token for XOAUTH2 and OAUTHBEARER
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_auth(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_auth_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_auth_async (MkSmtpClient *client, const char *mechanism, const char *user,
                           const char *secret, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (mechanism != NULL);
  g_return_if_fail (user != NULL);
  g_return_if_fail (secret != NULL);

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (mechanism);
  call->s2 = g_strdup (user);
  call->s3 = g_strdup (secret);
  call_start (client, step_auth, call, mk_smtp_client_auth_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_auth_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_auth_async().
 *
 * Returns: (transfer full): the server's 235 reply (or 503: already authenticated), or %NULL
 * with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_auth_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_auth_async, error);
}

/**
 * mk_smtp_client_starttls:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Upgrades the connection to TLS (RFC 3207): EHLO first if needed, STARTTLS, then the
 * handshake, verifying the certificate for #MkSmtpClient:tls-server-name or else the host given
 * to mk_smtp_client_connect(). Anything the server sent after its 220 and before the handshake
 * is an error (response injection). Capabilities and HELO/EHLO answers are forgotten: EHLO is
 * sent again by mk_smtp_client_ehlo_or_helo_if_needed() before the next command that needs it.
 *
 * Errors: %MK_SMTP_ERROR_NOT_SUPPORTED when STARTTLS is not advertised, %MK_SMTP_ERROR_RESPONSE
 * when it is refused (the plaintext session goes on) or bytes follow the 220, %G_TLS_ERROR,
 * %MK_SMTP_ERROR_SERVER_DISCONNECTED, %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's 220 reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_starttls (MkSmtpClient *client, GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  return call_run_reply (client, step_starttls, call, cancellable, error);
}

/**
 * mk_smtp_client_starttls_async:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_starttls(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_starttls_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_starttls_async (MkSmtpClient *client, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  call = call_new (NULL, NULL, NULL);

  call_start (client, step_starttls, call, mk_smtp_client_starttls_async, cancellable, callback,
              user_data);
}

/**
 * mk_smtp_client_starttls_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_starttls_async().
 *
 * Returns: (transfer full): the server's 220 reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_starttls_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_starttls_async, error);
}

/**
 * mk_smtp_client_mail:
 * @client: a client
 * @sender: the envelope sender; "" or "<>" for the null path
 * @options: (nullable) (array zero-terminated=1): ESMTP parameters, sent as given
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends MAIL FROM and returns the reply, whatever its code. Options need an ESMTP session
 * (smtplib drops them silently otherwise); `SMTPUTF8` needs the server to offer it.
 *
 * Errors: %MK_SMTP_ERROR_INVALID, %MK_SMTP_ERROR_NOT_SUPPORTED,
 * %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR; %G_IO_ERROR_PENDING
 * while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_mail (MkSmtpClient *client, const char *sender, const char *const *options,
                     GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (sender != NULL, NULL);

  call->s1 = (char *)sender;
  call->v1 = (char **)options;
  return call_run_reply (client, step_mail, call, cancellable, error);
}

/**
 * mk_smtp_client_mail_async:
 * @client: a client
 * @sender: the envelope sender; "" or "<>" for the null path
 * @options: (nullable) (array zero-terminated=1): ESMTP parameters, sent as given
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_mail(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_mail_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_mail_async (MkSmtpClient *client, const char *sender, const char *const *options,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (sender != NULL);

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (sender);
  call->v1 = g_strdupv ((char **)options);
  call_start (client, step_mail, call, mk_smtp_client_mail_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_mail_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_mail_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_mail_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_mail_async, error);
}

/**
 * mk_smtp_client_rcpt:
 * @client: a client
 * @recipient: the recipient's address
 * @options: (nullable) (array zero-terminated=1): ESMTP parameters, sent as given
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends RCPT TO and returns the reply, whatever its code.
 *
 * Errors: %MK_SMTP_ERROR_INVALID, %MK_SMTP_ERROR_NOT_SUPPORTED,
 * %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR; %G_IO_ERROR_PENDING
 * while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_rcpt (MkSmtpClient *client, const char *recipient, const char *const *options,
                     GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (recipient != NULL, NULL);

  call->s1 = (char *)recipient;
  call->v1 = (char **)options;
  return call_run_reply (client, step_rcpt, call, cancellable, error);
}

/**
 * mk_smtp_client_rcpt_async:
 * @client: a client
 * @recipient: the recipient's address
 * @options: (nullable) (array zero-terminated=1): ESMTP parameters, sent as given
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_rcpt(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_rcpt_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_rcpt_async (MkSmtpClient *client, const char *recipient, const char *const *options,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (recipient != NULL);

  call = call_new (NULL, NULL, NULL);
  call->s1 = g_strdup (recipient);
  call->v1 = g_strdupv ((char **)options);
  call_start (client, step_rcpt, call, mk_smtp_client_rcpt_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_rcpt_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_rcpt_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_rcpt_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_rcpt_async, error);
}

/**
 * mk_smtp_client_data:
 * @client: a client
 * @message: the message, with any line endings
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends DATA, then @message with every line ending made CRLF and lines starting with a dot
 * stuffed, then the terminator, and returns the final reply whatever its code. For
 * #MkLmtpClient one reply per recipient accepted since MAIL is read and the last is returned;
 * mk_smtp_client_sendmail() reports each.
 *
 * Errors: %MK_SMTP_ERROR_DATA when DATA is not answered 354, %MK_SMTP_ERROR_INVALID for a NUL
 * byte or a line over 998 octets, %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE,
 * %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply to the end of data, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_data (MkSmtpClient *client, GBytes *message, GCancellable *cancellable,
                     GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  g_return_val_if_fail (message != NULL, NULL);

  call->bytes = message;
  return call_run_reply (client, step_data, call, cancellable, error);
}

/**
 * mk_smtp_client_data_async:
 * @client: a client
 * @message: the message, with any line endings
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_data(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_data_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_data_async (MkSmtpClient *client, GBytes *message, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (message != NULL);

  call = call_new (NULL, NULL, NULL);
  call->bytes = g_bytes_ref (message);
  call_start (client, step_data, call, mk_smtp_client_data_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_data_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_data_async().
 *
 * Returns: (transfer full): the server's reply to the end of data, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_data_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_data_async, error);
}

/**
 * mk_smtp_client_quit:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends QUIT, reads the reply, and closes the connection. The session state is reset whatever
 * happens (smtplib keeps it when QUIT fails).
 *
 * Errors: %MK_SMTP_ERROR_SERVER_DISCONNECTED when the connection was already lost,
 * %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_quit (MkSmtpClient *client, GCancellable *cancellable, GError **error)
{
  g_autofree Call *call = g_new0 (Call, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  return call_run_reply (client, step_quit, call, cancellable, error);
}

/**
 * mk_smtp_client_quit_async:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_quit(): the same protocol, run
 * in a worker thread; the #MkSmtpClient::trace and #MkSmtpClient::progress
 * signals and @callback arrive on the caller's thread-default main context.
 * Finish with mk_smtp_client_quit_finish().
 *
 * Since: 0.1
 */
void
mk_smtp_client_quit_async (MkSmtpClient *client, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  call = call_new (NULL, NULL, NULL);

  call_start (client, step_quit, call, mk_smtp_client_quit_async, cancellable, callback, user_data);
}

/**
 * mk_smtp_client_quit_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_quit_async().
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_quit_finish (MkSmtpClient *client, GAsyncResult *result, GError **error)
{
  return call_finish_reply (client, result, mk_smtp_client_quit_async, error);
}

static gboolean
sendmail_finish (MkSmtpClient *client, GAsyncResult *result, gpointer source_tag,
                 GHashTable **refused, GError **error)
{
  Call *call;

  if (refused != NULL)
    *refused = NULL;
  if (!g_task_is_valid (result, client))
    return FALSE;
  call = mk_smtp_client_step_get_data (result);
  if (refused != NULL)
    *refused = g_steal_pointer (&call->refused);
  return mk_smtp_client_run_step_finish (client, result, source_tag, error);
}

/**
 * mk_smtp_client_sendmail:
 * @client: a client
 * @from: the envelope sender (an address; "" for the null path)
 * @to: (array zero-terminated=1): the recipients; each is sent once, in order
 * @message: the message, with any line endings (made CRLF on the wire)
 * @mail_options: (nullable) (array zero-terminated=1): ESMTP parameters for MAIL
 * @rcpt_options: (nullable) (array zero-terminated=1): ESMTP parameters for every RCPT
 * @refused: (out) (optional) (nullable) (transfer full) (element-type utf8 MkSmtpReply): the
 *   recipients the server refused, address → reply; empty when all were accepted
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends one message, as smtplib's `sendmail()`: EHLO (or HELO) if needed,
 * the STARTTLS #MkSmtpClient:tls-mode asks for, MAIL (with `SIZE=` when the
 * server advertises SIZE: a message over its limit fails before MAIL),
 * RCPT for each recipient, then DATA, or BDAT when the server offers
 * CHUNKING. With PIPELINING the commands go out together; the result is the
 * same. Every line ending in @message becomes CRLF and lines starting with a
 * dot are stuffed, so no message can end the data early.
 *
 * Success needs the final 250 (for #MkLmtpClient, at least one recipient's
 * 250). Recipients refused at RCPT (and, for LMTP, after the data) are in
 * @refused; a reply of 252 is an acceptance (smtplib counts it as a
 * refusal). A refusal is followed by RSET, so the client can send the next
 * message; a 421 closes the connection.
 *
 * Errors: %MK_SMTP_ERROR_SENDER_REFUSED, %MK_SMTP_ERROR_RECIPIENTS_REFUSED
 * (with @refused filled), %MK_SMTP_ERROR_DATA, %MK_SMTP_ERROR_HELO,
 * %MK_SMTP_ERROR_NOT_SUPPORTED (SMTPUTF8 not offered, SIZE too small),
 * %MK_SMTP_ERROR_INVALID (no recipients, CR/LF/NUL, a NUL byte or an
 * over-long line in @message), %MK_SMTP_ERROR_TLS,
 * %MK_SMTP_ERROR_DELIVERY_UNKNOWN (the connection was lost after the whole
 * message was sent: the server may have taken it),
 * %MK_SMTP_ERROR_SERVER_DISCONNECTED, %MK_SMTP_ERROR_RESPONSE, %G_IO_ERROR,
 * %G_TLS_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: %TRUE when the message was accepted (for at least one recipient)
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_sendmail (MkSmtpClient *client, const char *from, const char *const *to,
                         GBytes *message, const char *const *mail_options,
                         const char *const *rcpt_options, GHashTable **refused,
                         GCancellable *cancellable, GError **error)
{
  Call call = { 0 };
  gboolean ok;

  if (refused != NULL)
    *refused = NULL;
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);
  g_return_val_if_fail (from != NULL, FALSE);
  g_return_val_if_fail (to != NULL, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  call.s1 = (char *)from;
  call.v1 = (char **)to;
  call.v2 = (char **)mail_options;
  call.v3 = (char **)rcpt_options;
  call.bytes = message;
  ok = mk_smtp_client_run_step (client, step_sendmail, &call, cancellable, error);
  if (refused != NULL)
    *refused = g_steal_pointer (&call.refused);
  g_clear_pointer (&call.refused, g_hash_table_unref);
  return ok;
}

static Call *
sendmail_call_new (const char *from, const char *const *to, const char *const *mail_options,
                   const char *const *rcpt_options)
{
  Call *call = call_new (from, NULL, NULL);

  call->v1 = g_strdupv ((char **)to);
  call->v2 = g_strdupv ((char **)mail_options);
  call->v3 = g_strdupv ((char **)rcpt_options);
  return call;
}

/**
 * mk_smtp_client_sendmail_async:
 * @client: a client
 * @from: the envelope sender
 * @to: (array zero-terminated=1): the recipients
 * @message: the message
 * @mail_options: (nullable) (array zero-terminated=1): ESMTP parameters for MAIL
 * @rcpt_options: (nullable) (array zero-terminated=1): ESMTP parameters for every RCPT
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_sendmail(); #MkSmtpClient::progress
 * and #MkSmtpClient::trace arrive on the caller's thread-default main
 * context. Cancelling closes the connection; the message is then not sent
 * (or, once the end of data went out, its fate is unknown).
 *
 * Since: 0.1
 */
void
mk_smtp_client_sendmail_async (MkSmtpClient *client, const char *from, const char *const *to,
                               GBytes *message, const char *const *mail_options,
                               const char *const *rcpt_options, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (from != NULL);
  g_return_if_fail (to != NULL);
  g_return_if_fail (message != NULL);

  call = sendmail_call_new (from, to, mail_options, rcpt_options);
  call->bytes = g_bytes_ref (message);
  call_start (client, step_sendmail, call, mk_smtp_client_sendmail_async, cancellable, callback,
              user_data);
}

/**
 * mk_smtp_client_sendmail_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @refused: (out) (optional) (nullable) (transfer full) (element-type utf8 MkSmtpReply): the
 *   refused recipients, as for mk_smtp_client_sendmail()
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_sendmail_async().
 *
 * Returns: %TRUE when the message was accepted
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_sendmail_finish (MkSmtpClient *client, GAsyncResult *result, GHashTable **refused,
                                GError **error)
{
  return sendmail_finish (client, result, mk_smtp_client_sendmail_async, refused, error);
}

/**
 * mk_smtp_client_sendmail_stream:
 * @client: a client
 * @from: the envelope sender
 * @to: (array zero-terminated=1): the recipients
 * @message: the message, read to its end (and not closed)
 * @mail_options: (nullable) (array zero-terminated=1): ESMTP parameters for MAIL
 * @rcpt_options: (nullable) (array zero-terminated=1): ESMTP parameters for every RCPT
 * @refused: (out) (optional) (nullable) (transfer full) (element-type utf8 MkSmtpReply): the
 *   refused recipients
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * mk_smtp_client_sendmail() for a message read from a stream, which is
 * never held in memory whole. Its size is unknown, so no `SIZE=` is sent and
 * #MkSmtpClient::progress reports a total of 0. A read error midway closes
 * the connection without ending the data: the server discards the
 * message.
 *
 * Errors: those of mk_smtp_client_sendmail(), and the stream's own.
 *
 * Returns: %TRUE when the message was accepted
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_sendmail_stream (MkSmtpClient *client, const char *from, const char *const *to,
                                GInputStream *message, const char *const *mail_options,
                                const char *const *rcpt_options, GHashTable **refused,
                                GCancellable *cancellable, GError **error)
{
  Call call = { 0 };
  gboolean ok;

  if (refused != NULL)
    *refused = NULL;
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);
  g_return_val_if_fail (from != NULL, FALSE);
  g_return_val_if_fail (to != NULL, FALSE);
  g_return_val_if_fail (G_IS_INPUT_STREAM (message), FALSE);

  call.s1 = (char *)from;
  call.v1 = (char **)to;
  call.v2 = (char **)mail_options;
  call.v3 = (char **)rcpt_options;
  call.stream = message;
  ok = mk_smtp_client_run_step (client, step_sendmail, &call, cancellable, error);
  if (refused != NULL)
    *refused = g_steal_pointer (&call.refused);
  g_clear_pointer (&call.refused, g_hash_table_unref);
  return ok;
}

/**
 * mk_smtp_client_sendmail_stream_async:
 * @client: a client
 * @from: the envelope sender
 * @to: (array zero-terminated=1): the recipients
 * @message: the message
 * @mail_options: (nullable) (array zero-terminated=1): ESMTP parameters for MAIL
 * @rcpt_options: (nullable) (array zero-terminated=1): ESMTP parameters for every RCPT
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the thread-default main context of the caller when done
 * @user_data: data for @callback
 *
 * The asynchronous form of mk_smtp_client_sendmail_stream(). @message is
 * read in a worker thread.
 *
 * Since: 0.1
 */
void
mk_smtp_client_sendmail_stream_async (MkSmtpClient *client, const char *from, const char *const *to,
                                      GInputStream *message, const char *const *mail_options,
                                      const char *const *rcpt_options, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  Call *call;

  g_return_if_fail (MK_IS_SMTP_CLIENT (client));
  g_return_if_fail (from != NULL);
  g_return_if_fail (to != NULL);
  g_return_if_fail (G_IS_INPUT_STREAM (message));

  call = sendmail_call_new (from, to, mail_options, rcpt_options);
  call->stream = g_object_ref (message);
  call_start (client, step_sendmail, call, mk_smtp_client_sendmail_stream_async, cancellable,
              callback, user_data);
}

/**
 * mk_smtp_client_sendmail_stream_finish:
 * @client: a client
 * @result: the #GAsyncResult given to the callback
 * @refused: (out) (optional) (nullable) (transfer full) (element-type utf8 MkSmtpReply): the
 *   refused recipients
 * @error: return location for a #GError
 *
 * Finishes mk_smtp_client_sendmail_stream_async().
 *
 * Returns: %TRUE when the message was accepted
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_sendmail_stream_finish (MkSmtpClient *client, GAsyncResult *result,
                                       GHashTable **refused, GError **error)
{
  return sendmail_finish (client, result, mk_smtp_client_sendmail_stream_async, refused, error);
}

/**
 * mk_smtp_client_close:
 * @client: a client
 *
 * Closes the connection without sending anything, as smtplib's `close()`;
 * the session state is forgotten. Closing a closed client does nothing. It
 * must not be called while an async call runs (cancel that call instead).
 *
 * Since: 0.1
 */
void
mk_smtp_client_close (MkSmtpClient *client)
{
  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  close_session (client);
}

/**
 * mk_smtp_client_set_debuglevel:
 * @client: a client
 * @level: 0 for silence, 1 for the conversation, 2 for the conversation with
 *   the time of day in front of every line
 *
 * Turns the protocol trace on, as smtplib's `set_debuglevel()`: each line is
 * emitted as #MkSmtpClient::trace, which prints it on stderr unless a
 * handler returns %TRUE. Passwords, tokens and their base64 forms are
 * replaced by `<redacted>`, always.
 *
 * Since: 0.1
 */
void
mk_smtp_client_set_debuglevel (MkSmtpClient *client, int level)
{
  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  PRIV (client)->debuglevel = level;
}

/**
 * mk_smtp_client_has_extn:
 * @client: a client
 * @name: an EHLO keyword, in any case
 *
 * Whether the server advertised @name in its last EHLO reply (a whole
 * keyword: "SIZE" does not match "SIZEX"), as smtplib's `has_extn()`.
 *
 * Returns: %TRUE if advertised
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_has_extn (MkSmtpClient *client, const char *name)
{
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return capability (client, name);
}

/**
 * mk_smtp_client_get_capabilities:
 * @client: a client
 *
 * What the server advertised in its last 250 reply to EHLO (smtplib's
 * `esmtp_features`); forgotten on STARTTLS, QUIT and close.
 *
 * Returns: (transfer none) (nullable): the capabilities, or %NULL
 *
 * Since: 0.1
 */
MkSmtpCapabilities *
mk_smtp_client_get_capabilities (MkSmtpClient *client)
{
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  return PRIV (client)->capabilities;
}

/**
 * mk_smtp_client_get_does_esmtp:
 * @client: a client
 *
 * Whether the last EHLO was answered 250 (smtplib's `does_esmtp`).
 *
 * Returns: %TRUE for an ESMTP session
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_get_does_esmtp (MkSmtpClient *client)
{
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);

  return PRIV (client)->does_esmtp;
}

/**
 * mk_smtp_client_get_helo_resp:
 * @client: a client
 *
 * The reply to the last HELO (smtplib's `helo_resp`).
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_get_helo_resp (MkSmtpClient *client)
{
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  return PRIV (client)->helo_resp;
}

/**
 * mk_smtp_client_get_ehlo_resp:
 * @client: a client
 *
 * The reply to the last EHLO or LHLO, whatever its code (smtplib's
 * `ehlo_resp`).
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_get_ehlo_resp (MkSmtpClient *client)
{
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  return PRIV (client)->ehlo_resp;
}

/**
 * mk_smtp_client_get_last_reply:
 * @client: a client
 *
 * The last reply the server sent: after an error in the %MK_SMTP_ERROR
 * domain, the reply behind it (smtplib's `smtp_code` and `smtp_error`).
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL
 *
 * Since: 0.1
 */
MkSmtpReply *
mk_smtp_client_get_last_reply (MkSmtpClient *client)
{
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);

  return PRIV (client)->last_reply;
}

/**
 * mk_smtp_client_is_connected:
 * @client: a client
 *
 * Whether the client holds a connection (smtplib: `sock is not None`).
 *
 * Returns: %TRUE when connected
 *
 * Since: 0.1
 */
gboolean
mk_smtp_client_is_connected (MkSmtpClient *client)
{
  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), FALSE);

  return PRIV (client)->connection != NULL;
}

void
mk_smtp_client_set_lmtp (MkSmtpClient *client)
{
  g_return_if_fail (MK_IS_SMTP_CLIENT (client));

  PRIV (client)->lmtp = TRUE;
}

/* ---------------------------------------------------------------------- */
/* The object. */

/**
 * MkSmtpClient:
 *
 * An SMTP or ESMTP session, with the methods of Python's `smtplib.SMTP`.
 *
 * Make one with mk_smtp_client_new() (plaintext until
 * mk_smtp_client_starttls(), or as #MkSmtpClient:tls-mode says) or
 * mk_smtp_client_new_ssl() (implicit TLS), then mk_smtp_client_connect(),
 * mk_smtp_client_sendmail() or send_message, and mk_smtp_client_quit().
 *
 * Threading: a client is used from one thread at a time. Every network
 * call has a sync form, which blocks the calling thread, and an `_async`
 * form, which runs the same protocol in a worker thread and calls back,
 * and emits #MkSmtpClient::trace and #MkSmtpClient::progress, on the
 * thread-default main context of the caller. One call at a time: a call
 * made while another is running fails with %G_IO_ERROR_PENDING. A
 * cancelled call closes the connection.
 *
 * Since: 0.1
 */

static gboolean
mk_smtp_client_real_trace (MkSmtpClient *self, const char *line)
{
  g_printerr ("%s\n", line);
  return TRUE;
}

static void
mk_smtp_client_finalize (GObject *object)
{
  MkSmtpClient *self = MK_SMTP_CLIENT (object);
  MkSmtpClientPrivate *priv = PRIV (self);

  close_session (self);
  g_clear_pointer (&priv->last_reply, mk_smtp_reply_unref);
  g_free (priv->host);
  g_free (priv->local_hostname);
  g_free (priv->source_address);
  g_free (priv->tls_ca_file);
  g_free (priv->tls_client_certificate);
  g_free (priv->tls_client_key);
  g_free (priv->tls_pin_sha256);
  g_free (priv->tls_server_name);
  G_OBJECT_CLASS (mk_smtp_client_parent_class)->finalize (object);
}

static void
mk_smtp_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MkSmtpClientPrivate *priv = PRIV (MK_SMTP_CLIENT (object));

  switch (prop_id)
    {
    case PROP_LOCAL_HOSTNAME:
      g_value_set_string (value, priv->local_hostname);
      break;
    case PROP_TIMEOUT:
      g_value_set_double (value, priv->timeout);
      break;
    case PROP_SOURCE_ADDRESS:
      g_value_set_string (value, priv->source_address);
      break;
    case PROP_TLS_MODE:
      g_value_set_enum (value, priv->tls_mode);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, priv->tls_ca_file);
      break;
    case PROP_TLS_CLIENT_CERTIFICATE:
      g_value_set_string (value, priv->tls_client_certificate);
      break;
    case PROP_TLS_CLIENT_KEY:
      g_value_set_string (value, priv->tls_client_key);
      break;
    case PROP_TLS_PIN_SHA256:
      g_value_set_string (value, priv->tls_pin_sha256);
      break;
    case PROP_TLS_SERVER_NAME:
      g_value_set_string (value, priv->tls_server_name);
      break;
    case PROP_TLS_INSECURE_SKIP_VERIFY:
      g_value_set_boolean (value, priv->tls_insecure_skip_verify);
      break;
    case PROP_ALLOW_PLAINTEXT_AUTH:
      g_value_set_boolean (value, priv->allow_plaintext_auth);
      break;
    case PROP_USE_PIPELINING:
      g_value_set_boolean (value, priv->use_pipelining);
      break;
    case PROP_USE_CHUNKING:
      g_value_set_boolean (value, priv->use_chunking);
      break;
    case PROP_USE_8BITMIME:
      g_value_set_boolean (value, priv->use_8bitmime);
      break;
    case PROP_USE_SMTPUTF8:
      g_value_set_boolean (value, priv->use_smtputf8);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_string (char **field, const GValue *value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
mk_smtp_client_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MkSmtpClientPrivate *priv = PRIV (MK_SMTP_CLIENT (object));

  switch (prop_id)
    {
    case PROP_LOCAL_HOSTNAME:
      set_string (&priv->local_hostname, value);
      break;
    case PROP_TIMEOUT:
      priv->timeout = g_value_get_double (value);
      break;
    case PROP_SOURCE_ADDRESS:
      set_string (&priv->source_address, value);
      break;
    case PROP_TLS_MODE:
      priv->tls_mode = g_value_get_enum (value);
      break;
    case PROP_TLS_CA_FILE:
      set_string (&priv->tls_ca_file, value);
      break;
    case PROP_TLS_CLIENT_CERTIFICATE:
      set_string (&priv->tls_client_certificate, value);
      break;
    case PROP_TLS_CLIENT_KEY:
      set_string (&priv->tls_client_key, value);
      break;
    case PROP_TLS_PIN_SHA256:
      set_string (&priv->tls_pin_sha256, value);
      break;
    case PROP_TLS_SERVER_NAME:
      set_string (&priv->tls_server_name, value);
      break;
    case PROP_TLS_INSECURE_SKIP_VERIFY:
      priv->tls_insecure_skip_verify = g_value_get_boolean (value);
      break;
    case PROP_ALLOW_PLAINTEXT_AUTH:
      priv->allow_plaintext_auth = g_value_get_boolean (value);
      break;
    case PROP_USE_PIPELINING:
      priv->use_pipelining = g_value_get_boolean (value);
      break;
    case PROP_USE_CHUNKING:
      priv->use_chunking = g_value_get_boolean (value);
      break;
    case PROP_USE_8BITMIME:
      priv->use_8bitmime = g_value_get_boolean (value);
      break;
    case PROP_USE_SMTPUTF8:
      priv->use_smtputf8 = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
string_property (const char *name, const char *blurb)
{
  return g_param_spec_string (name, NULL, blurb, NULL,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static GParamSpec *
boolean_property (const char *name, const char *blurb, gboolean default_value)
{
  return g_param_spec_boolean (name, NULL, blurb, default_value,
                               G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
}

static void
mk_smtp_client_class_init (MkSmtpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mk_smtp_client_finalize;
  object_class->get_property = mk_smtp_client_get_property;
  object_class->set_property = mk_smtp_client_set_property;

  /**
   * MkSmtpClient:local-hostname: (nullable)
   *
   * The name sent with EHLO/HELO. %NULL: the machine's name when it is
   * fully qualified (as smtplib), otherwise the connection's own address as
   * an address literal (`[192.0.2.1]`, RFC 5321 §4.1.4).
   *
   * Since: 0.1
   */
  properties[PROP_LOCAL_HOSTNAME] = string_property ("local-hostname", "EHLO/HELO name");

  /**
   * MkSmtpClient:timeout:
   *
   * Seconds to wait for the connection, for the TLS handshake, for each
   * whole reply (however slowly the server trickles it) and for each write;
   * 0 waits forever. Default 60.
   *
   * Since: 0.1
   */
  properties[PROP_TIMEOUT]
      = g_param_spec_double ("timeout", NULL, "Network timeout in seconds", 0, G_MAXDOUBLE, 60,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * MkSmtpClient:source-address: (nullable)
   *
   * The local address to connect from (smtplib's `source_address`), or
   * %NULL for the system's choice.
   *
   * Since: 0.1
   */
  properties[PROP_SOURCE_ADDRESS] = string_property ("source-address", "Local address to bind");

  /**
   * MkSmtpClient:tls-mode:
   *
   * How the connection is protected; see #MkTlsMode.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_MODE]
      = g_param_spec_enum ("tls-mode", NULL, "TLS mode", MK_TYPE_TLS_MODE, MK_TLS_MODE_NONE,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * MkSmtpClient:tls-ca-file: (nullable)
   *
   * A PEM file of the certificate authorities to trust instead of the
   * system's.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CA_FILE] = string_property ("tls-ca-file", "CA file");

  /**
   * MkSmtpClient:tls-client-certificate: (nullable)
   *
   * A PEM client certificate to present.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CLIENT_CERTIFICATE]
      = string_property ("tls-client-certificate", "Client certificate");

  /**
   * MkSmtpClient:tls-client-key: (nullable)
   *
   * The PEM key of #MkSmtpClient:tls-client-certificate.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CLIENT_KEY] = string_property ("tls-client-key", "Client key");

  /**
   * MkSmtpClient:tls-pin-sha256: (nullable)
   *
   * The SHA-256 fingerprint of the server's public key or certificate; when
   * set, a server presenting another is refused.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_PIN_SHA256] = string_property ("tls-pin-sha256", "Certificate pin");

  /**
   * MkSmtpClient:tls-server-name: (nullable)
   *
   * The name the server's certificate is verified against (and sent as
   * SNI); %NULL: the host given to mk_smtp_client_connect().
   *
   * Since: 0.1
   */
  properties[PROP_TLS_SERVER_NAME] = string_property ("tls-server-name", "TLS server name");

  /**
   * MkSmtpClient:tls-insecure-skip-verify:
   *
   * Accept any certificate. Anyone on the path can then read and change
   * the conversation, credentials included.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_INSECURE_SKIP_VERIFY]
      = boolean_property ("tls-insecure-skip-verify", "Do not verify certificates", FALSE);

  /**
   * MkSmtpClient:allow-plaintext-auth:
   *
   * Allow PLAIN, LOGIN and the OAuth mechanisms over an unencrypted
   * connection to a host that is neither a loopback address nor a unix
   * socket: the password goes over the network readable by anyone on the
   * path.
   *
   * Since: 0.1
   */
  properties[PROP_ALLOW_PLAINTEXT_AUTH]
      = boolean_property ("allow-plaintext-auth", "Allow cleartext AUTH without TLS", FALSE);

  /**
   * MkSmtpClient:use-pipelining:
   *
   * Use PIPELINING (RFC 2920) when the server offers it.
   *
   * Since: 0.1
   */
  properties[PROP_USE_PIPELINING] = boolean_property ("use-pipelining", "Use PIPELINING", TRUE);

  /**
   * MkSmtpClient:use-chunking:
   *
   * Use CHUNKING/BDAT (RFC 3030) when the server offers it.
   *
   * Since: 0.1
   */
  properties[PROP_USE_CHUNKING] = boolean_property ("use-chunking", "Use CHUNKING", TRUE);

  /**
   * MkSmtpClient:use-8bitmime:
   *
   * Send 8-bit bodies as such (BODY=8BITMIME, RFC 6152) when the server
   * offers it; otherwise send_message encodes them to 7 bits.
   *
   * Since: 0.1
   */
  properties[PROP_USE_8BITMIME] = boolean_property ("use-8bitmime", "Use 8BITMIME", TRUE);

  /**
   * MkSmtpClient:use-smtputf8:
   *
   * Use SMTPUTF8 (RFC 6531) when the server offers it and an address needs
   * it.
   *
   * Since: 0.1
   */
  properties[PROP_USE_SMTPUTF8] = boolean_property ("use-smtputf8", "Use SMTPUTF8", TRUE);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MkSmtpClient::progress:
   * @client: the client
   * @sent: message bytes sent so far
   * @total: the message's size, or 0 when unknown (a stream)
   *
   * Emitted while a message is sent, after each block; in the calling
   * thread for sync calls, on the caller's main context for async calls.
   *
   * Since: 0.1
   */
  signals[SIGNAL_PROGRESS]
      = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);

  /**
   * MkSmtpClient::trace:
   * @client: the client
   * @line: one line of the protocol trace, secrets redacted
   *
   * Emitted for every trace line when mk_smtp_client_set_debuglevel() is
   * above 0. The default handler prints @line on stderr; a handler that
   * returns %TRUE stops that.
   *
   * Returns: %TRUE when the line was handled
   *
   * Since: 0.1
   */
  signals[SIGNAL_TRACE] = g_signal_new_class_handler (
      "trace", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, G_CALLBACK (mk_smtp_client_real_trace),
      g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
}

static void
mk_smtp_client_init (MkSmtpClient *self)
{
  MkSmtpClientPrivate *priv = PRIV (self);

  priv->timeout = 60;
  priv->use_pipelining = TRUE;
  priv->use_chunking = TRUE;
  priv->use_8bitmime = TRUE;
  priv->use_smtputf8 = TRUE;
}

/**
 * mk_smtp_client_new:
 *
 * A client that speaks plaintext until mk_smtp_client_starttls() is called
 * or #MkSmtpClient:tls-mode asks for TLS, as smtplib's `SMTP()`.
 *
 * Returns: (transfer full): a new client
 *
 * Since: 0.1
 */
MkSmtpClient *
mk_smtp_client_new (void)
{
  mk_init ();
  return g_object_new (MK_TYPE_SMTP_CLIENT, NULL);
}

/**
 * mk_smtp_client_new_ssl:
 *
 * A client that speaks TLS from the first byte (port 465 by default), as
 * smtplib's `SMTP_SSL()`, but with the certificate verified.
 *
 * Returns: (transfer full): a new client
 *
 * Since: 0.1
 */
MkSmtpClient *
mk_smtp_client_new_ssl (void)
{
  mk_init ();
  return g_object_new (MK_TYPE_SMTP_CLIENT, "tls-mode", MK_TLS_MODE_IMPLICIT, NULL);
}
