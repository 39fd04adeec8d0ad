/* mk-test-fault-server.h: a scripted SMTP server that misbehaves on cue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Real servers cannot fail on cue; this one runs a script, in a thread of the
 * test process, on loopback (127.0.0.1, ::1 or a unix socket) on a free port.
 * It records every byte the client sent (decrypted after TLS) per connection,
 * so a test asserts the exact transcript and DATA bytes, and it reports the
 * first expectation the client broke as one readable line.
 *
 * ## The script
 *
 * One step per line. Leading blanks are ignored; empty lines and lines
 * starting with `#` are comments. A line `---` ends the script of one
 * connection and starts the next: the server accepts the connections one
 * after another (reconnect scenarios), and a client connecting once more than
 * the script allows is a failure. A script without any step expects no
 * connection; an empty connection script (`S: 220 hi\n---\n`, or `EOF`
 * alone) expects the client to connect and close without sending.
 *
 * Payload escapes (in `S:`, `R:` and `C:`): `\r` `\n` `\t` `\0` `\\`, `\xHH`
 * and `\*` (a literal star at the end of a `C:` pattern). After the colon,
 * one space is skipped if present; trailing blanks are kept.
 *
 * Sending. Consecutive `S:`/`R:` steps are collected and go out in ONE write
 * when the next other step runs (or a collected 256 KiB is reached), so
 * "220 go" plus injected bytes reach the client in one segment:
 *
 * - `S: text`      send text followed by CRLF
 * - `R: bytes`     send bytes exactly as written, nothing added
 * - `FLUSH`        write what is collected now (a segment boundary)
 * - `SPLIT n`      from now on, write in pieces of n bytes (`SPLIT 0`: whole);
 *                  under TLS each piece is a TLS record of its own
 * - `CORK`         from now on, each write's pieces leave in one TCP segment
 *                  (TCP_CORK): TLS records of SPLIT pieces arrive together
 * - `DELAY ms`     from now on, wait ms before each write (`DELAY 0`: none)
 * - `SLEEP ms`     wait ms, once
 *
 * Expecting. Every wait for the client is bounded by the timeout option:
 *
 * - `C: line`      expect exactly this client line (CRLF implied and
 *                  required); a trailing `*` matches any rest of the line
 * - `DATA-UNTIL-DOT` read the message data up to and including the `.CRLF`
 *                  that ends it (the data starts at a line start); recorded
 *                  in the transcript and in the DATA bytes
 * - `C-BYTES: n`   read exactly n bytes (BDAT chunks), recorded likewise
 * - `QUIET ms`     expect the client to send nothing for ms: it waits for
 *                  a reply (lock-step without PIPELINING)
 * - `EOF`          expect the client to close now; any byte is a failure
 * - `DRAIN`        record whatever the client sends until it closes
 *
 * TLS (certificate, versions and client certificates from the options):
 *
 * - `TLS`          server side of the handshake now; the client must have
 *                  sent nothing unread. At the start of a script: implicit
 *                  TLS; after `S: 220 ...` (and any `R:` injection): STARTTLS.
 *                  `STARTTLS` is the same step under another name.
 * - `TLS-REFUSED`  the handshake must fail (the client refuses the server, or
 *                  the server the client); ends the connection. The reason is
 *                  in mk_fault_server_get_tls_error().
 *
 * Ending a connection (a step after one of these is a script error):
 *
 * - `CLOSE`        close_notify under TLS, then FIN; then record what the
 *                  client still sends until it closes (or the timeout)
 * - `CLOSE-NO-NOTIFY` the same without close_notify (TLS truncation)
 * - `RESET`        abort with a TCP RST (SO_LINGER 0; on a unix socket, which
 *                  has no RST, a close that discards unread bytes)
 * - `STALL`        stop reading and writing (so the client's writes fill
 *                  the TCP window; what it sends is not recorded); hold the
 *                  socket until the client closes or the server is freed
 * - end of script  as `EOF`: the client must close without sending more
 *
 * `REPEAT n` before any step runs it n times: `REPEAT 1000 S: 250-x`,
 * `REPEAT 2097152 R: x` (2 MiB without a line end), `REPEAT 3 C: RCPT TO:*`.
 * A script is plain text, so a test may also build one with GString; an
 * arbitrary byte string becomes an `R:` payload with mk_fault_server_escape().
 *
 * A mismatch (wrong line, early close, timeout, failed handshake, a write
 * blocked past the timeout, no client connecting in time) records
 * "connection N, step S (line L: `C: EHLO *`): expected …, got …" with the
 * client's bytes escaped, closes that connection and stops the server:
 * later connections are refused. A client that closes while the server
 * sends is not a failure by itself; the next step expecting bytes says so.
 *
 * ## Examples
 *
 * A STARTTLS session, asserted whole:
 *
 * |[<!-- language="C" -->
 * g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 ready\n"
 *                                                         "C: EHLO *\n"
 *                                                         "S: 250-hello\n"
 *                                                         "S: 250 STARTTLS\n"
 *                                                         "C: STARTTLS\n"
 *                                                         "S: 220 go ahead\n"
 *                                                         "TLS\n"
 *                                                         "C: EHLO *\n"
 *                                                         "S: 250 hello again\n"
 *                                                         "C: QUIT\n"
 *                                                         "S: 221 bye\n"
 *                                                         "CLOSE\n", NULL);
 *
 * // connect to mk_fault_server_get_socket_address (server), talk, close
 *
 * g_assert_true (mk_fault_server_wait (server, 0));
 * g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
 * g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
 *                  "EHLO me\r\nSTARTTLS\r\nEHLO me\r\nQUIT\r\n");
 * ]|
 *
 * STARTTLS response injection: the 220 and the injected lines leave in one
 * write, and the client must close without starting the handshake:
 *
 * |[<!-- language="C" -->
 * "S: 220 ready\n"
 * "C: EHLO *\n"
 * "S: 250 STARTTLS\n"
 * "C: STARTTLS\n"
 * "S: 220 go ahead\n"
 * "R: 250-evil\\r\\n250 AUTH PLAIN\\r\\n\n"
 * "EOF\n"
 * ]|
 *
 * A 1000-line reply, built in code:
 *
 * |[<!-- language="C" -->
 * g_autofree char *script = g_strdup_printf ("S: 220 hi\nC: EHLO *\n"
 *                                            "REPEAT %u S: 250-x\nS: 250 end\n", 999);
 * ]|
 *
 * Threading: every function is called from the test's thread; the script
 * runs in the server's own thread. Accessors return snapshots (strings and
 * GBytes alike) owned by the server, valid until it is freed: never free or
 * unref them.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  MK_FAULT_SERVER_LISTEN_IPV4, /* 127.0.0.1 */
  MK_FAULT_SERVER_LISTEN_IPV6, /* ::1 */
  MK_FAULT_SERVER_LISTEN_UNIX, /* a socket file in the test's temporary folder */
} MkFaultServerListen;

/* The protocol version numbers as on the wire, so 0 means "OpenSSL's
 * default". A bound below TLS 1.2 also lowers the server's security level to
 * 0, which OpenSSL 3 needs to speak TLS 1.0 or 1.1 at all. */
typedef enum
{
  MK_FAULT_SERVER_TLS_DEFAULT = 0,
  MK_FAULT_SERVER_TLS_1_0 = 0x0301,
  MK_FAULT_SERVER_TLS_1_1 = 0x0302,
  MK_FAULT_SERVER_TLS_1_2 = 0x0303,
  MK_FAULT_SERVER_TLS_1_3 = 0x0304,
} MkFaultServerTlsVersion;

typedef enum
{
  MK_FAULT_SERVER_CLIENT_CERT_NONE,
  MK_FAULT_SERVER_CLIENT_CERT_REQUEST, /* asked for, verified if sent */
  MK_FAULT_SERVER_CLIENT_CERT_REQUIRE, /* the handshake fails without one */
} MkFaultServerClientCert;

/* A zeroed struct (or NULL) gives every default. */
typedef struct
{
  MkFaultServerListen listen;
  /* PEM files; NULL: the test CA's server certificate for localhost,
   * 127.0.0.1 and ::1 (mk_test_certs_get()). */
  const char *cert_file;
  const char *key_file;
  MkFaultServerTlsVersion min_tls_version;
  MkFaultServerTlsVersion max_tls_version;
  /* An OpenSSL cipher list for TLS 1.2 and below; NULL: OpenSSL's default. */
  const char *cipher_list;
  MkFaultServerClientCert client_cert;
  /* CA file client certificates are verified against; NULL: the test CA. */
  const char *client_ca_file;
  /* Bound on each wait for the client (connect, bytes, close, handshake)
   * and each blocked write; 0: 10 s times mk_test_time_scale(). */
  guint timeout_ms;
  /* With MK_FAULT_SERVER_LISTEN_IPV4 or _IPV6: an address of that family
   * to listen on instead of the loopback one, for a test that gave its
   * own network namespace a non-loopback address on `lo`; NULL: the
   * loopback address. */
  const char *listen_address;
  /* Send TLS 1.3 session tickets after the handshake (two, OpenSSL's
   * default), records the client must read and find no data in; FALSE:
   * none, so a client that closes leaves no unread bytes behind. */
  gboolean tls_session_tickets;
} MkFaultServerOptions;

typedef struct _MkFaultServer MkFaultServer;

/* Parses @script (a syntax error aborts the test, naming the line), starts
 * listening and runs the script in a thread. @options may be NULL. */
MkFaultServer *mk_fault_server_new (const char *script, const MkFaultServerOptions *options);

/* Stops the thread and closes every socket, even while a client is still
 * connected or the script is stalled. */
void mk_fault_server_free (MkFaultServer *server);

/* Where to connect: "127.0.0.1" or "::1" and the port, or the unix socket's
 * path and 0. The address as a GSocketAddress (also a GSocketConnectable),
 * owned by the server like every accessor's result, suits all three. */
const char *mk_fault_server_get_address (MkFaultServer *server);
guint16 mk_fault_server_get_port (MkFaultServer *server);
GSocketAddress *mk_fault_server_get_socket_address (MkFaultServer *server);

/* Waits until every connection's script has ended (the client has closed,
 * the connection was reset or stopped at a failure). Returns FALSE after
 * @timeout_ms (0: twice the server's timeout option, so that a step's own
 * timeout is what reports a silent client) and then also records, as a
 * failure, where the unfinished connection stands. */
gboolean mk_fault_server_wait (MkFaultServer *server, guint timeout_ms);

/* NULL while every expectation held; else one line per failure. Assert it
 * with g_assert_cmpstr (…, ==, NULL) to print the reason. */
const char *mk_fault_server_get_failure (MkFaultServer *server);

/* Every byte the client sent on connection @index (0-based) so far,
 * decrypted after TLS, DATA included. A transcript holding a NUL byte aborts
 * the test: compare mk_fault_server_get_transcript_bytes() instead. */
const char *mk_fault_server_get_transcript (MkFaultServer *server, guint index);
GBytes *mk_fault_server_get_transcript_bytes (MkFaultServer *server, guint index);

/* Whether the transcript bytes [@offset, @offset + @length) of connection
 * @index arrived in one read of the server: no read ended inside them. A
 * client's write of up to 16 KiB on loopback arrives whole, so bytes that
 * came in two reads were sent by two writes (two writes may also arrive in
 * one read, when the server was slow to read the first). FALSE if the
 * bytes have not all arrived. */
gboolean mk_fault_server_in_one_read (MkFaultServer *server, guint index, gsize offset,
                                      gsize length);

/* The bytes DATA-UNTIL-DOT and C-BYTES steps read on connection @index,
 * concatenated, each message's terminating ".\r\n" included (so dot-stuffing
 * and the terminator are asserted exactly). The string form aborts the test
 * on a NUL byte, as for the transcript. */
GBytes *mk_fault_server_get_data (MkFaultServer *server, guint index);
const char *mk_fault_server_get_data_string (MkFaultServer *server, guint index);

/* TLS facts of connection @index, NULL if there were none: the server name
 * the client sent (SNI), the subject of the client certificate it presented
 * (OpenSSL one-line form, "/CN=..."), and why the handshake failed (OpenSSL's
 * reason, e.g. "unsupported protocol"). */
const char *mk_fault_server_get_sni (MkFaultServer *server, guint index);
const char *mk_fault_server_get_client_cert_subject (MkFaultServer *server, guint index);
const char *mk_fault_server_get_tls_error (MkFaultServer *server, guint index);

/* @bytes as an R:/S:/C: payload (free with g_free()): `\r` `\n` `\t` `\0`
 * by name, `\\` and `\*`, other bytes outside printable ASCII as `\xHH`.
 * Also how failure messages quote the client's bytes. */
char *mk_fault_server_escape (const void *bytes, gsize length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkFaultServer, mk_fault_server_free)

G_END_DECLS
