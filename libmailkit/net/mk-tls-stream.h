/* mk-tls-stream.h: TLS (OpenSSL) over any GIOStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libmailkit/mk-export.h>
#include <libmailkit/net/mk-tls-policy.h>

G_BEGIN_DECLS

#define MK_TYPE_TLS_STREAM (mk_tls_stream_get_type ())

MK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MkTlsStream, mk_tls_stream, MK, TLS_STREAM, GIOStream)

MK_AVAILABLE_IN_ALL
MkTlsStream *mk_tls_stream_new (GIOStream *base_stream, MkTlsPolicy *policy,
                                const char *server_name, GError **error);

MK_AVAILABLE_IN_ALL
gboolean mk_tls_stream_handshake (MkTlsStream *stream, GCancellable *cancellable, GError **error);
MK_AVAILABLE_IN_ALL
void mk_tls_stream_handshake_async (MkTlsStream *stream, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
MK_AVAILABLE_IN_ALL
gboolean mk_tls_stream_handshake_finish (MkTlsStream *stream, GAsyncResult *result, GError **error);

MK_AVAILABLE_IN_ALL
GIOStream *mk_tls_stream_get_base_stream (MkTlsStream *stream);
MK_AVAILABLE_IN_ALL
const char *mk_tls_stream_get_server_name (MkTlsStream *stream);
MK_AVAILABLE_IN_ALL
MkTlsPolicy *mk_tls_stream_get_policy (MkTlsStream *stream);
MK_AVAILABLE_IN_ALL
const char *mk_tls_stream_get_protocol_version (MkTlsStream *stream);

G_END_DECLS
