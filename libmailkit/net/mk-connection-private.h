/* mk-connection-private.h: one connection to a server, for smtp/
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "mk-line-reader-private.h"
#include "mk-tls-policy.h"
#include "mk-tls-stream.h"

G_BEGIN_DECLS

#define MK_TYPE_CONNECTION (mk_connection_get_type ())
G_DECLARE_FINAL_TYPE (MkConnection, mk_connection, MK, CONNECTION, GObject)

/* MkConnection: bytes to and from one server, in plaintext or TLS, with
 * every wait bounded. The protocol above writes through
 * mk_connection_get_output_stream() (queued; mk_connection_flush() sends
 * what is queued in one write) and reads lines with
 * mk_connection_read_line(), each reply opened with
 * mk_connection_begin_reply().
 *
 * Blocking calls only, all cancellable: the layer above runs its protocol
 * steps in a worker thread for its async calls. Use a connection from one
 * thread at a time.
 *
 * Errors are GIO's, never translated: G_IO_ERROR_CONNECTION_REFUSED,
 * G_RESOLVER_ERROR_NOT_FOUND, G_IO_ERROR_TIMED_OUT, G_IO_ERROR_CANCELLED,
 * G_TLS_ERROR_* … and, for what the server does wrong,
 * - G_IO_ERROR_CONNECTION_CLOSED: the server closed the connection
 *   between lines (end of stream), or reset it anywhere (GIO's error for
 *   ECONNRESET);
 * - G_IO_ERROR_PARTIAL_INPUT: it closed the connection inside a line;
 * - G_IO_ERROR_MESSAGE_TOO_LARGE: a line or a reply over the limits of
 *   mk-line-reader-private.h;
 * - G_IO_ERROR_INVALID_DATA: a NUL byte in a line, or bytes sent after the
 *   reply to STARTTLS and before the handshake (response injection).
 * After any error but a TLS one from mk_connection_start_tls() (which
 * closes the connection itself) the connection is out of step with the
 * server: close it. */

MkConnection *mk_connection_new (void);

/* The longest wait for the connect, for the whole TLS handshake, for
 * the next bytes of a reply, and for the server to take more bytes
 * (seconds; 0 = no limit). Default 60. */
void mk_connection_set_timeout (MkConnection *connection, double seconds);
double mk_connection_get_timeout (MkConnection *connection);

/* The longest time one reply may take, from mk_connection_begin_reply()
 * to its last line, however the server paces its bytes (seconds; 0 = no
 * limit). Default 60. */
void mk_connection_set_reply_timeout (MkConnection *connection, double seconds);

/* The local address to connect from: an IP address, with a port after a
 * colon (in brackets for IPv6: "[::1]:0") or without; NULL for any.
 * G_IO_ERROR_INVALID_ARGUMENT when it is not an IP address. */
gboolean mk_connection_set_source_address (MkConnection *connection, const char *address,
                                           GError **error);

/* Connects to @host (a name, an IP address with or without brackets, or a
 * unix socket path starting with '/') on @port (ignored for a socket),
 * through GIO's proxy resolver, with TCP_NODELAY. Closes any earlier
 * connection first. Implicit TLS is this and mk_connection_start_tls()
 * at once. */
gboolean mk_connection_connect (MkConnection *connection, const char *host, guint16 port,
                                GCancellable *cancellable, GError **error);

/* Starts TLS on the connection: refuses (G_IO_ERROR_INVALID_DATA) when any
 * byte from the server is waiting, buffered or in the socket, then runs
 * the handshake on the raw connection and reads only through TLS after it.
 * @server_name: what the certificate must name; NULL for the host
 * connected to. Any failure closes the connection: nothing goes on in
 * plaintext. */
gboolean mk_connection_start_tls (MkConnection *connection, MkTlsPolicy *policy,
                                  const char *server_name, GCancellable *cancellable,
                                  GError **error);

/* TRUE when the server's bytes are waiting to be read right now: in the
 * line reader's buffer, decrypted inside the TLS layer, or readable on the
 * socket (checked without blocking; through TLS only what decrypts to
 * data counts, not a session ticket). The bytes stay to be read as lines;
 * @bytes and @length (both nullable) show them (not NUL-terminated; valid
 * until the next read). For the protocol above: between replies, when it
 * has no reply outstanding, anything waiting is unsolicited. */
gboolean mk_connection_has_pending_input (MkConnection *connection, const char **bytes,
                                          gsize *length);

void mk_connection_begin_reply (MkConnection *connection);
/* See mk_line_reader_read_line(). */
char *mk_connection_read_line (MkConnection *connection, gsize *length, GCancellable *cancellable,
                               GError **error);

/* Where the protocol writes; valid until the connection is closed (the
 * same object before and after STARTTLS). NULL when not connected. */
GOutputStream *mk_connection_get_output_stream (MkConnection *connection);
gboolean mk_connection_flush (MkConnection *connection, GCancellable *cancellable, GError **error);

/* Sends close_notify when in TLS and closes; what is queued is dropped. */
void mk_connection_close (MkConnection *connection);

gboolean mk_connection_is_connected (MkConnection *connection);
gboolean mk_connection_is_tls (MkConnection *connection);
/* A unix socket or a loopback address reached without a proxy: where
 * plaintext credentials cannot be overheard. */
gboolean mk_connection_is_local (MkConnection *connection);
const char *mk_connection_get_host (MkConnection *connection);
/* The TLS stream after mk_connection_start_tls(), else NULL. */
MkTlsStream *mk_connection_get_tls_stream (MkConnection *connection);

G_END_DECLS
