/* test-fault-server.c: the scripted fault server does what its script says
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Clients here are raw GIO sockets, and OpenSSL for the TLS steps, so the
 * server is proven without the library it will test.
 */
#include "config.h"

#include <glib-unix.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>

#include "mk-test-fault-server.h"
#include "mk-test-utils.h"

/* ---- plain client ------------------------------------------------------ */

static guint
scaled_ms (guint ms)
{
  return (guint) (ms * mk_test_time_scale ());
}

static GSocketConnection *
connect_to (MkFaultServer *server)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  GSocketAddress *address = mk_fault_server_get_socket_address (server);
  g_autoptr (GError) error = NULL;
  GSocketConnection *conn;

  g_socket_client_set_timeout (client, (guint) (10 * mk_test_time_scale ()));
  conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  return conn;
}

static void
send_text (GSocketConnection *conn, const char *text)
{
  g_autoptr (GError) error = NULL;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));

  g_output_stream_write_all (out, text, strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads one line, byte by byte so nothing after it is consumed (the STARTTLS
 * test hands the socket to OpenSSL next). */
static char *
read_line (GSocketConnection *conn)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GString *line = g_string_new (NULL);

  for (guint i = 0; i < 65536; i++)
    {
      g_autoptr (GError) error = NULL;
      char c;
      gssize n = g_input_stream_read (in, &c, 1, NULL, &error);

      g_assert_no_error (error);
      if (n == 0)
        break;
      g_string_append_c (line, c);
      if (c == '\n')
        break;
    }
  return g_string_free (line, FALSE);
}

/* Reads until the server closes; the bytes, with their length in @length. */
static char *
read_to_eof (GSocketConnection *conn, gsize *length)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GByteArray *all = g_byte_array_new ();
  char buffer[65536];

  for (guint i = 0; i < 100000; i++)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error);

      g_assert_no_error (error);
      if (n == 0)
        break;
      g_byte_array_append (all, (guint8 *) buffer, (guint) n);
    }
  *length = all->len;
  g_byte_array_append (all, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (all, FALSE);
}

static void
close_conn (GSocketConnection *conn)
{
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
}

static void
assert_finished_ok (MkFaultServer *server)
{
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
}

/* ---- TLS client ------------------------------------------------------- */

typedef struct
{
  SSL_CTX *ctx;
  SSL *ssl;
} TlsClient;

/* An OpenSSL 3 client with its defaults (TLS 1.2 at least), trusting only
 * the test CA and checking the name "localhost". */
static SSL_CTX *
tls_client_ctx (void)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());

  g_assert_cmpint (SSL_CTX_load_verify_locations (ctx, mk_test_certs_get ()->ca_file, NULL), ==, 1);
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  return ctx;
}

/* Makes the socket blocking with timeouts, for OpenSSL to own it. */
static int
socket_for_openssl (GSocketConnection *conn)
{
  int fd = g_socket_get_fd (g_socket_connection_get_socket (conn));
  struct timeval timeout = { .tv_sec = (time_t) (10 * mk_test_time_scale ()) };

  g_assert_true (g_unix_set_fd_nonblocking (fd, FALSE, NULL));
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), ==, 0);
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout), ==, 0);
  return fd;
}

/* Takes @ctx; returns NULL if the handshake succeeded, else OpenSSL's
 * reason. */
static char *
tls_client_handshake (TlsClient *tls, GSocketConnection *conn, SSL_CTX *ctx)
{
  unsigned long code;

  tls->ctx = ctx;
  tls->ssl = SSL_new (ctx);
  SSL_set_fd (tls->ssl, socket_for_openssl (conn));
  SSL_set_tlsext_host_name (tls->ssl, "localhost");
  SSL_set1_host (tls->ssl, "localhost");
  if (SSL_connect (tls->ssl) == 1)
    return NULL;
  code = ERR_peek_error ();
  ERR_clear_error ();
  return g_strdup (code != 0 && ERR_reason_error_string (code) != NULL
                       ? ERR_reason_error_string (code)
                       : "no reason");
}

static void
tls_send (TlsClient *tls, const char *text)
{
  g_assert_cmpint (SSL_write (tls->ssl, text, (int) strlen (text)), ==, (int) strlen (text));
}

static char *
tls_read_line (TlsClient *tls)
{
  GString *line = g_string_new (NULL);
  char c;

  while (line->len < 65536 && SSL_read (tls->ssl, &c, 1) == 1)
    {
      g_string_append_c (line, c);
      if (c == '\n')
        break;
    }
  return g_string_free (line, FALSE);
}

static void
tls_client_close (TlsClient *tls)
{
  SSL_shutdown (tls->ssl);
  SSL_free (tls->ssl);
  SSL_CTX_free (tls->ctx);
  ERR_clear_error ();
}

/* ---- tests -------------------------------------------------------------- */

static void
test_transcript_and_data (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("# a whole plain session\n"
                                                          "S: 220 ready\n"
                                                          "C: EHLO *\n"
                                                          "S: 250-hello\n"
                                                          "S: 250 PIPELINING\n"
                                                          "C: MAIL FROM:<a@example.org>\n"
                                                          "S: 250 ok\n"
                                                          "C: DATA\n"
                                                          "S: 354 go\n"
                                                          "DATA-UNTIL-DOT\n"
                                                          "S: 250 queued\n"
                                                          "C: BDAT 4 LAST\n"
                                                          "C-BYTES:4\n"
                                                          "S: 250 chunk\n"
                                                          "C: QUIT\n"
                                                          "S: 221 bye\n"
                                                          "CLOSE\n",
                                                          NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);
  g_autofree char *ehlo1 = NULL, *ehlo2 = NULL, *mail = NULL, *data = NULL, *queued = NULL;
  g_autofree char *bdat = NULL, *quit = NULL;
  gsize length = 0;
  g_autofree char *rest = NULL;
  GBytes *data_bytes;

  g_assert_cmpstr (greeting, ==, "220 ready\r\n");
  send_text (conn, "EHLO client.example\r\n");
  ehlo1 = read_line (conn);
  ehlo2 = read_line (conn);
  g_assert_cmpstr (ehlo1, ==, "250-hello\r\n");
  g_assert_cmpstr (ehlo2, ==, "250 PIPELINING\r\n");
  send_text (conn, "MAIL FROM:<a@example.org>\r\n");
  mail = read_line (conn);
  g_assert_cmpstr (mail, ==, "250 ok\r\n");
  send_text (conn, "DATA\r\n");
  data = read_line (conn);
  g_assert_cmpstr (data, ==, "354 go\r\n");
  send_text (conn, "Subject: x\r\n\r\n..dot\r\nend\r\n.\r\n");
  queued = read_line (conn);
  g_assert_cmpstr (queued, ==, "250 queued\r\n");
  send_text (conn, "BDAT 4 LAST\r\nab\r\n");
  bdat = read_line (conn);
  g_assert_cmpstr (bdat, ==, "250 chunk\r\n");
  send_text (conn, "QUIT\r\n");
  quit = read_line (conn);
  g_assert_cmpstr (quit, ==, "221 bye\r\n");
  rest = read_to_eof (conn, &length);
  g_assert_cmpuint (length, ==, 0);
  close_conn (conn);

  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==,
                   "EHLO client.example\r\n"
                   "MAIL FROM:<a@example.org>\r\n"
                   "DATA\r\n"
                   "Subject: x\r\n\r\n..dot\r\nend\r\n.\r\n"
                   "BDAT 4 LAST\r\nab\r\n"
                   "QUIT\r\n");
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==,
                   "Subject: x\r\n\r\n..dot\r\nend\r\n.\r\nab\r\n");
  data_bytes = mk_fault_server_get_data (server, 0);
  g_assert_cmpuint (g_bytes_get_size (data_bytes), ==, 33);
}

static void
test_empty_message_data (void)
{
  /* The data starts at a line start: a lone ".\r\n" is an empty message. */
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: DATA\n"
                                                          "DATA-UNTIL-DOT\n"
                                                          "S: 250 empty\n",
                                                          NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *reply = NULL;

  send_text (conn, "DATA\r\n.\r\n");
  reply = read_line (conn);
  g_assert_cmpstr (reply, ==, "250 empty\r\n");
  close_conn (conn);
  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, ".\r\n");
}

static void
test_data_terminator_split_across_reads (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("DATA-UNTIL-DOT\nS: 250 ok\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *reply = NULL;

  send_text (conn, "body\r\n.\r");
  g_usleep (50000);
  send_text (conn, "\n");
  reply = read_line (conn);
  g_assert_cmpstr (reply, ==, "250 ok\r\n");
  close_conn (conn);
  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, "body\r\n.\r\n");
}

static void
test_mismatch_reported (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 ready\n"
                                                          "C: EHLO client\n"
                                                          "S: 250 never sent\n",
                                                          NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);
  g_autofree char *rest = NULL;
  gsize length = 0;

  send_text (conn, "HELO client\r\n");
  /* The server stops the connection at the mismatch: the client sees the
   * end of the stream, not a hang. */
  rest = read_to_eof (conn, &length);
  g_assert_cmpuint (length, ==, 0);
  close_conn (conn);

  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "connection 0, step 2 (line 2: `C: EHLO client`): expected "
                   "\"EHLO client\\r\\n\", got \"HELO client\\r\\n\"");
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "HELO client\r\n");
}

static void
test_bare_lf_is_a_mismatch (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: NOOP*\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);

  send_text (conn, "NOOP x\n");
  g_assert_true (mk_fault_server_wait (server, 0));
  close_conn (conn);
  g_assert_nonnull (
      strstr (mk_fault_server_get_failure (server), "expected \"NOOP*\\r\\n\", got \"NOOP x\\n\""));
}

static void
test_early_close_reported (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 hi\nC: QUIT\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);

  send_text (conn, "QU");
  close_conn (conn);
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "connection 0, step 2 (line 2: `C: QUIT`): the client closed the connection; "
                   "expected \"QUIT\\r\\n\", got \"QU\"");
}

static void
test_eof_step_rejects_more_bytes (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: QUIT\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);

  /* The end of a script expects the client to close, nothing more. */
  send_text (conn, "QUIT\r\nNOOP\r\n");
  g_assert_true (mk_fault_server_wait (server, 0));
  close_conn (conn);
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "connection 0, end of script: expected the client to close, got "
                   "\"NOOP\\r\\n\"");
}

static void
test_quiet (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: MAIL FROM:<a@example.org>\n"
                                                          "QUIET 100\n"
                                                          "S: 250 ok\n"
                                                          "C: RCPT TO:<b@example.org>\n"
                                                          "QUIET 100\n"
                                                          "S: 250 ok\n",
                                                          NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *mail_reply = NULL;

  /* Lock-step for MAIL passes; RCPT pipelined with DATA does not. */
  send_text (conn, "MAIL FROM:<a@example.org>\r\n");
  mail_reply = read_line (conn);
  g_assert_cmpstr (mail_reply, ==, "250 ok\r\n");
  send_text (conn, "RCPT TO:<b@example.org>\r\nDATA\r\n");
  g_assert_true (mk_fault_server_wait (server, 0));
  close_conn (conn);
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "connection 0, step 5 (line 5: `QUIET 100`): expected the client to wait, got "
                   "\"DATA\\r\\n\"");
}

static void
test_drain (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 hi\nDRAIN\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);

  send_text (conn, "anything\r\nat all");
  close_conn (conn);
  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "anything\r\nat all");
}

static void
test_wait_times_out_with_position (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 hi\nC: QUIT\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);

  g_assert_false (mk_fault_server_wait (server, 100));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "the scripts did not finish in time: connection 0 is at step 2 (line 2: "
                   "`C: QUIT`)");
  /* Freed (by g_autoptr) while the client is still connected: no hang. */
}

static void
test_wait_names_what_is_missing (void)
{
  g_autoptr (MkFaultServer) never = mk_fault_server_new ("S: 220 hi\n", NULL);
  g_autoptr (MkFaultServer) open = mk_fault_server_new ("S: 220 hi\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (open);
  g_autofree char *greeting = read_line (conn);

  g_assert_false (mk_fault_server_wait (never, 50));
  g_assert_cmpstr (mk_fault_server_get_failure (never), ==,
                   "the scripts did not finish in time: connection 0 is waiting for the client "
                   "to connect");
  /* The client forgot to close before waiting. */
  g_assert_false (mk_fault_server_wait (open, 100));
  g_assert_cmpstr (mk_fault_server_get_failure (open), ==,
                   "the scripts did not finish in time: connection 0 is at the end of its "
                   "script, waiting for the client to close");
}

static void
test_step_timeout (void)
{
  MkFaultServerOptions options = { .timeout_ms = 100 };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: EHLO *\n", &options);
  g_autoptr (GSocketConnection) conn = connect_to (server);

  send_text (conn, "EH");
  g_assert_true (mk_fault_server_wait (server, scaled_ms (5000)));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "connection 0, step 1 (line 1: `C: EHLO *`): timed out after 100 ms; "
                   "expected \"EHLO *\\r\\n\", got \"EH\"");
  close_conn (conn);
}

static void
test_split_sends_arrive_in_pieces (void)
{
  g_autofree char *script
      = g_strdup_printf ("SPLIT 1\nDELAY %u\nS: 220 hi\nCLOSE\n", scaled_ms (100));
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GString *got = g_string_new (NULL);
  guint reads = 0;

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      char buffer[64];
      gssize n = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error);

      g_assert_no_error (error);
      if (n == 0)
        break;
      /* Each read wakes up for a single byte, the delay apart; two only if
       * this thread was held up longer than the delay. */
      g_assert_cmpint (n, <=, 2);
      g_string_append_len (got, buffer, n);
      reads++;
    }
  g_assert_cmpstr (got->str, ==, "220 hi\r\n");
  g_assert_cmpuint (reads, >=, 6);
  g_string_free (got, TRUE);
  close_conn (conn);
  assert_finished_ok (server);
}

/* CORK holds the pieces back until the whole write is done: the first read
 * sees all of it although the pieces were written 40 ms apart (the kernel
 * holds a cork for at most 200 ms, so the delay is not scaled). */
static void
test_cork_joins_split_pieces (void)
{
  g_autoptr (MkFaultServer) server
      = mk_fault_server_new ("CORK\nSPLIT 4\nDELAY 40\nS: 220 hi\nCLOSE\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  g_autoptr (GError) error = NULL;
  char buffer[64];
  gssize n = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 8);
  g_assert_cmpmem (buffer, 8, "220 hi\r\n", 8);
  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_sends_are_collected_into_one_write (void)
{
  /* Without FLUSH, both lines and the raw bytes leave in one write; FLUSH
   * makes a boundary, seen here thanks to the delay before each write. */
  g_autofree char *script = g_strdup_printf ("DELAY %u\nS: 250-a\nR: 250 b\\r\\n\nFLUSH\n"
                                             "S: 250 c\nCLOSE\n",
                                             scaled_ms (200));
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  g_autoptr (GError) error = NULL;
  char first[64] = "";
  gsize length = 0;
  g_autofree char *rest = NULL;

  g_assert_cmpint (g_input_stream_read (in, first, sizeof first - 1, NULL, &error), ==, 14);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, "250-a\r\n250 b\r\n");
  rest = read_to_eof (conn, &length);
  g_assert_cmpstr (rest, ==, "250 c\r\n");
  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_stall (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 hi\nSTALL\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);
  GSocket *socket = g_socket_connection_get_socket (conn);
  g_autoptr (GError) error = NULL;
  char c;

  g_assert_cmpstr (greeting, ==, "220 hi\r\n");
  send_text (conn, "EHLO x\r\n");
  g_socket_set_timeout (socket, 1);
  g_assert_cmpint (g_socket_receive (socket, &c, 1, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* STALL ends when the client gives up and closes. */
  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_free_never_hangs (void)
{
  MkFaultServer *server = mk_fault_server_new ("S: 220 hi\nSTALL\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);
  gint64 start = g_get_monotonic_time ();

  g_assert_cmpstr (greeting, ==, "220 hi\r\n");
  mk_fault_server_free (server);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC * mk_test_time_scale ());
}

static void
test_close (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 221 bye\nCLOSE\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  gsize length = 0;
  g_autofree char *all = read_to_eof (conn, &length);

  g_assert_cmpstr (all, ==, "221 bye\r\n");
  /* After CLOSE, what the client still sends is recorded, not judged. */
  send_text (conn, "QUIT\r\n");
  close_conn (conn);
  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "QUIT\r\n");
}

static void
test_reset (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: EHLO x\nRESET\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  g_autoptr (GError) error = NULL;
  char c;

  send_text (conn, "EHLO x\r\n");
  /* A reset is an error for the reader, unlike CLOSE's clean end. */
  g_assert_cmpint (g_input_stream_read (in, &c, 1, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_client_gone_while_sending (void)
{
  /* 64 MiB the client never reads: the server's writes fail, quietly, and
   * the end of the script sees the client gone. */
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("REPEAT 67108864 R: x\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);

  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_thousand_line_reply (void)
{
  g_autofree char *script = g_strdup_printf ("S: 220 hi\nC: EHLO *\n"
                                             "REPEAT %u S: 250-x\nS: 250 end\n",
                                             999);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (script, NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);
  guint lines = 0;

  send_text (conn, "EHLO me\r\n");
  for (gboolean last = FALSE; !last; lines++)
    {
      g_autofree char *line = read_line (conn);

      last = g_str_equal (line, "250 end\r\n");
      if (!last)
        g_assert_cmpstr (line, ==, "250-x\r\n");
    }
  g_assert_cmpuint (lines, ==, 1000);
  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_write_blocked_reported (void)
{
  /* A client that neither reads nor closes: the server's writes fill the
   * window and the bounded write reports it, instead of hanging. */
  MkFaultServerOptions options = { .timeout_ms = 200 };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("REPEAT 67108864 R: x\n", &options);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  const char *failure;

  g_assert_true (mk_fault_server_wait (server, scaled_ms (10000)));
  failure = mk_fault_server_get_failure (server);
  /* Which repetition blocked depends on the socket buffers. */
  g_assert_true (g_str_has_prefix (
      failure, "connection 0, step 1 (line 1: `REPEAT 67108864 R: x`, repetition "));
  g_assert_true (g_str_has_suffix (failure,
                                   " of 67108864): a write blocked for 200 ms: the client stopped "
                                   "reading"));
  close_conn (conn);
}

static void
test_repeat_and_escapes (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("REPEAT 3 S: 250-x\n"
                                                          "S: 250 OK\\0garbage\n"
                                                          "R: \\x01\\xff\\\\\\t\\*\n"
                                                          "REPEAT 2097152 R: y\n"
                                                          "REPEAT 2 C: RCPT TO:*\n"
                                                          "CLOSE\n",
                                                          NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  static const char head[] = "250-x\r\n250-x\r\n250-x\r\n250 OK\0garbage\r\n\x01\xff\\\t*";
  g_autofree char *got = g_malloc (sizeof head - 1 + 2097152);
  gsize length = 0;
  g_autofree char *rest = NULL;
  g_autoptr (GError) error = NULL;

  g_input_stream_read_all (in, got, sizeof head - 1 + 2097152, &length, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (got, sizeof head - 1, head, sizeof head - 1);
  for (gsize i = sizeof head - 1; i < length; i++)
    g_assert_cmpint (got[i], ==, 'y');
  send_text (conn, "RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org> NOTIFY=NEVER\r\n");
  rest = read_to_eof (conn, &length);
  g_assert_cmpuint (length, ==, 0);
  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_repeat_mismatch_names_the_repetition (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("REPEAT 2 C: RCPT TO:*\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);

  send_text (conn, "RCPT TO:<a@example.org>\r\nDATA\r\n");
  g_assert_true (mk_fault_server_wait (server, 0));
  close_conn (conn);
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "connection 0, step 1 (line 1: `REPEAT 2 C: RCPT TO:*`, repetition 2 of 2): "
                   "expected \"RCPT TO:*\\r\\n\", got \"DATA\\r\\n\"");
}

static void
test_escape_round_trip (void)
{
  guint8 every_byte[256];
  g_autofree char *escaped = NULL;
  g_autofree char *script = NULL;
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (GSocketConnection) conn = NULL;
  g_autofree char *got = NULL;
  gsize length = 0;

  for (guint i = 0; i < 256; i++)
    every_byte[i] = (guint8) i;
  escaped = mk_fault_server_escape (every_byte, sizeof every_byte);
  script = g_strdup_printf ("R: %s\nCLOSE\n", escaped);
  server = mk_fault_server_new (script, NULL);
  conn = connect_to (server);
  got = read_to_eof (conn, &length);
  g_assert_cmpmem (got, length, every_byte, sizeof every_byte);
  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_transcript_bytes_keep_nul (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: MAIL FROM:<a\\0b>\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  GBytes *transcript;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                             "MAIL FROM:<a\0b>\r\n", 17, NULL, NULL, NULL);
  close_conn (conn);
  assert_finished_ok (server);
  transcript = mk_fault_server_get_transcript_bytes (server, 0);
  g_assert_cmpmem (g_bytes_get_data (transcript, NULL), g_bytes_get_size (transcript),
                   "MAIL FROM:<a\0b>\r\n", 17);
}

static void
test_starttls_injection_then_handshake (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 ready\n"
                                                          "C: STARTTLS\n"
                                                          "S: 220 go ahead\n"
                                                          "R: 250-evil\\r\\n250 AUTH PLAIN\\r\\n\n"
                                                          "STARTTLS\n"
                                                          "C: EHLO after\n"
                                                          "S: 250 clean\n",
                                                          NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);
  GSocket *socket = g_socket_connection_get_socket (conn);
  g_autoptr (GError) error = NULL;
  char buffer[256] = "";
  TlsClient tls;
  g_autofree char *reply = NULL;

  g_assert_cmpstr (greeting, ==, "220 ready\r\n");
  send_text (conn, "STARTTLS\r\n");
  /* The 220 and the injected lines come in one write: one read holds them. */
  g_assert_true (g_socket_condition_timed_wait (socket, G_IO_IN, 10 * G_USEC_PER_SEC, NULL, NULL));
  g_assert_cmpint (g_socket_receive (socket, buffer, sizeof buffer - 1, NULL, &error), ==, 40);
  g_assert_no_error (error);
  g_assert_cmpstr (buffer, ==, "220 go ahead\r\n250-evil\r\n250 AUTH PLAIN\r\n");

  g_assert_null (tls_client_handshake (&tls, conn, tls_client_ctx ()));
  tls_send (&tls, "EHLO after\r\n");
  reply = tls_read_line (&tls);
  g_assert_cmpstr (reply, ==, "250 clean\r\n");
  tls_client_close (&tls);
  close_conn (conn);

  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "STARTTLS\r\nEHLO after\r\n");
  g_assert_cmpstr (mk_fault_server_get_sni (server, 0), ==, "localhost");
  g_assert_null (mk_fault_server_get_tls_error (server, 0));
}

static void
test_client_refusing_injection (void)
{
  /* The behaviour the library must have: close before the handshake. The
   * EOF step proves nothing (no ClientHello) was sent. */
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: STARTTLS\n"
                                                          "S: 220 go ahead\n"
                                                          "R: 250 evil\\r\\n\n"
                                                          "EOF\n",
                                                          NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *go = NULL;
  g_autofree char *evil = NULL;

  send_text (conn, "STARTTLS\r\n");
  go = read_line (conn);
  evil = read_line (conn);
  g_assert_cmpstr (evil, ==, "250 evil\r\n");
  close_conn (conn);
  assert_finished_ok (server);
}

static void
test_bytes_before_handshake_reported (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("C: STARTTLS\nS: 220 go\nTLS\n", NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);

  /* Pipelining after STARTTLS (RFC 3207 §4 forbids it). */
  send_text (conn, "STARTTLS\r\nEHLO x\r\n");
  g_assert_true (mk_fault_server_wait (server, 0));
  close_conn (conn);
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "connection 0, step 3 (line 3: `TLS`): the client sent bytes before the "
                   "handshake: \"EHLO x\\r\\n\"");
}

static void
test_implicit_tls_with_client_cert (void)
{
  const MkTestCerts *certs = mk_test_certs_get ();
  MkFaultServerOptions options = { .client_cert = MK_FAULT_SERVER_CLIENT_CERT_REQUIRE };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS\n"
                                                          "S: 220 secure\n"
                                                          "C: QUIT\n"
                                                          "S: 221 bye\n"
                                                          "CLOSE\n",
                                                          &options);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  SSL_CTX *ctx = tls_client_ctx ();
  TlsClient tls;
  g_autofree char *greeting = NULL;
  g_autofree char *bye = NULL;

  g_assert_cmpint (SSL_CTX_use_certificate_file (ctx, certs->client_cert, SSL_FILETYPE_PEM), ==, 1);
  g_assert_cmpint (SSL_CTX_use_PrivateKey_file (ctx, certs->client_key, SSL_FILETYPE_PEM), ==, 1);
  g_assert_null (tls_client_handshake (&tls, conn, ctx));
  greeting = tls_read_line (&tls);
  g_assert_cmpstr (greeting, ==, "220 secure\r\n");
  tls_send (&tls, "QUIT\r\n");
  bye = tls_read_line (&tls);
  g_assert_cmpstr (bye, ==, "221 bye\r\n");
  /* CLOSE sent close_notify: a clean end of the TLS stream. */
  g_assert_cmpint (SSL_read (tls.ssl, greeting, 1), ==, 0);
  g_assert_cmpint (SSL_get_error (tls.ssl, 0), ==, SSL_ERROR_ZERO_RETURN);
  tls_client_close (&tls);
  close_conn (conn);

  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "QUIT\r\n");
  g_assert_cmpstr (mk_fault_server_get_client_cert_subject (server, 0), ==, "/CN=test-client");
}

static void
test_tls_close_without_notify (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS\nS: 354 go\nC-BYTES: 4\n"
                                                          "CLOSE-NO-NOTIFY\n",
                                                          NULL);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  TlsClient tls;
  g_autofree char *go = NULL;
  char c;

  g_assert_null (tls_client_handshake (&tls, conn, tls_client_ctx ()));
  go = tls_read_line (&tls);
  g_assert_cmpstr (go, ==, "354 go\r\n");
  tls_send (&tls, "Sub:");
  /* A truncation, unlike CLOSE: OpenSSL 3 reports the missing close_notify. */
  g_assert_cmpint (SSL_read (tls.ssl, &c, 1), <=, 0);
  g_assert_cmpint (SSL_get_error (tls.ssl, 0), ==, SSL_ERROR_SSL);
  g_assert_cmpstr (ERR_reason_error_string (ERR_peek_error ()), ==, "unexpected eof while reading");
  tls_client_close (&tls);
  close_conn (conn);
  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_data_string (server, 0), ==, "Sub:");
}

static void
test_client_cert_requested_or_verified (void)
{
  const MkTestCerts *certs = mk_test_certs_get ();
  MkFaultServerOptions request = { .client_cert = MK_FAULT_SERVER_CLIENT_CERT_REQUEST };
  MkFaultServerOptions other_ca = {
    .client_cert = MK_FAULT_SERVER_CLIENT_CERT_REQUIRE,
    .client_ca_file = certs->other_ca_file,
    .max_tls_version = MK_FAULT_SERVER_TLS_1_2, /* so the client sees the refusal */
  };
  g_autoptr (MkFaultServer) requesting
      = mk_fault_server_new ("TLS\nS: 220 anonymous ok\n", &request);
  g_autoptr (MkFaultServer) verifying = mk_fault_server_new ("TLS-REFUSED\n", &other_ca);
  g_autoptr (GSocketConnection) conn = connect_to (requesting);
  g_autoptr (GSocketConnection) conn_other_ca = NULL;
  SSL_CTX *with_cert = tls_client_ctx ();
  TlsClient tls;
  g_autofree char *greeting = NULL;
  g_autofree char *reason = NULL;

  /* Asked for, but optional: a client without one gets through. */
  g_assert_null (tls_client_handshake (&tls, conn, tls_client_ctx ()));
  greeting = tls_read_line (&tls);
  g_assert_cmpstr (greeting, ==, "220 anonymous ok\r\n");
  tls_client_close (&tls);
  close_conn (conn);
  assert_finished_ok (requesting);
  g_assert_null (mk_fault_server_get_client_cert_subject (requesting, 0));

  /* Verified against client_ca_file, which did not sign it. */
  g_assert_cmpint (SSL_CTX_use_certificate_file (with_cert, certs->client_cert, SSL_FILETYPE_PEM),
                   ==, 1);
  g_assert_cmpint (SSL_CTX_use_PrivateKey_file (with_cert, certs->client_key, SSL_FILETYPE_PEM), ==,
                   1);
  conn_other_ca = connect_to (verifying);
  reason = tls_client_handshake (&tls, conn_other_ca, with_cert);
  g_assert_cmpstr (reason, ==, "tlsv1 alert unknown ca");
  tls_client_close (&tls);
  close_conn (conn_other_ca);
  assert_finished_ok (verifying);
  g_assert_cmpstr (mk_fault_server_get_tls_error (verifying, 0), ==, "certificate verify failed");
}

static void
test_weak_cipher_only_server (void)
{
  /* Only a NULL cipher (no encryption), TLS 1.2 at most since TLS 1.3 does
   * not use the list. */
  MkFaultServerOptions options = {
    .max_tls_version = MK_FAULT_SERVER_TLS_1_2,
    .cipher_list = "ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0",
  };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS-REFUSED\n---\nTLS\n", &options);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autoptr (GSocketConnection) null_conn = NULL;
  SSL_CTX *null_ctx = tls_client_ctx ();
  TlsClient tls;
  g_autofree char *reason = tls_client_handshake (&tls, conn, tls_client_ctx ());

  g_assert_cmpstr (reason, ==, "sslv3 alert handshake failure");
  tls_client_close (&tls);
  close_conn (conn);

  /* A client that accepts it proves the server offered just that. */
  g_assert_cmpint (SSL_CTX_set_cipher_list (null_ctx, "NULL:@SECLEVEL=0"), ==, 1);
  null_conn = connect_to (server);
  g_assert_null (tls_client_handshake (&tls, null_conn, null_ctx));
  g_assert_cmpstr (SSL_get_cipher_name (tls.ssl), ==, "ECDHE-ECDSA-NULL-SHA");
  tls_client_close (&tls);
  close_conn (null_conn);
  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_tls_error (server, 0), ==, "no shared cipher");
}

static void
test_tls_1_3_only_server (void)
{
  MkFaultServerOptions options = { .min_tls_version = MK_FAULT_SERVER_TLS_1_3 };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS-REFUSED\n---\nTLS\n", &options);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autoptr (GSocketConnection) modern_conn = NULL;
  SSL_CTX *tls_1_2_ctx = tls_client_ctx ();
  TlsClient tls;
  g_autofree char *reason = NULL;

  SSL_CTX_set_max_proto_version (tls_1_2_ctx, TLS1_2_VERSION);
  reason = tls_client_handshake (&tls, conn, tls_1_2_ctx);
  g_assert_cmpstr (reason, ==, "tlsv1 alert protocol version");
  tls_client_close (&tls);
  close_conn (conn);

  modern_conn = connect_to (server);
  g_assert_null (tls_client_handshake (&tls, modern_conn, tls_client_ctx ()));
  g_assert_cmpint (SSL_version (tls.ssl), ==, TLS1_3_VERSION);
  tls_client_close (&tls);
  close_conn (modern_conn);
  assert_finished_ok (server);
}

static void
test_tls_refused_for_unknown_ca (void)
{
  const MkTestCerts *certs = mk_test_certs_get ();
  MkFaultServerOptions options = {
    .cert_file = certs->unknown_ca_cert,
    .key_file = certs->unknown_ca_key,
  };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS-REFUSED\n", &options);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  TlsClient tls;
  g_autofree char *reason = tls_client_handshake (&tls, conn, tls_client_ctx ());

  g_assert_cmpstr (reason, ==, "certificate verify failed");
  tls_client_close (&tls);
  close_conn (conn);
  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_tls_error (server, 0), ==, "tlsv1 alert unknown ca");
}

static void
test_tls_1_1_server_refused_by_default (void)
{
  MkFaultServerOptions options = { .max_tls_version = MK_FAULT_SERVER_TLS_1_1 };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS-REFUSED\n"
                                                          "---\n"
                                                          "TLS-REFUSED\n"
                                                          "---\n"
                                                          "TLS\n"
                                                          "S: 220 old\n",
                                                          &options);
  SSL_CTX *min_1_2_ctx = tls_client_ctx ();
  SSL_CTX *old_ctx = tls_client_ctx ();
  TlsClient tls;
  g_autofree char *greeting = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *reason_min_1_2 = NULL;
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autoptr (GSocketConnection) conn_min_1_2 = NULL;
  g_autoptr (GSocketConnection) old_conn = NULL;

  /* OpenSSL 3's defaults refuse it: its security level forbids the SHA-1
   * signatures of TLS 1.1... */
  reason = tls_client_handshake (&tls, conn, tls_client_ctx ());
  g_assert_cmpstr (reason, ==, "legacy sigalg disallowed or unsupported");
  tls_client_close (&tls);
  close_conn (conn);

  /* ...and so does a client whose minimum is TLS 1.2, for the version... */
  SSL_CTX_set_min_proto_version (min_1_2_ctx, TLS1_2_VERSION);
  conn_min_1_2 = connect_to (server);
  reason_min_1_2 = tls_client_handshake (&tls, conn_min_1_2, min_1_2_ctx);
  g_assert_cmpstr (reason_min_1_2, ==, "tlsv1 alert protocol version");
  tls_client_close (&tls);
  close_conn (conn_min_1_2);

  /* ...while a client lowered to TLS 1.0 and level 0 gets TLS 1.1, so the
   * server really speaks it. */
  SSL_CTX_set_min_proto_version (old_ctx, TLS1_VERSION);
  SSL_CTX_set_security_level (old_ctx, 0);
  old_conn = connect_to (server);
  g_assert_null (tls_client_handshake (&tls, old_conn, old_ctx));
  g_assert_cmpint (SSL_version (tls.ssl), ==, TLS1_1_VERSION);
  greeting = tls_read_line (&tls);
  g_assert_cmpstr (greeting, ==, "220 old\r\n");
  tls_client_close (&tls);
  close_conn (old_conn);

  assert_finished_ok (server);
  g_assert_nonnull (mk_fault_server_get_tls_error (server, 0));
  g_assert_cmpstr (mk_fault_server_get_tls_error (server, 1), ==, "unsupported protocol");
  g_assert_null (mk_fault_server_get_tls_error (server, 2));
}

static void
test_listen_family (gconstpointer data)
{
  MkFaultServerOptions options = { .listen = GPOINTER_TO_INT (data) };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 hi\nC: QUIT\n", &options);
  g_autoptr (GSocketConnection) conn = connect_to (server);
  g_autofree char *greeting = read_line (conn);

  switch (options.listen)
    {
    case MK_FAULT_SERVER_LISTEN_IPV4:
      g_assert_cmpstr (mk_fault_server_get_address (server), ==, "127.0.0.1");
      g_assert_cmpuint (mk_fault_server_get_port (server), >, 0);
      break;
    case MK_FAULT_SERVER_LISTEN_IPV6:
      g_assert_cmpstr (mk_fault_server_get_address (server), ==, "::1");
      g_assert_cmpuint (mk_fault_server_get_port (server), >, 0);
      break;
    case MK_FAULT_SERVER_LISTEN_UNIX:
      g_assert_true (g_str_has_prefix (mk_fault_server_get_address (server), mk_test_tmpdir ()));
      g_assert_cmpuint (mk_fault_server_get_port (server), ==, 0);
      break;
    default:
      g_assert_not_reached ();
    }
  g_assert_cmpstr (greeting, ==, "220 hi\r\n");
  send_text (conn, "QUIT\r\n");
  close_conn (conn);
  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "QUIT\r\n");
}

static void
test_connections_in_sequence (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 421 busy\nCLOSE\n"
                                                          "---\n"
                                                          "S: 220 again\n"
                                                          "C: QUIT\n"
                                                          "---\n"
                                                          "C: NOOP\n"
                                                          "RESET\n"
                                                          "---\n",
                                                          NULL);
  g_autoptr (GSocketConnection) first = connect_to (server);
  g_autoptr (GSocketConnection) second = NULL;
  g_autoptr (GSocketConnection) third = NULL;
  g_autoptr (GSocketConnection) fourth = NULL;
  gsize length = 0;
  g_autofree char *busy = read_to_eof (first, &length);
  g_autofree char *again = NULL;

  g_assert_cmpstr (busy, ==, "421 busy\r\n");
  close_conn (first);
  second = connect_to (server);
  again = read_line (second);
  g_assert_cmpstr (again, ==, "220 again\r\n");
  send_text (second, "QUIT\r\n");
  close_conn (second);
  third = connect_to (server);
  send_text (third, "NOOP\r\n");
  close_conn (third);
  /* The trailing `---` made an empty fourth script: connect and close. */
  fourth = connect_to (server);
  close_conn (fourth);

  assert_finished_ok (server);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "");
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 1), ==, "QUIT\r\n");
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 2), ==, "NOOP\r\n");
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 3), ==, "");
}

static void
test_unexpected_connection (void)
{
  /* An empty script expects no connection at all. */
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("# nobody calls\n", NULL);
  g_autoptr (GSocketConnection) conn = NULL;

  g_assert_true (mk_fault_server_wait (server, 0));
  conn = connect_to (server);
  close_conn (conn);
  for (guint i = 0; i < 1000 && mk_fault_server_get_failure (server) == NULL; i++)
    g_usleep (10000);
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==,
                   "connection 0: unexpected, the script has 0 connection(s)");
}

static const struct
{
  const char *script;
  const char *message;
} script_errors[] = {
  { "S: 220 hi\nHELLO\n", "line 2 (`HELLO`): unknown step" },
  { "C-BYTES: many\n", "line 1 (`C-BYTES: many`): expected a decimal number" },
  { "R: \\q\n", "line 1 (`R: \\q`): unknown escape" },
  { "R: \\x4\n", "line 1 (`R: \\x4`): \\x needs two hex digits" },
  { "CLOSE\nS: 220 late\n", "line 2 (`S: 220 late`): no step may follow one that ends" },
  { "REPEAT 3\n", "line 1 (`REPEAT 3`): REPEAT n needs a step after the count" },
};

static void
test_script_error_names_the_line (void)
{
  if (g_test_subprocess ())
    {
      /* Parsing aborts the test before anything listens. */
      guint64 i = g_ascii_strtoull (g_getenv ("MK_SCRIPT_ERROR_CASE"), NULL, 10);
      mk_fault_server_new (script_errors[i].script, NULL);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (script_errors); i++)
    {
      g_autofree char *index = g_strdup_printf ("%u", i);
      g_autofree char *pattern
          = g_strdup_printf ("*fault server script, %s*", script_errors[i].message);

      g_setenv ("MK_SCRIPT_ERROR_CASE", index, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_failed ();
      g_test_trap_assert_stderr (pattern);
    }
  g_unsetenv ("MK_SCRIPT_ERROR_CASE");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/harness/fault-server/transcript-and-data", test_transcript_and_data);
  g_test_add_func ("/harness/fault-server/empty-message-data", test_empty_message_data);
  g_test_add_func ("/harness/fault-server/data-terminator-split-across-reads",
                   test_data_terminator_split_across_reads);
  g_test_add_func ("/harness/fault-server/mismatch-reported", test_mismatch_reported);
  g_test_add_func ("/harness/fault-server/bare-lf-is-a-mismatch", test_bare_lf_is_a_mismatch);
  g_test_add_func ("/harness/fault-server/early-close-reported", test_early_close_reported);
  g_test_add_func ("/harness/fault-server/eof-step-rejects-more-bytes",
                   test_eof_step_rejects_more_bytes);
  g_test_add_func ("/harness/fault-server/quiet", test_quiet);
  g_test_add_func ("/harness/fault-server/drain", test_drain);
  g_test_add_func ("/harness/fault-server/wait-times-out-with-position",
                   test_wait_times_out_with_position);
  g_test_add_func ("/harness/fault-server/wait-names-what-is-missing",
                   test_wait_names_what_is_missing);
  g_test_add_func ("/harness/fault-server/step-timeout", test_step_timeout);
  g_test_add_func ("/harness/fault-server/split-sends-arrive-in-pieces",
                   test_split_sends_arrive_in_pieces);
  g_test_add_func ("/harness/fault-server/cork-joins-split-pieces", test_cork_joins_split_pieces);
  g_test_add_func ("/harness/fault-server/sends-collected-into-one-write",
                   test_sends_are_collected_into_one_write);
  g_test_add_func ("/harness/fault-server/stall", test_stall);
  g_test_add_func ("/harness/fault-server/free-never-hangs", test_free_never_hangs);
  g_test_add_func ("/harness/fault-server/close", test_close);
  g_test_add_func ("/harness/fault-server/reset", test_reset);
  g_test_add_func ("/harness/fault-server/client-gone-while-sending",
                   test_client_gone_while_sending);
  g_test_add_func ("/harness/fault-server/thousand-line-reply", test_thousand_line_reply);
  g_test_add_func ("/harness/fault-server/write-blocked-reported", test_write_blocked_reported);
  g_test_add_func ("/harness/fault-server/repeat-and-escapes", test_repeat_and_escapes);
  g_test_add_func ("/harness/fault-server/repeat-mismatch-names-the-repetition",
                   test_repeat_mismatch_names_the_repetition);
  g_test_add_func ("/harness/fault-server/escape-round-trip", test_escape_round_trip);
  g_test_add_func ("/harness/fault-server/transcript-bytes-keep-nul",
                   test_transcript_bytes_keep_nul);
  g_test_add_func ("/harness/fault-server/starttls-injection-then-handshake",
                   test_starttls_injection_then_handshake);
  g_test_add_func ("/harness/fault-server/client-refusing-injection",
                   test_client_refusing_injection);
  g_test_add_func ("/harness/fault-server/bytes-before-handshake-reported",
                   test_bytes_before_handshake_reported);
  g_test_add_func ("/harness/fault-server/implicit-tls-with-client-cert",
                   test_implicit_tls_with_client_cert);
  g_test_add_func ("/harness/fault-server/tls-close-without-notify", test_tls_close_without_notify);
  g_test_add_func ("/harness/fault-server/client-cert-requested-or-verified",
                   test_client_cert_requested_or_verified);
  g_test_add_func ("/harness/fault-server/weak-cipher-only-server", test_weak_cipher_only_server);
  g_test_add_func ("/harness/fault-server/tls-1.3-only-server", test_tls_1_3_only_server);
  g_test_add_func ("/harness/fault-server/tls-refused-for-unknown-ca",
                   test_tls_refused_for_unknown_ca);
  g_test_add_func ("/harness/fault-server/tls-1.1-server-refused-by-default",
                   test_tls_1_1_server_refused_by_default);
  g_test_add_data_func ("/harness/fault-server/listen/ipv4",
                        GINT_TO_POINTER (MK_FAULT_SERVER_LISTEN_IPV4), test_listen_family);
  g_test_add_data_func ("/harness/fault-server/listen/ipv6",
                        GINT_TO_POINTER (MK_FAULT_SERVER_LISTEN_IPV6), test_listen_family);
  g_test_add_data_func ("/harness/fault-server/listen/unix",
                        GINT_TO_POINTER (MK_FAULT_SERVER_LISTEN_UNIX), test_listen_family);
  g_test_add_func ("/harness/fault-server/connections-in-sequence", test_connections_in_sequence);
  g_test_add_func ("/harness/fault-server/unexpected-connection", test_unexpected_connection);
  g_test_add_func ("/harness/fault-server/script-error-names-the-line",
                   test_script_error_names_the_line);
  return g_test_run ();
}
