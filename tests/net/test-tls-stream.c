/* test-tls-stream.c: MkTlsPolicy and MkTlsStream against the scripted
 * server's OpenSSL, each certificate fault refused by default and accepted
 * only with the opt-out or a matching pin; sync and async
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <libmailkit/mailkit.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "libmailkit/net/mk-net-io-private.h"
#include "libmailkit/net/mk-tls-policy-private.h"
#include "libmailkit/net/mk-tls-stream-private.h"
#include "mk-test-fault-server.h"
#include "mk-test-utils.h"

/* What a connection should do once TLS is up: greet, take one line, go. */
#define TLS_CONVERSATION "TLS\nS: 220 hello\nC: QUIT\nS: 221 bye\nCLOSE\n"

static GIOStream *
connect_to (MkFaultServer *server)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect (
      client, G_SOCKET_CONNECTABLE (mk_fault_server_get_socket_address (server)), NULL, &error);
  g_assert_no_error (error);
  return G_IO_STREAM (connection);
}

static MkTlsPolicy *
test_ca_policy (void)
{
  MkTlsPolicy *policy = mk_tls_policy_new ();

  /* Tests trust the test CA only, never the machine's store. */
  mk_tls_policy_set_ca_file (policy, mk_test_certs_get ()->ca_file);
  return policy;
}

static gboolean
handshake (MkTlsStream *tls, gboolean async, GCancellable *cancellable, GError **error)
{
  MkTestAsync wait;
  gboolean ok;

  if (!async)
    return mk_tls_stream_handshake (tls, cancellable, error);
  mk_test_async_init (&wait);
  mk_tls_stream_handshake_async (tls, cancellable, mk_test_async_callback, &wait);
  ok = mk_tls_stream_handshake_finish (tls, mk_test_async_wait (&wait), error);
  mk_test_async_clear (&wait);
  return ok;
}

/* Reads one CRLF line through @tls, sync or with GIO's async read (which
 * runs on the stream's pollable interface). */
static char *
read_some (MkTlsStream *tls, gboolean async)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (tls));
  g_autoptr (GError) error = NULL;
  char buffer[256];
  gssize n;

  if (async)
    {
      MkTestAsync wait;

      mk_test_async_init (&wait);
      g_input_stream_read_async (in, buffer, sizeof buffer - 1, G_PRIORITY_DEFAULT, NULL,
                                 mk_test_async_callback, &wait);
      n = g_input_stream_read_finish (in, mk_test_async_wait (&wait), &error);
      mk_test_async_clear (&wait);
    }
  else
    n = g_input_stream_read (in, buffer, sizeof buffer - 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, >=, 0);
  return g_strndup (buffer, n);
}

/* Runs TLS_CONVERSATION over a handshake that must succeed. */
static void
converse (MkFaultServer *server, MkTlsStream *tls, gboolean async)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (tls));
  g_autoptr (GError) error = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *bye = NULL;
  g_autofree char *end = NULL;

  g_assert_nonnull (mk_tls_stream_get_protocol_version (tls));
  greeting = read_some (tls, async);
  g_assert_cmpstr (greeting, ==, "220 hello\r\n");
  g_assert_true (g_output_stream_write_all (out, "QUIT\r\n", 6, NULL, NULL, &error));
  g_assert_true (g_output_stream_flush (out, NULL, &error));
  g_assert_no_error (error);
  bye = read_some (tls, async);
  g_assert_cmpstr (bye, ==, "221 bye\r\n");
  /* close_notify from the server: the end of the stream. */
  end = read_some (tls, async);
  g_assert_cmpstr (end, ==, "");
  g_assert_true (g_io_stream_close (G_IO_STREAM (tls), NULL, &error));
  g_assert_no_error (error);

  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "QUIT\r\n");
}

/* The outcome of one handshake with a server presenting @cert/@key:
 * success runs the conversation; failure is returned. */
static GError *
try_server (const char *cert, const char *key, MkTlsPolicy *policy, const char *server_name,
            gboolean async)
{
  MkFaultServerOptions options = { .cert_file = cert, .key_file = key };
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (GIOStream) base = NULL;
  g_autoptr (MkTlsStream) tls = NULL;
  GError *error = NULL;
  gboolean verify = mk_tls_policy_get_authentication (policy) == MK_TLS_AUTHENTICATION_VERIFY;

  /* Full verification refuses during the handshake; a pin is checked after
   * it, so the server sees a handshake and then a client that goes away. */
  server = mk_fault_server_new (verify ? "TLS-REFUSED\n" : "TLS\nDRAIN\n", &options);
  base = connect_to (server);
  tls = mk_tls_stream_new (base, policy, server_name, &error);
  g_assert_no_error (error);
  if (handshake (tls, async, NULL, &error))
    return NULL;
  g_assert_false (mk_tls_stream_get_protocol_version (tls) != NULL);
  g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
  g_assert_true (mk_fault_server_wait (server, 0));
  g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
  /* Nothing of the application went out. */
  g_assert_cmpstr (mk_fault_server_get_transcript (server, 0), ==, "");
  return error;
}

static void
accept_server (const char *cert, const char *key, MkTlsPolicy *policy, const char *server_name,
               MkFaultServerListen listen, gboolean async)
{
  MkFaultServerOptions options = { .cert_file = cert, .key_file = key, .listen = listen };
  g_autoptr (MkFaultServer) server = mk_fault_server_new (TLS_CONVERSATION, &options);
  g_autoptr (GIOStream) base = connect_to (server);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = mk_tls_stream_new (base, policy, server_name, &error);

  g_assert_no_error (error);
  g_assert_true (handshake (tls, async, NULL, &error));
  g_assert_no_error (error);
  converse (server, tls, async);
}

static char *
pin_of (const char *cert_path, gboolean certificate_fingerprint)
{
  FILE *file = fopen (cert_path, "r");
  X509 *cert = PEM_read_X509 (file, NULL, NULL, NULL);
  guint8 digest[32];
  unsigned int length = 0;
  char *pin;

  fclose (file);
  g_assert_nonnull (cert);
  if (certificate_fingerprint)
    {
      GString *hex = g_string_new (NULL);

      g_assert_true (X509_digest (cert, EVP_sha256 (), digest, &length));
      for (unsigned i = 0; i < length; i++)
        g_string_append_printf (hex, "%s%02X", i ? ":" : "", digest[i]);
      pin = g_string_free (hex, FALSE);
    }
  else
    {
      unsigned char *der = NULL;
      int der_length = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (cert), &der);
      g_autofree char *base64 = NULL;

      g_assert_cmpint (der_length, >, 0);
      g_assert_true (EVP_Digest (der, der_length, digest, &length, EVP_sha256 (), NULL));
      OPENSSL_free (der);
      base64 = g_base64_encode (digest, length);
      pin = g_strconcat ("sha256//", base64, NULL);
    }
  X509_free (cert);
  return pin;
}

static void
test_context_defaults (void)
{
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GError) error = NULL;
  SSL_CTX *context;

  /* Set by the library, not inherited from openssl.cnf: an unset minimum
   * reads back as 0. */
  context = mk_tls_policy_get_context (policy, &error);
  g_assert_no_error (error);
  g_assert_cmpint (SSL_CTX_get_min_proto_version (context), ==, TLS1_2_VERSION);
  g_assert_cmpint (SSL_CTX_get_verify_mode (context), ==, SSL_VERIFY_PEER);
  g_assert_cmpuint (SSL_CTX_get_options (context) & SSL_OP_NO_RENEGOTIATION, !=, 0);
  SSL_CTX_free (context);

  mk_tls_policy_set_min_version (policy, MK_TLS_VERSION_1_3);
  context = mk_tls_policy_get_context (policy, &error);
  g_assert_no_error (error);
  g_assert_cmpint (SSL_CTX_get_min_proto_version (context), ==, TLS1_3_VERSION);
  SSL_CTX_free (context);

  /* The opt-out and the pin stop OpenSSL from failing the handshake, and
   * nothing else: the minimum stays. */
  mk_tls_policy_set_min_version (policy, MK_TLS_VERSION_1_2);
  mk_tls_policy_set_insecure_skip_verify (policy, TRUE);
  context = mk_tls_policy_get_context (policy, &error);
  g_assert_no_error (error);
  g_assert_cmpint (SSL_CTX_get_verify_mode (context), ==, SSL_VERIFY_NONE);
  g_assert_cmpint (SSL_CTX_get_min_proto_version (context), ==, TLS1_2_VERSION);
  SSL_CTX_free (context);

  /* The system store by default. */
  {
    g_autoptr (MkTlsPolicy) defaults = mk_tls_policy_new ();

    g_assert_null (mk_tls_policy_get_ca_file (defaults));
    g_assert_false (mk_tls_policy_get_insecure_skip_verify (defaults));
    g_assert_cmpint (mk_tls_policy_get_min_version (defaults), ==, MK_TLS_VERSION_1_2);
    context = mk_tls_policy_get_context (defaults, &error);
    g_assert_no_error (error);
    g_assert_cmpint (SSL_CTX_get_verify_mode (context), ==, SSL_VERIFY_PEER);
    SSL_CTX_free (context);
  }
}

static void
test_policy_errors (void)
{
  g_autoptr (MkTlsPolicy) policy = mk_tls_policy_new ();
  g_autoptr (GIOStream) base = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) in = g_memory_input_stream_new ();
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  MkTlsStream *tls;

  base = g_simple_io_stream_new (in, out);

  mk_tls_policy_set_ca_file (policy, "/nonexistent/ca.pem");
  tls = mk_tls_stream_new (base, policy, "localhost", &error);
  g_assert_null (tls);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC);
  g_assert_nonnull (strstr (error->message, "/nonexistent/ca.pem"));
  g_clear_error (&error);

  mk_tls_policy_set_ca_file (policy, mk_test_certs_get ()->ca_file);
  mk_tls_policy_set_client_certificate (policy, mk_test_certs_get ()->client_cert);
  mk_tls_policy_set_client_key (policy, mk_test_certs_get ()->server_key);
  tls = mk_tls_stream_new (base, policy, "localhost", &error);
  g_assert_null (tls);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC);
  g_assert_nonnull (strstr (error->message, mk_test_certs_get ()->client_cert));
  g_clear_error (&error);

  mk_tls_policy_set_client_certificate (policy, NULL);
  mk_tls_policy_set_pin_sha256 (policy, "sha256//not-base64!");
  tls = mk_tls_stream_new (base, policy, "localhost", &error);
  g_assert_null (tls);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* No handshake, no bytes. */
  mk_tls_policy_set_pin_sha256 (policy, NULL);
  tls = mk_tls_stream_new (base, policy, "localhost", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_output_stream_write (g_io_stream_get_output_stream (G_IO_STREAM (tls)), "x", 1,
                                          NULL, &error),
                   ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)), ==, 0);
  g_object_unref (tls);
}

static void
test_valid (gconstpointer data)
{
  gboolean async = GPOINTER_TO_INT (data);
  MkFaultServerOptions options = { 0 };
  g_autoptr (MkFaultServer) server = mk_fault_server_new (TLS_CONVERSATION, &options);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GIOStream) base = connect_to (server);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = mk_tls_stream_new (base, policy, "localhost", &error);

  g_assert_no_error (error);
  g_assert_true (mk_tls_stream_get_base_stream (tls) == base);
  g_assert_cmpstr (mk_tls_stream_get_server_name (tls), ==, "localhost");
  g_assert_null (mk_tls_stream_get_protocol_version (tls));
  g_assert_true (handshake (tls, async, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mk_tls_stream_get_protocol_version (tls), ==, "TLSv1.3");
  converse (server, tls, async);
  /* SNI carries the DNS name. */
  g_assert_cmpstr (mk_fault_server_get_sni (server, 0), ==, "localhost");
}

static void
test_blocking_base (gconstpointer data)
{
  gboolean async = GPOINTER_TO_INT (data);
  g_autoptr (MkFaultServer) server = mk_fault_server_new (TLS_CONVERSATION, NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GIOStream) socket = connect_to (server);
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GOutputStream) out = NULL;
  g_autoptr (GIOStream) base = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = NULL;

  /* Buffered streams cannot poll: OpenSSL then reads and writes blocking,
   * and its flushes must reach the buffered output. */
  in = g_buffered_input_stream_new (g_io_stream_get_input_stream (socket));
  out = g_buffered_output_stream_new (g_io_stream_get_output_stream (socket));
  g_assert_false (G_IS_POLLABLE_INPUT_STREAM (in));
  base = g_simple_io_stream_new (in, out);
  tls = mk_tls_stream_new (base, policy, "localhost", &error);
  g_assert_no_error (error);
  g_assert_false (g_pollable_input_stream_can_poll (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (G_IO_STREAM (tls)))));
  g_assert_true (handshake (tls, async, NULL, &error));
  g_assert_no_error (error);
  converse (server, tls, async);
}

typedef struct
{
  const char *name;
  const char *expected; /* in the error message */
} BadCert;

static void
test_bad_certificates (gconstpointer data)
{
  gboolean async = GPOINTER_TO_INT (data);
  const MkTestCerts *certs = mk_test_certs_get ();
  struct
  {
    const char *cert, *key, *expected;
  } bad[] = {
    { certs->expired_cert, certs->expired_key, "The certificate for localhost has expired" },
    { certs->not_yet_valid_cert, certs->not_yet_valid_key,
      "The certificate for localhost is not valid yet" },
    { certs->wrong_host_cert, certs->wrong_host_key,
      "The certificate is for other.example, not localhost" },
    { certs->self_signed_cert, certs->self_signed_key,
      "The certificate for localhost is self-signed" },
    { certs->unknown_ca_cert, certs->unknown_ca_key,
      "The certificate for localhost is signed by an unknown authority (/CN=unknown-test-ca)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
      g_autoptr (GError) error = NULL;
      g_autofree char *spki_pin = pin_of (bad[i].cert, FALSE);
      g_autofree char *cert_pin = pin_of (bad[i].cert, TRUE);
      g_autofree char *other_pin = pin_of (certs->server_cert, FALSE);

      g_test_message ("%s", bad[i].expected);

      /* Verification on: refused, saying why and for whom. */
      error = try_server (bad[i].cert, bad[i].key, policy, "localhost", async);
      g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
      g_assert_nonnull (strstr (error->message, bad[i].expected));
      g_clear_error (&error);

      /* A pin of another key: refused. */
      mk_tls_policy_set_pin_sha256 (policy, other_pin);
      error = try_server (bad[i].cert, bad[i].key, policy, "localhost", async);
      g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
      g_assert_nonnull (strstr (error->message, "does not match the pinned public key"));
      g_clear_error (&error);

      /* The matching pin, as a key digest and as a certificate
       * fingerprint: accepted. */
      mk_tls_policy_set_pin_sha256 (policy, spki_pin);
      accept_server (bad[i].cert, bad[i].key, policy, "localhost", MK_FAULT_SERVER_LISTEN_IPV4,
                     async);
      mk_tls_policy_set_pin_sha256 (policy, cert_pin);
      accept_server (bad[i].cert, bad[i].key, policy, "localhost", MK_FAULT_SERVER_LISTEN_IPV4,
                     async);

      /* The explicit opt-out: accepted. */
      mk_tls_policy_set_pin_sha256 (policy, NULL);
      mk_tls_policy_set_insecure_skip_verify (policy, TRUE);
      accept_server (bad[i].cert, bad[i].key, policy, "localhost", MK_FAULT_SERVER_LISTEN_IPV4,
                     async);
    }
}

/* A certificate signed by @issuer_path whose CN is @name (@length bytes:
 * it may hold a NUL), made here with OpenSSL for the cases the shared test
 * certificates do not cover: a CA when @is_ca, else a server certificate
 * whose only DNS name is @name too. */
static void
make_certificate_by (const char *label, const char *name, gsize length, const char *issuer_path,
                     const char *issuer_key_path, gboolean is_ca, char **cert_path, char **key_path)
{
  g_autofree char *dir = mk_test_make_subdir (label);
  GENERAL_NAMES *names = sk_GENERAL_NAME_new_null ();
  GENERAL_NAME *general_name = GENERAL_NAME_new ();
  ASN1_IA5STRING *dns = ASN1_IA5STRING_new ();
  X509 *cert = X509_new ();
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *ca;
  EVP_PKEY *ca_key;
  FILE *file;

  file = fopen (issuer_path, "r");
  ca = PEM_read_X509 (file, NULL, NULL, NULL);
  fclose (file);
  file = fopen (issuer_key_path, "r");
  ca_key = PEM_read_PrivateKey (file, NULL, NULL, NULL);
  fclose (file);
  g_assert_nonnull (ca);
  g_assert_nonnull (ca_key);
  g_assert_nonnull (key);

  X509_set_version (cert, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), g_random_int_range (1, G_MAXINT32));
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 86400);
  X509_set_pubkey (cert, key);
  X509_NAME_add_entry_by_txt (X509_get_subject_name (cert), "CN", MBSTRING_ASC,
                              (const unsigned char *)name, length, -1, 0);
  X509_set_issuer_name (cert, X509_get_subject_name (ca));
  ASN1_STRING_set (dns, name, length);
  GENERAL_NAME_set0_value (general_name, GEN_DNS, dns);
  sk_GENERAL_NAME_push (names, general_name);
  if (is_ca)
    {
      BASIC_CONSTRAINTS *constraints = BASIC_CONSTRAINTS_new ();

      constraints->ca = 1;
      g_assert_cmpint (
          X509_add1_ext_i2d (cert, NID_basic_constraints, constraints, 1, X509V3_ADD_DEFAULT), ==,
          1);
      BASIC_CONSTRAINTS_free (constraints);
    }
  else
    g_assert_cmpint (X509_add1_ext_i2d (cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT),
                     ==, 1);
  g_assert_cmpint (X509_sign (cert, ca_key, EVP_sha256 ()), >, 0);

  *cert_path = g_build_filename (dir, "cert.pem", NULL);
  *key_path = g_build_filename (dir, "key.pem", NULL);
  file = fopen (*cert_path, "w");
  PEM_write_X509 (file, cert);
  fclose (file);
  file = fopen (*key_path, "w");
  PEM_write_PrivateKey (file, key, NULL, NULL, 0, NULL, NULL);
  fclose (file);

  GENERAL_NAMES_free (names);
  X509_free (cert);
  X509_free (ca);
  EVP_PKEY_free (key);
  EVP_PKEY_free (ca_key);
}

static void
make_certificate (const char *label, const char *name, gsize length, char **cert_path,
                  char **key_path)
{
  const MkTestCerts *certs = mk_test_certs_get ();
  g_autofree char *ca_key_path = g_build_filename (certs->dir, "ca-key.pem", NULL);

  make_certificate_by (label, name, length, certs->ca_file, ca_key_path, FALSE, cert_path,
                       key_path);
}

/* A server certificate signed by an intermediate CA under the test CA:
 * refused when the server sends it alone (the chain cannot be built),
 * accepted when the server sends the intermediate after it. */
static void
test_intermediate (void)
{
  const MkTestCerts *certs = mk_test_certs_get ();
  g_autofree char *ca_key_path = g_build_filename (certs->dir, "ca-key.pem", NULL);
  g_autofree char *intermediate = NULL;
  g_autofree char *intermediate_key = NULL;
  g_autofree char *leaf = NULL;
  g_autofree char *leaf_key = NULL;
  g_autofree char *chain = NULL;
  g_autofree char *leaf_pem = NULL;
  g_autofree char *intermediate_pem = NULL;
  g_autofree char *chain_pem = NULL;
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GError) error = NULL;

  make_certificate_by ("intermediate", "test-intermediate", strlen ("test-intermediate"),
                       certs->ca_file, ca_key_path, TRUE, &intermediate, &intermediate_key);
  make_certificate_by ("leaf", "localhost", strlen ("localhost"), intermediate, intermediate_key,
                       FALSE, &leaf, &leaf_key);
  leaf_pem = mk_test_read_file (leaf, NULL);
  intermediate_pem = mk_test_read_file (intermediate, NULL);
  chain = g_build_filename (mk_test_tmpdir (), "leaf-chain.pem", NULL);
  chain_pem = g_strconcat (leaf_pem, intermediate_pem, NULL);
  g_assert_true (g_file_set_contents (chain, chain_pem, -1, NULL));

  error = try_server (leaf, leaf_key, policy, "localhost", FALSE);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "unknown authority (/CN=test-intermediate)"));
  accept_server (chain, leaf_key, policy, "localhost", MK_FAULT_SERVER_LISTEN_IPV4, FALSE);
}

static void
test_nul_in_name (void)
{
  /* The NUL-in-name class of msmtp CVE-2009-3942, libESMTP CVE-2010-1192
   * and sendmail CVE-2009-4565. */
  static const char evil[] = "localhost\0.evil.example";
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GError) error = NULL;

  make_certificate ("nul-name", evil, sizeof evil - 1, &cert, &key);
  error = try_server (cert, key, policy, "localhost", FALSE);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  /* Refused, and the NUL shown as '?', not cutting the name short. */
  g_assert_cmpstr (error->message, ==,
                   "The certificate is for localhost?.evil.example, not localhost");
}

static void
test_wildcards (void)
{
  /* RFC 6125 §6.4.3: a wildcard stands for one whole left-most label. */
  static const struct
  {
    const char *certificate_name;
    const char *server_name;
    gboolean accepted;
  } cases[] = {
    { "*.mail.example", "smtp.mail.example", TRUE },
    { "*.mail.example", "a.smtp.mail.example", FALSE }, /* libESMTP CVE-2010-1194 class */
    { "*.mail.example", "mail.example", FALSE },
    { "s*p.mail.example", "smtp.mail.example", FALSE }, /* partial wildcards: refused */
    { "*.example", "mail.example", FALSE },             /* too wide (OpenSSL's rule) */
    { "*.0.0.1", "127.0.0.1", FALSE },                  /* never for an IP address */
    { "mail.example", "mail.example.evil", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *label = g_strdup_printf ("wildcard-%" G_GSIZE_FORMAT, i);
      g_autofree char *cert = NULL;
      g_autofree char *key = NULL;
      g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
      g_autoptr (GError) error = NULL;

      g_test_message ("certificate for %s, server %s", cases[i].certificate_name,
                      cases[i].server_name);
      make_certificate (label, cases[i].certificate_name, strlen (cases[i].certificate_name), &cert,
                        &key);
      if (cases[i].accepted)
        accept_server (cert, key, policy, cases[i].server_name, MK_FAULT_SERVER_LISTEN_IPV4, FALSE);
      else
        {
          error = try_server (cert, key, policy, cases[i].server_name, FALSE);
          g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
          g_assert_nonnull (strstr (error->message, "The certificate is for"));
        }
    }
}

static void
test_unknown_ca_by_default (void)
{
  /* With no CA file the system store is used, which knows nothing of the
   * test CA: even the valid test certificate is refused. */
  g_autoptr (MkTlsPolicy) policy = mk_tls_policy_new ();
  g_autoptr (GError) error = try_server (NULL, NULL, policy, "localhost", FALSE);

  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "unknown authority"));
}

static void
test_ip_literals (void)
{
  const MkTestCerts *certs = mk_test_certs_get ();
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MkFaultServer) server = NULL;
  g_autoptr (GIOStream) base = NULL;
  g_autoptr (MkTlsStream) tls = NULL;

  /* The certificate's IP address is checked; no SNI goes out. */
  server = mk_fault_server_new (TLS_CONVERSATION, NULL);
  base = connect_to (server);
  tls = mk_tls_stream_new (base, policy, "127.0.0.1", &error);
  g_assert_no_error (error);
  g_assert_true (handshake (tls, FALSE, NULL, &error));
  g_assert_no_error (error);
  converse (server, tls, FALSE);
  g_assert_null (mk_fault_server_get_sni (server, 0));

  accept_server (NULL, NULL, policy, "::1", MK_FAULT_SERVER_LISTEN_IPV6, FALSE);
  accept_server (NULL, NULL, policy, "[::1]", MK_FAULT_SERVER_LISTEN_IPV6, FALSE);

  /* An address the certificate does not carry. */
  error = try_server (certs->wrong_host_cert, certs->wrong_host_key, policy, "127.0.0.1", FALSE);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "The certificate is for other.example, not 127.0.0.1"));
  g_clear_error (&error);
  error = try_server (NULL, NULL, policy, "127.0.0.2", FALSE);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "localhost, 127.0.0.1, ::1, not 127.0.0.2"));
}

static void
test_old_protocol_refused (gconstpointer data)
{
  gboolean async = GPOINTER_TO_INT (data);
  MkFaultServerTlsVersion versions[] = { MK_FAULT_SERVER_TLS_1_0, MK_FAULT_SERVER_TLS_1_1 };
  const char *names[] = { "TLS 1.0", "TLS 1.1" };

  for (gsize i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      MkFaultServerOptions options
          = { .min_tls_version = MK_FAULT_SERVER_TLS_1_0, .max_tls_version = versions[i] };
      g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS-REFUSED\n", &options);
      g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
      g_autoptr (GIOStream) base = connect_to (server);
      g_autoptr (GError) error = NULL;
      g_autoptr (MkTlsStream) tls = mk_tls_stream_new (base, policy, "localhost", &error);
      g_autofree char *offered = g_strdup_printf ("localhost offers only %s; TLS 1.2 or newer "
                                                  "is required",
                                                  names[i]);
      const char *refused = "localhost speaks only TLS versions older than TLS 1.2, which are "
                            "refused";

      /* A server unaware of TLS 1.3 answers with its version, which the
       * message names; OpenSSL's server answers with an alert. */
      g_assert_false (handshake (tls, async, NULL, &error));
      g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE);
      if (g_strcmp0 (error->message, offered) != 0)
        g_assert_cmpstr (error->message, ==, refused);
      g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
      g_assert_true (mk_fault_server_wait (server, 0));
      g_assert_cmpstr (mk_fault_server_get_failure (server), ==, NULL);
    }

  /* A policy asking for TLS 1.3 refuses a TLS 1.2 server. */
  {
    MkFaultServerOptions options = { .max_tls_version = MK_FAULT_SERVER_TLS_1_2 };
    g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS-REFUSED\n", &options);
    g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
    g_autoptr (GIOStream) base = connect_to (server);
    g_autoptr (GError) error = NULL;
    g_autoptr (MkTlsStream) tls = NULL;

    mk_tls_policy_set_min_version (policy, MK_TLS_VERSION_1_3);
    tls = mk_tls_stream_new (base, policy, "localhost", &error);
    g_assert_false (handshake (tls, async, NULL, &error));
    g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE);
    g_assert_nonnull (strstr (error->message, "TLS 1.3"));
    g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
    g_assert_true (mk_fault_server_wait (server, 0));
  }
}

/* A server from before TLS 1.3's version negotiation answers a modern
 * ClientHello with its own ServerHello: the refusal names its version. */
static void
test_legacy_server_hello (void)
{
  static const struct
  {
    guint8 minor;
    const char *message;
  } legacy[] = {
    { 0x01, "localhost offers only TLS 1.0; TLS 1.2 or newer is required" },
    { 0x02, "localhost offers only TLS 1.1; TLS 1.2 or newer is required" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (legacy); i++)
    {
      /* A handshake record holding a bare ServerHello: version, random,
       * no session id, TLS_RSA_WITH_AES_128_CBC_SHA, no compression. */
      guint8 hello[5 + 4 + 38] = { 0x16, 0x03, legacy[i].minor, 0x00, 0x2a, 0x02, 0x00, 0x00,
                                   0x26, 0x03, legacy[i].minor };
      g_autofree char *escaped = NULL;
      g_autofree char *script = NULL;
      g_autoptr (MkFaultServer) server = NULL;
      g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
      g_autoptr (GIOStream) base = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (MkTlsStream) tls = NULL;

      memset (hello + 11, 0x5a, 32);
      hello[43] = 0x00;
      hello[44] = 0x00;
      hello[45] = 0x2f;
      hello[46] = 0x00;
      escaped = mk_fault_server_escape (hello, sizeof hello);
      script = g_strdup_printf ("SLEEP 100\nR: %s\nDRAIN\n", escaped);
      server = mk_fault_server_new (script, NULL);
      base = connect_to (server);
      tls = mk_tls_stream_new (base, policy, "localhost", &error);
      g_assert_false (handshake (tls, FALSE, NULL, &error));
      g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE);
      g_assert_cmpstr (error->message, ==, legacy[i].message);
      g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
      g_assert_true (mk_fault_server_wait (server, 0));
    }
}

static void
test_client_certificate (void)
{
  const MkTestCerts *certs = mk_test_certs_get ();
  MkFaultServerOptions options = { .client_cert = MK_FAULT_SERVER_CLIENT_CERT_REQUIRE };
  g_autoptr (MkFaultServer) server = mk_fault_server_new (TLS_CONVERSATION, &options);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GIOStream) base = connect_to (server);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = NULL;

  mk_tls_policy_set_client_certificate (policy, certs->client_cert);
  mk_tls_policy_set_client_key (policy, certs->client_key);
  tls = mk_tls_stream_new (base, policy, "localhost", &error);
  g_assert_no_error (error);
  g_assert_true (handshake (tls, FALSE, NULL, &error));
  g_assert_no_error (error);
  converse (server, tls, FALSE);
  g_assert_cmpstr (mk_fault_server_get_client_cert_subject (server, 0), ==, "/CN=test-client");
}

static void
test_client_certificate_missing (void)
{
  MkFaultServerOptions options = { .client_cert = MK_FAULT_SERVER_CLIENT_CERT_REQUIRE };
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("TLS-REFUSED\n", &options);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GIOStream) base = connect_to (server);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = mk_tls_stream_new (base, policy, "localhost", &error);
  char byte;

  /* In TLS 1.3 the server judges the client's certificate after the
   * client's handshake is done: the refusal arrives with the first read. */
  if (handshake (tls, FALSE, NULL, &error))
    g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (tls)), &byte,
                                          1, NULL, &error),
                     ==, -1);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED);
  g_assert_nonnull (strstr (error->message, "localhost requires a client certificate"));
  g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
  g_assert_true (mk_fault_server_wait (server, 0));
}

static void
test_not_tls (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("S: 220 plain text here\nDRAIN\n", NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GIOStream) base = connect_to (server);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = mk_tls_stream_new (base, policy, "localhost", &error);

  g_assert_false (handshake (tls, FALSE, NULL, &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS);
  g_assert_nonnull (strstr (error->message, "localhost did not answer in TLS"));
  g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
  g_assert_true (mk_fault_server_wait (server, 0));
}

static void
test_closed_during_handshake (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("CLOSE\n", NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GIOStream) base = connect_to (server);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = mk_tls_stream_new (base, policy, "localhost", &error);

  g_assert_false (handshake (tls, FALSE, NULL, &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_EOF);
  g_assert_nonnull (strstr (error->message, "during the TLS handshake"));
  g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
  g_assert_true (mk_fault_server_wait (server, 0));
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel_handshake (gconstpointer data)
{
  gboolean async = GPOINTER_TO_INT (data);
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("STALL\n", NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GIOStream) base = connect_to (server);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = mk_tls_stream_new (base, policy, "localhost", &error);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  GThread *canceller = g_thread_new ("cancel", cancel_later, cancellable);
  gint64 start = g_get_monotonic_time ();

  g_assert_false (handshake (tls, async, cancellable, &error));
  g_thread_join (canceller);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * mk_test_time_scale ());
  g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
  g_assert_true (mk_fault_server_wait (server, 0));
}

static void
test_handshake_deadline (void)
{
  g_autoptr (MkFaultServer) server = mk_fault_server_new ("STALL\n", NULL);
  g_autoptr (MkTlsPolicy) policy = test_ca_policy ();
  g_autoptr (GIOStream) base = connect_to (server);
  g_autoptr (GError) error = NULL;
  g_autoptr (MkTlsStream) tls = mk_tls_stream_new (base, policy, "localhost", &error);
  double scale = mk_test_time_scale ();
  gint64 start = g_get_monotonic_time ();
  double took;

  g_assert_false (
      mk_tls_stream_handshake_until (tls, mk_net_deadline_after (0.3 * scale), NULL, &error));
  took = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "TLS handshake with localhost"));
  g_assert_cmpfloat (took, >=, 0.29 * scale);
  g_assert_cmpfloat (took, <, 1.0 * scale);
  g_io_stream_close (G_IO_STREAM (tls), NULL, NULL);
  g_assert_true (mk_fault_server_wait (server, 0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/tls/policy/context-defaults", test_context_defaults);
  g_test_add_func ("/net/tls/policy/errors", test_policy_errors);
  for (int async = 0; async <= 1; async++)
    {
      const char *mode = async ? "async" : "sync";
      g_autofree char *valid = g_strdup_printf ("/net/tls/%s/valid", mode);
      g_autofree char *bad = g_strdup_printf ("/net/tls/%s/bad-certificates", mode);
      g_autofree char *old = g_strdup_printf ("/net/tls/%s/old-protocol-refused", mode);
      g_autofree char *cancel = g_strdup_printf ("/net/tls/%s/cancel-handshake", mode);
      g_autofree char *blocking = g_strdup_printf ("/net/tls/%s/blocking-base", mode);

      g_test_add_data_func (valid, GINT_TO_POINTER (async), test_valid);
      g_test_add_data_func (bad, GINT_TO_POINTER (async), test_bad_certificates);
      g_test_add_data_func (old, GINT_TO_POINTER (async), test_old_protocol_refused);
      g_test_add_data_func (cancel, GINT_TO_POINTER (async), test_cancel_handshake);
      g_test_add_data_func (blocking, GINT_TO_POINTER (async), test_blocking_base);
    }
  g_test_add_func ("/net/tls/unknown-ca-by-default", test_unknown_ca_by_default);
  g_test_add_func ("/net/tls/nul-in-name", test_nul_in_name);
  g_test_add_func ("/net/tls/wildcards", test_wildcards);
  g_test_add_func ("/net/tls/intermediate", test_intermediate);
  g_test_add_func ("/net/tls/ip-literals", test_ip_literals);
  g_test_add_func ("/net/tls/legacy-server-hello", test_legacy_server_hello);
  g_test_add_func ("/net/tls/client-certificate", test_client_certificate);
  g_test_add_func ("/net/tls/client-certificate-missing", test_client_certificate_missing);
  g_test_add_func ("/net/tls/not-tls", test_not_tls);
  g_test_add_func ("/net/tls/closed-during-handshake", test_closed_during_handshake);
  g_test_add_func ("/net/tls/handshake-deadline", test_handshake_deadline);
  return g_test_run ();
}
