/* mk-connection.c: one connection to a server, for smtp/
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "mk-connection-private.h"
#include "mk-init.h"
#include "mk-net-address.h"
#include "mk-net-io-private.h"
#include "mk-net-output-stream-private.h"
#include "mk-tls-stream-private.h"

/* RFC 5321 §4.5.3.2 asks for minutes per stage; a minute bounds a dead
 * server well enough for an interactive client. */
#define DEFAULT_TIMEOUT 60.0

struct _MkConnection
{
  GObject parent_instance;

  double timeout;
  double reply_timeout;
  GSocketAddress *source_address;

  GSocketConnection *socket_connection;
  MkTlsStream *tls;
  MkLineReader *reader;
  MkNetOutputStream *output;
  char *host;
  gboolean proxied;
};

G_DEFINE_FINAL_TYPE (MkConnection, mk_connection, G_TYPE_OBJECT)

static void
mk_connection_finalize (GObject *object)
{
  MkConnection *self = MK_CONNECTION (object);

  mk_connection_close (self);
  g_clear_object (&self->source_address);

  G_OBJECT_CLASS (mk_connection_parent_class)->finalize (object);
}

static void
mk_connection_class_init (MkConnectionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mk_connection_finalize;
}

static void
mk_connection_init (MkConnection *self)
{
  self->timeout = DEFAULT_TIMEOUT;
  self->reply_timeout = DEFAULT_TIMEOUT;
}

MkConnection *
mk_connection_new (void)
{
  mk_init ();
  return g_object_new (MK_TYPE_CONNECTION, NULL);
}

static void
apply_timeouts (MkConnection *self)
{
  if (self->reader != NULL)
    mk_line_reader_set_timeouts (self->reader, self->timeout, self->reply_timeout);
  if (self->output != NULL)
    mk_net_output_stream_set_timeout (self->output, self->timeout);
}

void
mk_connection_set_timeout (MkConnection *self, double seconds)
{
  g_return_if_fail (MK_IS_CONNECTION (self));
  self->timeout = MAX (seconds, 0);
  apply_timeouts (self);
}

double
mk_connection_get_timeout (MkConnection *self)
{
  g_return_val_if_fail (MK_IS_CONNECTION (self), 0);
  return self->timeout;
}

void
mk_connection_set_reply_timeout (MkConnection *self, double seconds)
{
  g_return_if_fail (MK_IS_CONNECTION (self));
  self->reply_timeout = MAX (seconds, 0);
  apply_timeouts (self);
}

gboolean
mk_connection_set_source_address (MkConnection *self, const char *address, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  guint16 port = 0;

  g_return_val_if_fail (MK_IS_CONNECTION (self), FALSE);

  if (address == NULL)
    {
      g_clear_object (&self->source_address);
      return TRUE;
    }
  if (!mk_net_parse_host_port (address, 0, &host, &port, error))
    return FALSE;
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The source address “%s” is not an IP address", address);
      return FALSE;
    }
  g_clear_object (&self->source_address);
  self->source_address = g_inet_socket_address_new (inet, port);
  return TRUE;
}

static void
on_client_event (GSocketClient *client, GSocketClientEvent event, GSocketConnectable *connectable,
                 GIOStream *connection, gpointer user_data)
{
  MkConnection *self = user_data;

  /* The peer address will be the proxy's: it says nothing of the server. */
  if (event == G_SOCKET_CLIENT_PROXY_NEGOTIATING)
    self->proxied = TRUE;
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
cancel_other (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

typedef struct
{
  GCancellable *cancellable;
  gboolean fired;
} ConnectTimer;

static gboolean
on_connect_timeout (gpointer user_data)
{
  ConnectTimer *timer = user_data;

  timer->fired = TRUE;
  g_cancellable_cancel (timer->cancellable);
  return G_SOURCE_REMOVE;
}

/* GSocketClient's own timeout counts whole seconds and also becomes the
 * socket's timeout; so the async connect runs on a private main context
 * beside a timer of our own, in whatever thread calls. */
static GSocketConnection *
connect_socket (MkConnection *self, GSocketConnectable *connectable, GCancellable *cancellable,
                GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GCancellable) attempt = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GSource) timer_source = NULL;
  g_autoptr (GError) local_error = NULL;
  ConnectTimer timer = { attempt, FALSE };
  GSocketConnection *connection;
  gulong cancel_id = 0;

  if (self->source_address != NULL && !G_IS_UNIX_SOCKET_ADDRESS (connectable))
    g_socket_client_set_local_address (client, self->source_address);
  g_signal_connect (client, "event", G_CALLBACK (on_client_event), self);
  if (cancellable != NULL)
    cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (cancel_other), attempt, NULL);

  g_main_context_push_thread_default (context);
  g_socket_client_connect_async (client, connectable, attempt, on_connected, &result);
  if (self->timeout > 0)
    {
      timer_source = g_timeout_source_new ((guint)(self->timeout * 1000));
      g_source_set_callback (timer_source, on_connect_timeout, &timer, NULL);
      g_source_attach (timer_source, context);
    }
  /* Ends: the connect always completes, at the latest when the timer or
   * the caller cancels it. */
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  connection = g_socket_client_connect_finish (client, result, &local_error);
  if (timer_source != NULL)
    g_source_destroy (timer_source);
  /* Let the attempts GSocketClient abandoned finish on this context. */
  g_cancellable_cancel (attempt);
  for (int i = 0; i < 100 && g_main_context_pending (context); i++)
    g_main_context_iteration (context, FALSE);
  g_main_context_pop_thread_default (context);
  g_cancellable_disconnect (cancellable, cancel_id);

  if (connection == NULL)
    {
      if (timer.fired && !g_cancellable_is_cancelled (cancellable))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                     "Connecting to %s timed out after %.3g s", self->host, self->timeout);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return connection;
}

gboolean
mk_connection_connect (MkConnection *self, const char *host, guint16 port,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr (GSocketConnectable) connectable = NULL;
  GSocket *socket;
  gsize length;

  g_return_val_if_fail (MK_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (host != NULL && host[0] != '\0', FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  mk_connection_close (self);
  length = strlen (host);
  if (host[0] == '[' && length > 2 && host[length - 1] == ']')
    self->host = g_strndup (host + 1, length - 2);
  else
    self->host = g_strdup (host);
  self->proxied = FALSE;

  if (self->host[0] == '/')
    connectable = G_SOCKET_CONNECTABLE (g_unix_socket_address_new (self->host));
  else
    connectable = g_network_address_new (self->host, port);

  self->socket_connection = connect_socket (self, connectable, cancellable, error);
  if (self->socket_connection == NULL)
    {
      g_clear_pointer (&self->host, g_free);
      return FALSE;
    }

  /* Commands are written whole and flushed on purpose: Nagle's delay would
   * only hold each one back for the previous reply's ACK. */
  socket = g_socket_connection_get_socket (self->socket_connection);
  if (g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);

  self->reader = mk_line_reader_new (
      g_io_stream_get_input_stream (G_IO_STREAM (self->socket_connection)), self->host);
  self->output = mk_net_output_stream_new (
      g_io_stream_get_output_stream (G_IO_STREAM (self->socket_connection)), self->host);
  apply_timeouts (self);
  return TRUE;
}

/* STARTTLS response injection (CVE-2021-22947, CVE-2020-14954 …): the
 * server may not send a byte between its reply to STARTTLS and the
 * handshake. Checked in the reader's buffer and, without waiting, in the
 * socket: bytes that came in the same segment as the reply, or a fragment
 * without CRLF. */
static gboolean
check_nothing_waiting (MkConnection *self, GError **error)
{
  gssize waiting = mk_line_reader_fill_nonblocking (self->reader, error);

  if (waiting < 0)
    return FALSE;
  if (waiting > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s sent data after its reply to STARTTLS, before the TLS handshake "
                   "(%" G_GSIZE_FORMAT " bytes): possible response injection",
                   self->host, (gsize)waiting);
      return FALSE;
    }
  return TRUE;
}

gboolean
mk_connection_start_tls (MkConnection *self, MkTlsPolicy *policy, const char *server_name,
                         GCancellable *cancellable, GError **error)
{
  g_autoptr (MkTlsStream) tls = NULL;

  g_return_val_if_fail (MK_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (policy == NULL || MK_IS_TLS_POLICY (policy), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (self->socket_connection != NULL && self->tls == NULL, FALSE);

  if (!g_output_stream_flush (G_OUTPUT_STREAM (self->output), cancellable, error)
      || !check_nothing_waiting (self, error))
    goto fail;

  tls = mk_tls_stream_new (G_IO_STREAM (self->socket_connection), policy,
                           server_name != NULL ? server_name : self->host, error);
  if (tls == NULL
      || !mk_tls_stream_handshake_until (tls, mk_net_deadline_after (self->timeout), cancellable,
                                         error))
    goto fail;

  /* A fresh reader: nothing read before the handshake can be read after. */
  mk_line_reader_free (self->reader);
  self->reader = mk_line_reader_new (g_io_stream_get_input_stream (G_IO_STREAM (tls)), self->host);
  mk_net_output_stream_set_target (self->output, g_io_stream_get_output_stream (G_IO_STREAM (tls)));
  self->tls = g_steal_pointer (&tls);
  apply_timeouts (self);
  return TRUE;

fail:
  mk_connection_close (self);
  return FALSE;
}

gboolean
mk_connection_has_pending_input (MkConnection *self, const char **bytes, gsize *length)
{
  gsize buffered = 0;
  const char *data = NULL;

  g_return_val_if_fail (MK_IS_CONNECTION (self), FALSE);

  /* A read error is left for the next blocking read to report. */
  if (self->reader != NULL && mk_line_reader_fill_nonblocking (self->reader, NULL) > 0)
    data = mk_line_reader_peek (self->reader, &buffered);
  if (bytes != NULL)
    *bytes = data;
  if (length != NULL)
    *length = buffered;
  return buffered > 0;
}

void
mk_connection_begin_reply (MkConnection *self)
{
  g_return_if_fail (MK_IS_CONNECTION (self));
  g_return_if_fail (self->reader != NULL);
  mk_line_reader_begin_reply (self->reader);
}

char *
mk_connection_read_line (MkConnection *self, gsize *length, GCancellable *cancellable,
                         GError **error)
{
  g_return_val_if_fail (MK_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->reader == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "Not connected");
      return NULL;
    }
  return mk_line_reader_read_line (self->reader, length, cancellable, error);
}

GOutputStream *
mk_connection_get_output_stream (MkConnection *self)
{
  g_return_val_if_fail (MK_IS_CONNECTION (self), NULL);
  return self->output != NULL ? G_OUTPUT_STREAM (self->output) : NULL;
}

gboolean
mk_connection_flush (MkConnection *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MK_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->output == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "Not connected");
      return FALSE;
    }
  return g_output_stream_flush (G_OUTPUT_STREAM (self->output), cancellable, error);
}

void
mk_connection_close (MkConnection *self)
{
  g_return_if_fail (MK_IS_CONNECTION (self));

  g_clear_pointer (&self->reader, mk_line_reader_free);
  g_clear_object (&self->output);
  /* Closing the TLS stream sends close_notify and closes the socket. */
  if (self->tls != NULL)
    g_io_stream_close (G_IO_STREAM (self->tls), NULL, NULL);
  else if (self->socket_connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->socket_connection), NULL, NULL);
  g_clear_object (&self->tls);
  g_clear_object (&self->socket_connection);
  g_clear_pointer (&self->host, g_free);
  self->proxied = FALSE;
}

gboolean
mk_connection_is_connected (MkConnection *self)
{
  g_return_val_if_fail (MK_IS_CONNECTION (self), FALSE);
  return self->socket_connection != NULL;
}

gboolean
mk_connection_is_tls (MkConnection *self)
{
  g_return_val_if_fail (MK_IS_CONNECTION (self), FALSE);
  return self->tls != NULL;
}

gboolean
mk_connection_is_local (MkConnection *self)
{
  g_autoptr (GSocketAddress) remote = NULL;

  g_return_val_if_fail (MK_IS_CONNECTION (self), FALSE);

  if (self->socket_connection == NULL)
    return FALSE;
  remote = g_socket_connection_get_remote_address (self->socket_connection, NULL);
  if (G_IS_UNIX_SOCKET_ADDRESS (remote))
    return TRUE;
  if (self->proxied || !G_IS_INET_SOCKET_ADDRESS (remote))
    return FALSE;
  return g_inet_address_get_is_loopback (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

const char *
mk_connection_get_host (MkConnection *self)
{
  g_return_val_if_fail (MK_IS_CONNECTION (self), NULL);
  return self->host;
}

MkTlsStream *
mk_connection_get_tls_stream (MkConnection *self)
{
  g_return_val_if_fail (MK_IS_CONNECTION (self), NULL);
  return self->tls;
}
