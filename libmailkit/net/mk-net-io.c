/* mk-net-io.c: waiting on streams against a deadline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <openssl/crypto.h>

#include "mk-net-io-private.h"

gint64
mk_net_deadline_after (double seconds)
{
  if (seconds <= 0)
    return MK_NET_DEADLINE_NONE;
  return g_get_monotonic_time () + (gint64)(seconds * G_USEC_PER_SEC);
}

static gboolean
on_ready (GObject *stream, gpointer user_data)
{
  gboolean *ready = user_data;

  *ready = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
on_expired (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wake_context (GCancellable *cancellable, gpointer context)
{
  g_main_context_wakeup (context);
}

static gboolean
timer_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

/* A source that fires at its ready time: microsecond deadlines, where
 * g_timeout_source_new() would count from now in milliseconds. */
static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL, NULL };

gboolean
mk_net_wait (GObject *stream, GIOCondition condition, gint64 deadline, GCancellable *cancellable,
             GError **error)
{
  g_autoptr (GMainContext) context = NULL;
  g_autoptr (GSource) source = NULL;
  g_autoptr (GSource) timer = NULL;
  gboolean ready = FALSE;
  gboolean expired = FALSE;
  gulong cancelled_handler = 0;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (deadline != MK_NET_DEADLINE_NONE && g_get_monotonic_time () >= deadline)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timed out");
      return FALSE;
    }

  /* A private context, so the wait works the same in any thread, with or
   * without a main loop running there. */
  context = g_main_context_new ();
  /* The cancellable wakes the context itself rather than through a child
   * source of the stream's: GLib 2.74's GCancellableSource can leak when it
   * is cancelled from another thread while attached. */
  if (condition & G_IO_IN)
    source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (stream), NULL);
  else
    source = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (stream), NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (on_ready), &ready, NULL);
  g_source_attach (source, context);
  if (cancellable != NULL)
    cancelled_handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_context),
                                               context, NULL);

  if (deadline != MK_NET_DEADLINE_NONE)
    {
      timer = g_source_new (&timer_funcs, sizeof (GSource));
      g_source_set_ready_time (timer, deadline);
      g_source_set_callback (timer, on_expired, &expired, NULL);
      g_source_attach (timer, context);
    }

  /* Ends: the stream becomes ready, the cancellable fires or the deadline
   * passes. */
  while (!ready && !expired && !g_cancellable_is_cancelled (cancellable))
    g_main_context_iteration (context, TRUE);

  g_cancellable_disconnect (cancellable, cancelled_handler);
  g_source_destroy (source);
  if (timer != NULL)
    g_source_destroy (timer);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!ready)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timed out");
      return FALSE;
    }
  return TRUE;
}

gssize
mk_net_read (GInputStream *stream, void *buffer, gsize size, gint64 deadline,
             GCancellable *cancellable, GError **error)
{
  GPollableInputStream *pollable;

  if (!G_IS_POLLABLE_INPUT_STREAM (stream)
      || !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (stream)))
    return g_input_stream_read (stream, buffer, size, cancellable, error);

  pollable = G_POLLABLE_INPUT_STREAM (stream);
  /* Each turn either returns or waits; the wait ends by the deadline. */
  for (;;)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n;

      n = g_pollable_input_stream_read_nonblocking (pollable, buffer, size, cancellable,
                                                    &local_error);
      if (n >= 0)
        return n;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }
      if (!mk_net_wait (G_OBJECT (stream), G_IO_IN, deadline, cancellable, error))
        return -1;
    }
}

gboolean
mk_net_write_all (GOutputStream *stream, const void *buffer, gsize size, double timeout,
                  GCancellable *cancellable, GError **error)
{
  GPollableOutputStream *pollable;
  const guint8 *data = buffer;

  if (!G_IS_POLLABLE_OUTPUT_STREAM (stream)
      || !g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (stream)))
    return g_output_stream_write_all (stream, buffer, size, NULL, cancellable, error);

  pollable = G_POLLABLE_OUTPUT_STREAM (stream);
  while (size > 0)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n;

      n = g_pollable_output_stream_write_nonblocking (pollable, data, size, cancellable,
                                                      &local_error);
      if (n > 0)
        {
          data += n;
          size -= n;
          continue;
        }
      if (n == 0)
        g_set_error_literal (&local_error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                             "The stream took no data");
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (!mk_net_wait (G_OBJECT (stream), G_IO_OUT, mk_net_deadline_after (timeout), cancellable,
                        error))
        return FALSE;
    }
  return TRUE;
}

void
mk_net_release_thread_state (void)
{
  OPENSSL_thread_stop ();
}
