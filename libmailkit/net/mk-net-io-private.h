/* mk-net-io-private.h: waiting on streams against a deadline
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A deadline is a point on the monotonic clock (g_get_monotonic_time(), in
 * microseconds). GSocket's own timeout counts whole seconds, too coarse for
 * a deadline that a server trickling one byte per 100 ms must not stretch,
 * so every wait of this layer goes through mk_net_wait() instead. */
#define MK_NET_DEADLINE_NONE G_MAXINT64

gint64 mk_net_deadline_after (double seconds);

/* OpenSSL keeps an error queue and random generators per thread and frees
 * them when the thread exits; GLib's worker threads outlive an operation
 * (and, idle, a program's leak check at exit). A worker that ran an
 * operation calls this at its end to give that state back. */
void mk_net_release_thread_state (void);

/* Blocks until @stream (a GPollableInputStream for G_IO_IN, a
 * GPollableOutputStream for G_IO_OUT) is ready, @deadline passes
 * (G_IO_ERROR_TIMED_OUT) or @cancellable is cancelled (G_IO_ERROR_CANCELLED). */
gboolean mk_net_wait (GObject *stream, GIOCondition condition, gint64 deadline,
                      GCancellable *cancellable, GError **error);

/* One read of at most @size bytes (0 at end of stream) that waits no longer
 * than @deadline. A stream that cannot poll is read blocking: only
 * @cancellable bounds that wait. */
gssize mk_net_read (GInputStream *stream, void *buffer, gsize size, gint64 deadline,
                    GCancellable *cancellable, GError **error);

/* Writes all of @buffer; each wait for the stream to take more ends
 * @timeout seconds after the last progress (0: no limit). */
gboolean mk_net_write_all (GOutputStream *stream, const void *buffer, gsize size, double timeout,
                           GCancellable *cancellable, GError **error);

G_END_DECLS
