/* mk-tls-stream-private.h: MkTlsStream for its own streams and net/
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mk-tls-stream.h"

G_BEGIN_DECLS

/* mk_tls_stream_handshake() that fails with G_IO_ERROR_TIMED_OUT at
 * @deadline (mk-net-io-private.h); only a pollable base stream can time
 * out. */
gboolean mk_tls_stream_handshake_until (MkTlsStream *stream, gint64 deadline,
                                        GCancellable *cancellable, GError **error);

/* For MkTlsInputStream and MkTlsOutputStream. @blocking FALSE gives
 * G_IO_ERROR_WOULD_BLOCK instead of waiting (pollable base streams only). */
gssize mk_tls_stream_read (MkTlsStream *stream, void *buffer, gsize size, gboolean blocking,
                           GCancellable *cancellable, GError **error);
gssize mk_tls_stream_write (MkTlsStream *stream, const void *buffer, gsize size, gboolean blocking,
                            GCancellable *cancellable, GError **error);
gboolean mk_tls_stream_can_poll (MkTlsStream *stream);
gboolean mk_tls_stream_is_ready (MkTlsStream *stream, GIOCondition condition);
/* A source that fires when @condition (G_IO_IN or G_IO_OUT) may have
 * become possible, for g_pollable_source_new_full(). */
GSource *mk_tls_stream_create_base_source (MkTlsStream *stream, GIOCondition condition);

G_END_DECLS
