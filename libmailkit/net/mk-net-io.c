/* mk-net-io.c: waiting on streams against a deadline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/* ppoll(): a timeout in nanoseconds, where poll() has milliseconds. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <poll.h>

#include <gio/gfiledescriptorbased.h>
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

/* The wait for a stream that is no file descriptor: its pollable source on
 * a private context, so the wait works the same in any thread, with or
 * without a main loop running there. */
static gboolean
wait_source (GObject *stream, GIOCondition condition, gint64 deadline, GCancellable *cancellable)
{
  g_autoptr (GMainContext) context = NULL;
  g_autoptr (GSource) source = NULL;
  g_autoptr (GSource) timer = NULL;
  gboolean ready = FALSE;
  gboolean expired = FALSE;
  gulong cancelled_handler = 0;

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
  return ready;
}

/* The wait for a socket's stream (a plain connection's, or the one under
 * TLS): one poll() on its descriptor and the cancellable's, without the
 * descriptor, allocations and second poll a main context costs, which add
 * up when many small messages go over one connection. */
static gboolean
wait_fd (int fd, GIOCondition condition, gint64 deadline, GCancellable *cancellable)
{
  struct pollfd fds[2] = { { fd, condition & G_IO_IN ? POLLIN : POLLOUT, 0 } };
  GPollFD cancel_fd = { -1, 0, 0 };
  nfds_t n_fds = 1;
  gboolean ready = FALSE;

  if (g_cancellable_make_pollfd (cancellable, &cancel_fd))
    {
      fds[1] = (struct pollfd){ cancel_fd.fd, POLLIN, 0 };
      n_fds = 2;
    }
  /* Ends: the descriptor is ready (or in error, which the next read or
   * write reports), the cancellable fires or the deadline passes. */
  while (!g_cancellable_is_cancelled (cancellable))
    {
      gint64 now = g_get_monotonic_time ();
      struct timespec timeout;
      int n;

      if (deadline != MK_NET_DEADLINE_NONE && now >= deadline)
        break;
      if (deadline != MK_NET_DEADLINE_NONE)
        {
          timeout.tv_sec = (deadline - now) / G_USEC_PER_SEC;
          timeout.tv_nsec = (deadline - now) % G_USEC_PER_SEC * 1000;
        }
      n = ppoll (fds, n_fds, deadline != MK_NET_DEADLINE_NONE ? &timeout : NULL, NULL);
      if (n < 0 && errno != EINTR)
        {
          /* Not expected of poll() on open descriptors: the read or write
           * that follows finds out what is wrong. */
          ready = TRUE;
          break;
        }
      if (n > 0 && fds[0].revents != 0)
        {
          ready = TRUE;
          break;
        }
    }
  if (n_fds == 2)
    g_cancellable_release_fd (cancellable);
  return ready;
}

gboolean
mk_net_wait (GObject *stream, GIOCondition condition, gint64 deadline, GCancellable *cancellable,
             GError **error)
{
  gboolean ready;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (deadline != MK_NET_DEADLINE_NONE && g_get_monotonic_time () >= deadline)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timed out");
      return FALSE;
    }

  if (G_IS_FILE_DESCRIPTOR_BASED (stream))
    ready = wait_fd (g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (stream)), condition,
                     deadline, cancellable);
  else
    ready = wait_source (stream, condition, deadline, cancellable);

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
