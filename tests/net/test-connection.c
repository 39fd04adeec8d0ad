/* test-connection.c: MkConnection on loopback against the scripted server:
 * IPv4, IPv6, unix sockets, a source address, refusal, connect timeout and
 * cancellation, STARTTLS and its response injection, implicit TLS, slow,
 * silent and vanishing servers, writes queued and bounded
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <libmailkit/mailkit.h>
#include <string.h>

#include "libmailkit/net/mk-connection-private.h"
#include "mk-test-fault-server.h"
#include "mk-test-utils.h"

static MkTlsPolicy *
test_ca_policy (void)
{
  MkTlsPolicy *policy = mk_tls_policy_new ();

  mk_tls_policy_set_ca_file (policy, mk_test_certs_get ()->ca_file);
  return policy;
}

static MkConnection *
connect_to (MkFaultServer *server, const char *host)
{
  MkConnection *connection = mk_connection_new ();
  g_autoptr (GError) error = NULL;

  mk_connection_set_timeout (connection, 10 * mk_test_time_scale ());
  mk_connection_set_reply_timeout (connection, 10 * mk_test_time_scale ());
  g_assert_true (mk_connection_connect (connection,
                                        host != NULL ? host : mk_fault_server_get_address (server),
                                        mk_fault_server_get_port (server), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mk_connection_is_connected (connection));
  return connection;
}

static void
expect_line (MkConnection *connection, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  mk_connection_begin_reply (connection);
  line = mk_connection_read_line (connection, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, expected);
}

static void
send_line (MkConnection *connection, const char *line)
{
  GOutputStream *out = mk_connection_get_output_stream (connection);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_output_stream_write_all (out, line, strlen (line), NULL, NULL, &error));
  g_assert_true (g_output_stream_write_all (out, "\r\n", 2, NULL, NULL, &error));
  g_assert_true (mk_connection_flush (connection, NULL, &error));
  g_assert_no_error (error);
}

static void
expect_closed (MkConnection *connection)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  mk_connection_begin_reply (connection);
  line = mk_connection_read_line (connection, NULL, NULL, &error);
  g_assert_null (line);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
}

static void
finish (MkFaultServer *server, MkConnection *connection, const char *transcript)
{
  mk_connection_close (connection);
  g_assert_false (mk_connection_is_connected (connection));
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, transcript);
}

#define GREET_AND_QUIT "S: 220 hello\nC: QUIT\nS: 221 bye\nCLOSE\n"

static void
converse_plain (MkFaultServerListen listen, const char *host)
{
  MkFaultServerOptions options = { .listen = listen };
  g_autoptr (MkFaultServer) server = mk_fault_server_new (GREET_AND_QUIT, &options);
  g_autoptr (MkConnection) connection = connect_to (server, host);

  g_assert_false (mk_connection_is_tls (connection));
  g_assert_null (mk_connection_get_tls_stream (connection));
  g_assert_true (mk_connection_is_local (connection));
  expect_line (connection, "220 hello");
  send_line (connection, "QUIT");
  expect_line (connection, "221 bye");
  expect_closed (connection);
  finish (server, connection, "QUIT\r\n");
}

static void
test_ipv4 (void)
{
  converse_plain (MK_FAULT_SERVER_LISTEN_IPV4, NULL);
  converse_plain (MK_FAULT_SERVER_LISTEN_IPV4, "localhost");
}

static void
test_ipv6 (void)
{
  converse_plain (MK_FAULT_SERVER_LISTEN_IPV6, "::1");
  converse_plain (MK_FAULT_SERVER_LISTEN_IPV6, "[::1]");
}

static void
test_unix_socket (void)
{
  converse_plain (MK_FAULT_SERVER_LISTEN_UNIX, NULL);
}

/* A loopback listener of our own, for what the scripted server cannot
 * tell: who connected, and a backlog that is full. */
static GSocket *
listen_on_loopback (int backlog, guint16 *port)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  GSocket *socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, TRUE, &error));
  g_socket_set_listen_backlog (socket, backlog);
  g_assert_true (g_socket_listen (socket, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return socket;
}

static void
test_source_address (void)
{
  g_autoptr (MkConnection) connection = mk_connection_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GSocket) accepted = NULL;
  g_autoptr (GSocketAddress) peer = NULL;
  g_autofree char *peer_text = NULL;
  guint16 port = 0;

  listener = listen_on_loopback (8, &port);
  g_assert_true (mk_connection_set_source_address (connection, "127.0.0.2", &error));
  g_assert_true (mk_connection_connect (connection, "127.0.0.1", port, NULL, &error));
  g_assert_no_error (error);
  accepted = g_socket_accept (listener, NULL, &error);
  g_assert_no_error (error);
  peer = g_socket_get_remote_address (accepted, &error);
  peer_text
      = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (peer)));
  g_assert_cmpstr (peer_text, ==, "127.0.0.2");

  /* Not an IP address: refused before any connect. */
  g_assert_false (mk_connection_set_source_address (connection, "localhost", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_refused (void)
{
  g_autoptr (MkConnection) connection = mk_connection_new ();
  g_autoptr (GError) error = NULL;
  guint16 port = 0;

  /* A port that was free a moment ago and has no listener now. */
  g_object_unref (listen_on_loopback (1, &port));
  g_assert_false (mk_connection_connect (connection, "127.0.0.1", port, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_false (mk_connection_is_connected (connection));
  g_assert_null (mk_connection_get_output_stream (connection));
}

/* A listener whose backlog is full and that never accepts: Linux drops
 * further SYNs, so a connect to it hangs without leaving the machine. */
static GSocket *
listen_full (guint16 *port, GSocketConnection **filler)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  GSocket *socket = listen_on_loopback (0, port);

  *filler = g_socket_client_connect_to_host (client, "127.0.0.1", *port, NULL, &error);
  g_assert_no_error (error);
  return socket;
}

static void
test_connect_timeout (void)
{
  g_autoptr (MkConnection) connection = mk_connection_new ();
  g_autoptr (GSocketConnection) filler = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GError) error = NULL;
  double scale = mk_test_time_scale ();
  guint16 port = 0;
  gint64 start;
  double took;

  listener = listen_full (&port, &filler);
  mk_connection_set_timeout (connection, 0.3 * scale);
  start = g_get_monotonic_time ();
  g_assert_false (mk_connection_connect (connection, "127.0.0.1", port, NULL, &error));
  took = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "Connecting to 127.0.0.1 timed out"));
  g_assert_cmpfloat (took, >=, 0.29 * scale);
  g_assert_cmpfloat (took, <, 1.0 * scale);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_connect_cancel (void)
{
  g_autoptr (MkConnection) connection = mk_connection_new ();
  g_autoptr (GSocketConnection) filler = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GThread *canceller;
  guint16 port = 0;
  gint64 start;

  listener = listen_full (&port, &filler);
  mk_connection_set_timeout (connection, 0);
  canceller = g_thread_new ("cancel", cancel_later, cancellable);
  start = g_get_monotonic_time ();
  g_assert_false (mk_connection_connect (connection, "127.0.0.1", port, cancellable, &error));
  g_thread_join (canceller);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * mk_test_time_scale ());
}

/* STARTTLS as smtp/ drives it; @server_name NULL checks the host itself. */
static void
converse_starttls (const char *server_name, const char *expected_sni)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 ready\n"
                                                          "C: STARTTLS\n"
                                                          "S: 220 go ahead\n"
                                                          "TLS\n"
                                                          "C: EHLO client\n"
                                                          "S: 250 hello\n"
                                                          "C: QUIT\n"
                                                          "S: 221 bye\n"
                                                          "CLOSE\n",
                                                          NULL);
  g_autoptr (MkConnection) connection = connect_to (server, NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GError) error = NULL;
  GOutputStream *out_before = mk_connection_get_output_stream (connection);

  expect_line (connection, "220 ready");
  send_line (connection, "STARTTLS");
  expect_line (connection, "220 go ahead");
  g_assert_true (mk_connection_start_tls (connection, policy, server_name, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mk_connection_is_tls (connection));
  g_assert_nonnull (mk_connection_get_tls_stream (connection));
  g_assert_true (mk_connection_get_output_stream (connection) == out_before);
  send_line (connection, "EHLO client");
  expect_line (connection, "250 hello");
  send_line (connection, "QUIT");
  expect_line (connection, "221 bye");
  expect_closed (connection);
  finish (server, connection, "STARTTLS\r\nEHLO client\r\nQUIT\r\n");
  g_assert_cmpstr (mk_fault_server_get_sni (server, 0), ==, expected_sni);
}

static void
test_starttls (void)
{
  /* 127.0.0.1 is checked as an IP address, with no SNI; a name given
   * instead is checked and sent. */
  converse_starttls (NULL, NULL);
  converse_starttls ("localhost", "localhost");
}

/* Runs a STARTTLS whose server sends @after_reply with its 220, or in a
 * later segment; returns the error of start_tls (or of the first read). */
static GError *
starttls_with_injection (const char *after_reply)
{
  g_autofree char *script = g_strdup_printf ("S: 220 ready\n"
                                             "C: STARTTLS\n"
                                             "S: 220 go ahead\n"
                                             "%s\n"
                                             "DRAIN\n",
                                             after_reply);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkConnection) connection = connect_to (server, NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  GError *error = NULL;

  expect_line (connection, "220 ready");
  send_line (connection, "STARTTLS");
  expect_line (connection, "220 go ahead");
  g_assert_false (mk_connection_start_tls (connection, policy, NULL, NULL, &error));
  /* Closed, so nothing can go on in plaintext. */
  g_assert_false (mk_connection_is_connected (connection));
  g_assert_false (mk_connection_is_tls (connection));
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
  return error;
}

static void
test_starttls_injection (void)
{
  GError *error;

  /* The curl test980 / EAST B_1 case: the injected reply in the same
   * write as the 220. */
  error = starttls_with_injection ("R: 250 evil\\r\\n");
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "after its reply to STARTTLS"));
  g_assert_nonnull (strstr (error->message, "(10 bytes)"));
  g_clear_error (&error);

  /* A fragment without CRLF (nodemailer PR #1835). */
  error = starttls_with_injection ("R: 250-SMTPUTF8 INJECTED-MARKER ");
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* A later segment: seen before the handshake (injection) or fed to
   * OpenSSL (not TLS), never read as a reply. */
  error = starttls_with_injection ("FLUSH\nSLEEP 20\nR: 250 late\\r\\n");
  g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA)
                 || error->domain == G_TLS_ERROR);
  g_clear_error (&error);
}

/* The certificate's SHA-256 fingerprint, computed from the PEM file with
 * GLib rather than OpenSSL, in the "sha256:" hex form of pin-sha256. */
static char *
fingerprint_pin_of (const char *cert_path)
{
  g_autofree char *pem = mk_test_read_file (cert_path, NULL);
  const char *begin = strstr (pem, "-----BEGIN CERTIFICATE-----");
  const char *end = strstr (pem, "-----END CERTIFICATE-----");
  g_autofree char *base64 = NULL;
  g_autofree guint8 *der = NULL;
  g_autofree char *hex = NULL;
  gsize length = 0;

  g_assert_nonnull (begin);
  g_assert_nonnull (end);
  begin += strlen ("-----BEGIN CERTIFICATE-----");
  base64 = g_strndup (begin, end - begin);
  der = g_base64_decode (g_strstrip (base64), &length);
  g_assert_cmpuint (length, >, 100);
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der, length);
  return g_strconcat ("sha256:", hex, NULL);
}

typedef enum
{
  AUTH_VERIFY,
  AUTH_PIN,
  AUTH_INSECURE,
} Auth;

/* One TLS connection, implicit or after STARTTLS, to a server presenting
 * @cert; TRUE when it was accepted (and the conversation then went
 * through), FALSE with the refusal in @error. */
static gboolean
tls_with_certificate (gboolean starttls, const char *cert, const char *key, Auth auth,
                      GError **error)
{
  MkFaultServerOptions options = { .cert_file = cert, .key_file = key };
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (MkConnection) connection = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *script = NULL;
  const char *before = starttls ? "S: 220 ready\nC: STARTTLS\nS: 220 go ahead\n" : "";
  const char *after = auth == AUTH_VERIFY ? "TLS-REFUSED\n" : "TLS\nC: QUIT\nS: 221 bye\nCLOSE\n";
  gboolean accepted;

  if (auth == AUTH_PIN)
    {
      pin = fingerprint_pin_of (cert);
      mk_tls_policy_set_pin_sha256 (policy, pin);
    }
  mk_tls_policy_set_insecure_skip_verify (policy, auth == AUTH_INSECURE);
  script = g_strconcat (before, after, NULL);
  server = mk_fault_server_new (script, &options);
  connection = connect_to (server, "localhost");
  if (starttls)
    {
      expect_line (connection, "220 ready");
      send_line (connection, "STARTTLS");
      expect_line (connection, "220 go ahead");
    }
  accepted = mk_connection_start_tls (connection, policy, NULL, NULL, error);
  if (accepted)
    {
      send_line (connection, "QUIT");
      expect_line (connection, "221 bye");
      expect_closed (connection);
    }
  else
    g_assert_false (mk_connection_is_connected (connection));
  finish (server, connection,
          accepted ? (starttls ? "STARTTLS\r\nQUIT\r\n" : "QUIT\r\n")
                   : (starttls ? "STARTTLS\r\n" : ""));
  return accepted;
}

static void
test_certificates (gconstpointer data)
{
  gboolean starttls = GPOINTER_TO_INT (data);
  const MkTestCerts *certs = mk_test_certs_get ();
  struct
  {
    const char *cert, *key, *refusal;
  } bad[] = {
    { certs->expired_cert, certs->expired_key, "The certificate for localhost has expired" },
    { certs->not_yet_valid_cert, certs->not_yet_valid_key, "is not valid yet" },
    { certs->wrong_host_cert, certs->wrong_host_key, "is for other.example, not localhost" },
    { certs->self_signed_cert, certs->self_signed_key, "is self-signed" },
    { certs->unknown_ca_cert, certs->unknown_ca_key, "unknown authority" },
  };
  g_autoptr (GError) error = NULL;

  /* The valid certificate: accepted by verification. */
  {
    MkFaultServerOptions options = { 0 };
    g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
    g_autoptr (MkFaultServer) server = mk_fault_server_new (
        starttls ? "S: 220 ready\nC: STARTTLS\nS: 220 go ahead\nTLS\nC: QUIT\nS: 221 bye\nCLOSE\n"
                 : "TLS\nC: QUIT\nS: 221 bye\nCLOSE\n",
        &options);
    g_autoptr (MkConnection) connection = connect_to (server, "localhost");

    if (starttls)
      {
        expect_line (connection, "220 ready");
        send_line (connection, "STARTTLS");
        expect_line (connection, "220 go ahead");
      }
    g_assert_true (mk_connection_start_tls (connection, policy, NULL, NULL, &error));
    g_assert_no_error (error);
    send_line (connection, "QUIT");
    expect_line (connection, "221 bye");
    finish (server, connection, starttls ? "STARTTLS\r\nQUIT\r\n" : "QUIT\r\n");
  }

  /* Each fault: refused by default, accepted only with a matching pin or
   * the explicit opt-out. */
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("%s", bad[i].refusal);
      g_assert_false (
          tls_with_certificate (starttls, bad[i].cert, bad[i].key, AUTH_VERIFY, &error));
      g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
      g_assert_nonnull (strstr (error->message, bad[i].refusal));
      g_clear_error (&error);
      g_assert_true (tls_with_certificate (starttls, bad[i].cert, bad[i].key, AUTH_PIN, &error));
      g_assert_no_error (error);
      g_assert_true (
          tls_with_certificate (starttls, bad[i].cert, bad[i].key, AUTH_INSECURE, &error));
      g_assert_no_error (error);
    }
}

static void
test_starttls_old_protocol (void)
{
  MkFaultServerOptions options
      = { .min_tls_version = MK_FAULT_SERVER_TLS_1_0, .max_tls_version = MK_FAULT_SERVER_TLS_1_1 };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 ready\n"
                                                          "C: STARTTLS\n"
                                                          "S: 220 go ahead\n"
                                                          "TLS-REFUSED\n",
                                                          &options);
  g_autoptr (MkConnection) connection = connect_to (server, NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GError) error = NULL;

  expect_line (connection, "220 ready");
  send_line (connection, "STARTTLS");
  expect_line (connection, "220 go ahead");
  g_assert_false (mk_connection_start_tls (connection, policy, NULL, NULL, &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE);
  g_assert_nonnull (strstr (error->message, "TLS 1.2"));
  finish (server, connection, "STARTTLS\r\n");
}

/* A server that answers STARTTLS and then says nothing (catalogue E35):
 * the handshake ends at the timeout, or when cancelled, and the connection
 * is closed, nothing in plaintext after it. */
static void
stalled_handshake (double timeout, GCancellable *cancellable, GError **error)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 ready\n"
                                                          "C: STARTTLS\n"
                                                          "S: 220 go ahead\n"
                                                          "STALL\n",
                                                          NULL);
  g_autoptr (MkConnection) connection = connect_to (server, NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();

  expect_line (connection, "220 ready");
  send_line (connection, "STARTTLS");
  expect_line (connection, "220 go ahead");
  mk_connection_set_timeout (connection, timeout);
  g_assert_false (mk_connection_start_tls (connection, policy, NULL, cancellable, error));
  g_assert_false (mk_connection_is_connected (connection));
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "STARTTLS\r\n");
}

static void
test_handshake_stall (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  double scale = mk_test_time_scale ();
  gint64 start = g_get_monotonic_time ();
  GThread *canceller;
  double took;

  stalled_handshake (0.3 * scale, NULL, &error);
  took = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "TLS handshake with 127.0.0.1 did not finish"));
  g_assert_cmpfloat (took, >=, 0.29 * scale);
  g_assert_cmpfloat (took, <, 3.0 * scale);
  g_clear_error (&error);

  canceller = g_thread_new ("cancel", cancel_later, cancellable);
  stalled_handshake (0, cancellable, &error);
  g_thread_join (canceller);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_implicit_tls (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS\n" GREET_AND_QUIT, NULL);
  g_autoptr (MkConnection) connection = connect_to (server, NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GError) error = NULL;

  g_assert_true (mk_connection_start_tls (connection, policy, NULL, NULL, &error));
  g_assert_no_error (error);
  expect_line (connection, "220 hello");
  send_line (connection, "QUIT");
  expect_line (connection, "221 bye");
  expect_closed (connection);
  finish (server, connection, "QUIT\r\n");
}

/* The first line's error from a server running @script, with both
 * timeouts at @timeout; @took gets the seconds the read took. */
static GError *
first_line_error (const char *script, gboolean tls, double timeout, double *took)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (MkConnection) connection = connect_to (server, NULL);
  g_autofree char *line = NULL;
  GError *error = NULL;
  gint64 start;

  if (tls)
    {
      g_autoptr (MkTlsPolicy) policy = test_ca_policy ();

      g_assert_true (mk_connection_start_tls (connection, policy, NULL, NULL, &error));
      g_assert_no_error (error);
    }
  mk_connection_set_timeout (connection, timeout);
  mk_connection_set_reply_timeout (connection, timeout);
  start = g_get_monotonic_time ();
  mk_connection_begin_reply (connection);
  line = mk_connection_read_line (connection, NULL, NULL, &error);
  *took = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
  g_assert_null (line);
  mk_connection_close (connection);
  return error;
}

static void
test_slow_server (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  double scale = mk_test_time_scale ();
  g_autofree char *script = g_strdup_printf ("%sSPLIT 1\nDELAY 100\nREPEAT %d R: x\nSTALL\n",
                                             tls ? "TLS\n" : "", (int)(100 * scale));
  GError *error;
  double took;

  /* Ten seconds' worth of bytes (times the time scale), one per 100 ms:
   * the per-read timeout never fires, the deadline of the reply does, at
   * 1 s all the same. */
  error = first_line_error (script, tls, 1.0 * scale, &took);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "reply from 127.0.0.1 was not complete after"));
  g_assert_cmpfloat (took, >=, 0.99 * scale);
  g_assert_cmpfloat (took, <, 1.3 * scale);
  g_clear_error (&error);
}

static void
test_silent_server (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  double scale = mk_test_time_scale ();
  GError *error;
  double took;

  error = first_line_error (tls ? "TLS\nSTALL\n" : "STALL\n", tls, 0.3 * scale, &took);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "127.0.0.1 sent nothing for"));
  g_assert_cmpfloat (took, >=, 0.29 * scale);
  g_assert_cmpfloat (took, <, 0.8 * scale);
  g_clear_error (&error);
}

static void
test_closed_mid_line (gconstpointer data)
{
  gboolean tls = GPOINTER_TO_INT (data);
  const char *prefix = tls ? "TLS\n" : "";
  g_autofree char *mid_line = g_strconcat (prefix, "R: 250 cut\nCLOSE-NO-NOTIFY\n", NULL);
  g_autofree char *overlong = g_strconcat (prefix, "REPEAT 20000 R: x\nSTALL\n", NULL);
  g_autofree char *at_once = g_strconcat (prefix, "CLOSE\n", NULL);
  g_autofree char *reset = g_strconcat (prefix, "R: 250 cut\nSLEEP 50\nRESET\n", NULL);
  GError *error;
  double took;

  error = first_line_error (mid_line, tls, 10 * mk_test_time_scale (), &took);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
  g_clear_error (&error);
  error = first_line_error (at_once, tls, 10 * mk_test_time_scale (), &took);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_clear_error (&error);
  error = first_line_error (overlong, tls, 10 * mk_test_time_scale (), &took);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_clear_error (&error);
  /* A reset reads as a closed connection too (GIO's ECONNRESET). */
  error = first_line_error (reset, tls, 10 * mk_test_time_scale (), &took);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_clear_error (&error);
}

static void
test_writes_queued_until_flush (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 hello\n"
                                                          "C: MAIL FROM:<a@example.org>\n"
                                                          "C: RCPT TO:<b@example.org>\n"
                                                          "C: DATA\n"
                                                          "S: 250 ok\n"
                                                          "S: 250 ok\n"
                                                          "S: 354 go\n"
                                                          "CLOSE\n",
                                                          NULL);
  g_autoptr (MkConnection) connection = connect_to (server, NULL);
  GOutputStream *out = mk_connection_get_output_stream (connection);
  const char *group = "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n";
  g_autoptr (GError) error = NULL;

  expect_line (connection, "220 hello");
  g_assert_true (
      g_output_stream_write_all (out, "MAIL FROM:<a@example.org>\r\n", 27, NULL, NULL, &error));
  g_assert_true (
      g_output_stream_write_all (out, "RCPT TO:<b@example.org>\r\n", 25, NULL, NULL, &error));
  g_assert_true (g_output_stream_write_all (out, "DATA\r\n", 6, NULL, NULL, &error));
  /* Queued: nothing has left yet. */
  g_usleep (100 * 1000);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "");
  g_assert_true (mk_connection_flush (connection, NULL, &error));
  g_assert_no_error (error);
  expect_line (connection, "250 ok");
  expect_line (connection, "250 ok");
  expect_line (connection, "354 go");
  expect_closed (connection);
  finish (server, connection, group);
}

static void
test_write_timeout (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("STALL\n", NULL);
  g_autoptr (MkConnection) connection = connect_to (server, NULL);
  GOutputStream *out = mk_connection_get_output_stream (connection);
  g_autofree char *block = g_malloc0 (64 * 1024);
  g_autoptr (GError) error = NULL;
  double scale = mk_test_time_scale ();
  gboolean ok = TRUE;

  /* The server reads nothing: once the socket buffers are full, a wait
   * for room ends at the timeout. 64 MiB is more than any loopback
   * buffers hold. */
  mk_connection_set_timeout (connection, 0.3 * scale);
  for (int i = 0; ok && i < 1024; i++)
    ok = g_output_stream_write_all (out, block, 64 * 1024, NULL, NULL, &error);
  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "127.0.0.1 took no data for"));
  mk_connection_close (connection);
}

/* smtp/'s async calls run their blocking steps in a worker thread with no
 * main loop of its own: the same conversation must work there. */
static void
starttls_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  converse_starttls (NULL, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
test_worker_thread (void)
{
  g_autoptr (GTask) task = NULL;
  MkTestAsync wait;

  mk_test_async_init (&wait);
  task = g_task_new (NULL, NULL, mk_test_async_callback, &wait);
  g_task_run_in_thread (task, starttls_in_thread);
  g_assert_true (g_task_propagate_boolean (G_TASK (mk_test_async_wait (&wait)), NULL));
  mk_test_async_clear (&wait);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/connection/ipv4", test_ipv4);
  g_test_add_func ("/net/connection/ipv6", test_ipv6);
  g_test_add_func ("/net/connection/unix-socket", test_unix_socket);
  g_test_add_func ("/net/connection/source-address", test_source_address);
  g_test_add_func ("/net/connection/refused", test_refused);
  g_test_add_func ("/net/connection/connect-timeout", test_connect_timeout);
  g_test_add_func ("/net/connection/connect-cancel", test_connect_cancel);
  g_test_add_func ("/net/connection/starttls", test_starttls);
  g_test_add_func ("/net/connection/starttls-injection", test_starttls_injection);
  g_test_add_data_func ("/net/connection/implicit-tls/certificates", GINT_TO_POINTER (FALSE),
                        test_certificates);
  g_test_add_data_func ("/net/connection/starttls/certificates", GINT_TO_POINTER (TRUE),
                        test_certificates);
  g_test_add_func ("/net/connection/starttls-old-protocol", test_starttls_old_protocol);
  g_test_add_func ("/net/connection/implicit-tls", test_implicit_tls);
  g_test_add_func ("/net/connection/handshake-stall", test_handshake_stall);
  for (int tls = 0; tls <= 1; tls++)
    {
      const char *mode = tls ? "tls" : "plain";
      g_autofree char *slow = g_strdup_printf ("/net/connection/%s/slow-server", mode);
      g_autofree char *silent = g_strdup_printf ("/net/connection/%s/silent-server", mode);
      g_autofree char *closed = g_strdup_printf ("/net/connection/%s/closed-mid-line", mode);

      g_test_add_data_func (slow, GINT_TO_POINTER (tls), test_slow_server);
      g_test_add_data_func (silent, GINT_TO_POINTER (tls), test_silent_server);
      g_test_add_data_func (closed, GINT_TO_POINTER (tls), test_closed_mid_line);
    }
  g_test_add_func ("/net/connection/writes-queued-until-flush", test_writes_queued_until_flush);
  g_test_add_func ("/net/connection/write-timeout", test_write_timeout);
  g_test_add_func ("/net/connection/worker-thread", test_worker_thread);
  return g_test_run ();
}
