/* mk-net-output-stream.c: coalescing writes, each wait bounded
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-net-io-private.h"
#include "mk-net-output-stream-private.h"

struct _MkNetOutputStream
{
  GOutputStream parent_instance;

  GOutputStream *target;
  char *peer;
  double timeout;
  GByteArray *queue;
};

G_DEFINE_FINAL_TYPE (MkNetOutputStream, mk_net_output_stream, G_TYPE_OUTPUT_STREAM)

static gboolean
send_all (MkNetOutputStream *self, const void *data, gsize size, GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (mk_net_write_all (self->target, data, size, self->timeout, cancellable, &local_error))
    return TRUE;
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s took no data for %.3g s", self->peer,
                 self->timeout);
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
send_queue (MkNetOutputStream *self, GCancellable *cancellable, GError **error)
{
  gboolean ok = send_all (self, self->queue->data, self->queue->len, cancellable, error);

  /* Sent, or the connection is broken and nothing more will be sent. */
  g_byte_array_set_size (self->queue, 0);
  return ok;
}

static gssize
mk_net_output_stream_write (GOutputStream *stream, const void *buffer, gsize count,
                            GCancellable *cancellable, GError **error)
{
  MkNetOutputStream *self = MK_NET_OUTPUT_STREAM (stream);

  if (self->queue->len + count > MK_NET_OUTPUT_BUFFER_SIZE
      && !send_queue (self, cancellable, error))
    return -1;
  /* A block as large as the queue goes out as it is, without a copy. */
  if (count >= MK_NET_OUTPUT_BUFFER_SIZE)
    return send_all (self, buffer, count, cancellable, error) ? (gssize)count : -1;
  g_byte_array_append (self->queue, buffer, count);
  return count;
}

static gboolean
mk_net_output_stream_flush (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  MkNetOutputStream *self = MK_NET_OUTPUT_STREAM (stream);

  if (self->queue->len > 0 && !send_queue (self, cancellable, error))
    return FALSE;
  return g_output_stream_flush (self->target, cancellable, error);
}

static gboolean
mk_net_output_stream_close (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  /* GOutputStream flushes before it closes; the target stays open. */
  return TRUE;
}

static void
mk_net_output_stream_finalize (GObject *object)
{
  MkNetOutputStream *self = MK_NET_OUTPUT_STREAM (object);

  g_clear_object (&self->target);
  g_free (self->peer);
  g_byte_array_unref (self->queue);

  G_OBJECT_CLASS (mk_net_output_stream_parent_class)->finalize (object);
}

static void
mk_net_output_stream_class_init (MkNetOutputStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mk_net_output_stream_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = mk_net_output_stream_write;
  G_OUTPUT_STREAM_CLASS (klass)->flush = mk_net_output_stream_flush;
  G_OUTPUT_STREAM_CLASS (klass)->close_fn = mk_net_output_stream_close;
}

static void
mk_net_output_stream_init (MkNetOutputStream *self)
{
  self->queue = g_byte_array_sized_new (MK_NET_OUTPUT_BUFFER_SIZE);
}

MkNetOutputStream *
mk_net_output_stream_new (GOutputStream *target, const char *peer)
{
  MkNetOutputStream *self = g_object_new (MK_TYPE_NET_OUTPUT_STREAM, NULL);

  self->target = g_object_ref (target);
  self->peer = g_strdup (peer);
  return self;
}

void
mk_net_output_stream_set_target (MkNetOutputStream *self, GOutputStream *target)
{
  g_return_if_fail (self->queue->len == 0);
  g_set_object (&self->target, target);
}

void
mk_net_output_stream_set_timeout (MkNetOutputStream *self, double seconds)
{
  self->timeout = seconds;
}
