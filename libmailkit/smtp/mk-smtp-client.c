/* mk-smtp-client.c: the SMTP/ESMTP session, with smtplib's API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The object, its properties and signals, and the public calls. Every
 * public call is a "step": one blocking, cancellable function of
 * mk-smtp-client-session.c that the sync call runs in the caller's thread
 * and the _async call runs with g_task_run_in_thread
 * (mk_smtp_client_run_step*). The protocol is written once.
 */
#include "config.h"

#include <libmailkit/mk-enum-types.h>
#include <libmailkit/mk-init.h>

#include "libmailkit/net/mk-net-io-private.h"
#include "mk-smtp-client-session-private.h"
#include "mk-smtp-command-private.h"
#include "mk-smtp-data-stream-private.h"

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
  PROP_USE_BINARYMIME,
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

MkSmtpClientPrivate *
mk_smtp_client_get_private (MkSmtpClient *client)
{
  return PRIV (client);
}

gboolean
mk_smtp_client_session_is_tls (MkSmtpClient *client)
{
  MkSmtpClientPrivate *priv = PRIV (client);

  return priv->connection != NULL && mk_connection_is_tls (priv->connection);
}

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
    {
      /* Not g_main_context_invoke(): it runs the function in this (worker)
       * thread whenever the caller's context happens not to be acquired. */
      g_autoptr (GSource) source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, emission_run, emission, emission_free);
      g_source_set_static_name (source, "[mailkit] MkSmtpClient signal");
      g_source_attach (source, priv->signal_context);
    }
  else
    {
      emission_run (emission);
      emission_free (emission);
    }
}

void
mk_smtp_client_emit_trace (MkSmtpClient *client, char *line)
{
  emit (client, signals[SIGNAL_TRACE], line, 0, 0);
}

void
mk_smtp_client_emit_progress (MkSmtpClient *client, guint64 sent, guint64 total)
{
  emit (client, signals[SIGNAL_PROGRESS], NULL, sent, total);
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
    mk_smtp_session_close (self);
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

  mk_net_release_thread_state ();
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
   * GTask's would answer before the step ran, or turn a message the
   * server already accepted into G_IO_ERROR_CANCELLED when the cancellable
   * fires between the step's end and the callback. */
  g_task_set_return_on_cancel (task, FALSE);
  g_task_set_check_cancellable (task, FALSE);
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

REPLY_STEP (step_connect, mk_smtp_session_connect (self, call->s1, call->port, cancellable, error))
REPLY_STEP (step_docmd,
            mk_smtp_session_command (self, mk_smtp_command_docmd (call->s1, call->s2, error),
                                     call->s1, cancellable, error))
REPLY_STEP (step_helo, mk_smtp_session_helo (self, call->s1, cancellable, error))
REPLY_STEP (step_ehlo, mk_smtp_session_ehlo (self, call->s1, cancellable, error))
REPLY_STEP (step_verify,
            (mk_smtp_session_require_tls (self, cancellable, error)
                 ? mk_smtp_session_command (self, mk_smtp_command_vrfy (call->s1, error), "VRFY",
                                            cancellable, error)
                 : NULL))
REPLY_STEP (step_expn, (mk_smtp_session_require_tls (self, cancellable, error)
                            ? mk_smtp_session_command (self, mk_smtp_command_expn (call->s1, error),
                                                       "EXPN", cancellable, error)
                            : NULL))
REPLY_STEP (step_help, mk_smtp_session_command (self, mk_smtp_command_help (call->s1, error),
                                                "HELP", cancellable, error))
REPLY_STEP (step_noop,
            mk_smtp_session_command (self, mk_smtp_command_noop (), "NOOP", cancellable, error))
REPLY_STEP (step_login, mk_smtp_session_login (self, call->s1, call->s2, cancellable, error))
REPLY_STEP (step_auth,
            mk_smtp_session_auth (self, call->s1, call->s2, call->s3,
                                  g_ascii_strcasecmp (call->s1, "XOAUTH2") == 0
                                      || g_ascii_strcasecmp (call->s1, "OAUTHBEARER") == 0,
                                  cancellable, error))
REPLY_STEP (step_starttls, mk_smtp_session_starttls (self, cancellable, error))
REPLY_STEP (step_mail, mk_smtp_session_mail (self, call->s1, (const char *const *)call->v1,
                                             cancellable, error))
REPLY_STEP (step_rcpt, mk_smtp_session_rcpt (self, call->s1, (const char *const *)call->v1,
                                             cancellable, error))
REPLY_STEP (step_data, mk_smtp_session_data (self, call->bytes, cancellable, error))
REPLY_STEP (step_quit, mk_smtp_session_quit (self, cancellable, error))

static gboolean
step_rset (MkSmtpClient *self, gpointer data, GCancellable *cancellable, GError **error)
{
  Call *call = data;

  call->reply = mk_smtp_session_rset (self, cancellable, error);
  return call->reply != NULL;
}

static gboolean
step_ehlo_or_helo_if_needed (MkSmtpClient *self, gpointer data, GCancellable *cancellable,
                             GError **error)
{
  return mk_smtp_session_ehlo_or_helo_if_needed (self, cancellable, error);
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
 * %MK_SMTP_ERROR_RESPONSE when the reply is not 221 (it stays available as the last reply) or is
 * malformed, %G_IO_ERROR; %G_IO_ERROR_PENDING while another call runs.
 *
 * Returns: (transfer full): the server's 221 reply, or %NULL with @error set
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
 * @refused: (out) (optional) (nullable) (transfer container) (element-type utf8 MkSmtpReply): the
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
 * @refused: (out) (optional) (nullable) (transfer container) (element-type utf8 MkSmtpReply): the
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
 * @refused: (out) (optional) (nullable) (transfer container) (element-type utf8 MkSmtpReply): the
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
 * @refused: (out) (optional) (nullable) (transfer container) (element-type utf8 MkSmtpReply): the
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
  g_return_if_fail (g_atomic_int_get (&PRIV (client)->busy) == 0);

  mk_smtp_session_close (client);
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

  return mk_smtp_session_has_capability (client, name);
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

  mk_smtp_session_close (self);
  g_clear_pointer (&priv->last_reply, mk_smtp_reply_unref);
  g_clear_pointer (&priv->refused_keepalive, g_hash_table_unref);
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
    case PROP_USE_BINARYMIME:
      g_value_set_boolean (value, priv->use_binarymime);
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
    case PROP_USE_BINARYMIME:
      priv->use_binarymime = g_value_get_boolean (value);
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
   * MkSmtpClient:local-hostname:
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
   * MkSmtpClient:source-address:
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
   * MkSmtpClient:tls-ca-file:
   *
   * A PEM file of the certificate authorities to trust instead of the
   * system's.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CA_FILE] = string_property ("tls-ca-file", "CA file");

  /**
   * MkSmtpClient:tls-client-certificate:
   *
   * A PEM client certificate to present.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CLIENT_CERTIFICATE]
      = string_property ("tls-client-certificate", "Client certificate");

  /**
   * MkSmtpClient:tls-client-key:
   *
   * The PEM key of #MkSmtpClient:tls-client-certificate.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CLIENT_KEY] = string_property ("tls-client-key", "Client key");

  /**
   * MkSmtpClient:tls-pin-sha256:
   *
   * The SHA-256 fingerprint of the server's public key or certificate; when
   * set, a server presenting another is refused.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_PIN_SHA256] = string_property ("tls-pin-sha256", "Certificate pin");

  /**
   * MkSmtpClient:tls-server-name:
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

  /**
   * MkSmtpClient:use-binarymime:
   *
   * Send binary parts as they are (BODY=BINARYMIME over BDAT, RFC 3030
   * §3) when the server offers BINARYMIME and CHUNKING (and
   * #MkSmtpClient:use-chunking is on); otherwise send_message encodes them
   * in base64.
   *
   * Since: 0.1
   */
  properties[PROP_USE_BINARYMIME] = boolean_property ("use-binarymime", "Use BINARYMIME", TRUE);

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
  priv->use_binarymime = TRUE;
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
