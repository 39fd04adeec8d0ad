/* mk-tls-stream.c: TLS (OpenSSL) over any GIOStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "mk-init.h"
#include "mk-net-io-private.h"
#include "mk-tls-input-stream-private.h"
#include "mk-tls-output-stream-private.h"
#include "mk-tls-policy-private.h"
#include "mk-tls-stream-private.h"

/**
 * MkTlsStream:
 *
 * A #GIOStream that runs a TLS client (OpenSSL) over another #GIOStream:
 * a TCP connection for implicit TLS (port 465), or the same connection
 * after STARTTLS. How the server is authenticated is an #MkTlsPolicy; by
 * default the certificate chain, its dates and the server name are
 * verified against the system's trust store, and TLS 1.2 is the oldest
 * version accepted.
 *
 * Call mk_tls_stream_handshake() (or its async form) before reading or
 * writing: reads and writes before a successful handshake fail with
 * %G_IO_ERROR_NOT_CONNECTED, so no byte ever travels over an
 * unauthenticated connection. Closing the stream sends the TLS
 * close_notify and closes the base stream. The end of the base stream
 * without close_notify reads as the end of the stream.
 *
 * Over a pollable base stream (a #GSocketConnection is one) the stream's
 * input and output streams are pollable too, and GIO's async reads and
 * writes run without threads. One read and one write may run at the same
 * time, from different threads.
 *
 * Errors: %G_TLS_ERROR_BAD_CERTIFICATE when the server's certificate is
 * refused (the message says why, for which host: "The certificate for
 * mail.example.org has expired", "The certificate is for other.example,
 * not mail.example.org"); %G_TLS_ERROR_HANDSHAKE when the server offers no
 * TLS version the policy accepts (the message names the version it
 * offered) or the handshake fails otherwise; %G_TLS_ERROR_NOT_TLS when the
 * peer does not speak TLS; %G_TLS_ERROR_EOF when it closes the connection
 * during the handshake; %G_TLS_ERROR_CERTIFICATE_REQUIRED when it wants a
 * client certificate; and the base stream's errors (%G_IO_ERROR_CANCELLED
 * among them) unchanged.
 *
 * Since: 0.1
 */
struct _MkTlsStream
{
  GIOStream parent_instance;

  GIOStream *base_stream;
  MkTlsPolicy *policy;
  char *server_name;
  GInputStream *input_stream;
  GOutputStream *output_stream;
  gboolean pollable;

  /* The SSL object and what its BIO needs during one operation; all under
   * lock, because a read and a write may come from two threads. */
  GMutex lock;
  SSL *ssl;
  gboolean bio_blocking;
  GCancellable *bio_cancellable;
  GError *bio_error;
  gboolean bio_eof;
  /* What the last read or write waits for: G_IO_IN or G_IO_OUT. */
  GIOCondition read_wants;
  GIOCondition write_wants;
  /* The version in the server's ServerHello, to name it when refused. */
  int server_version;
  gboolean handshake_done;
};

static void mk_tls_stream_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MkTlsStream, mk_tls_stream, G_TYPE_IO_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      mk_tls_stream_initable_iface_init))

enum
{
  PROP_0,
  PROP_BASE_STREAM,
  PROP_POLICY,
  PROP_SERVER_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef enum
{
  OP_HANDSHAKE,
  OP_READ,
  OP_WRITE,
  OP_SHUTDOWN,
} TlsOp;

/* The BIO: OpenSSL's reads and writes go to the base stream, blocking
 * (with the operation's cancellable) or not, as the operation asks. */

static int
bio_write (BIO *bio, const char *data, size_t size, size_t *written)
{
  MkTlsStream *self = BIO_get_data (bio);
  GOutputStream *out = g_io_stream_get_output_stream (self->base_stream);
  g_autoptr (GError) error = NULL;
  gssize n;

  BIO_clear_retry_flags (bio);
  if (self->bio_blocking)
    n = g_output_stream_write (out, data, size, self->bio_cancellable, &error);
  else
    n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out), data, size,
                                                    NULL, &error);
  if (n > 0)
    {
      *written = n;
      return 1;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    BIO_set_retry_write (bio);
  else if (self->bio_error == NULL)
    self->bio_error = error != NULL ? g_steal_pointer (&error)
                                    : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                                                           "The connection took no data");
  return 0;
}

static int
bio_read (BIO *bio, char *data, size_t size, size_t *done)
{
  MkTlsStream *self = BIO_get_data (bio);
  GInputStream *in = g_io_stream_get_input_stream (self->base_stream);
  g_autoptr (GError) error = NULL;
  gssize n;

  BIO_clear_retry_flags (bio);
  if (self->bio_blocking)
    n = g_input_stream_read (in, data, size, self->bio_cancellable, &error);
  else
    n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in), data, size, NULL,
                                                  &error);
  if (n > 0)
    {
      *done = n;
      return 1;
    }
  if (n == 0)
    self->bio_eof = TRUE;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    BIO_set_retry_read (bio);
  else if (self->bio_error == NULL)
    self->bio_error = g_steal_pointer (&error);
  return 0;
}

static long
bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  MkTlsStream *self = BIO_get_data (bio);

  switch (cmd)
    {
    case BIO_CTRL_FLUSH:
      /* A GSocketConnection's streams are unbuffered; a buffered base
       * stream can only be flushed when blocking is allowed. */
      if (self->bio_blocking)
        return g_output_stream_flush (g_io_stream_get_output_stream (self->base_stream),
                                      self->bio_cancellable, NULL);
      return 1;
    case BIO_CTRL_EOF:
      /* OpenSSL asks this to tell the end of the stream from an error. */
      return self->bio_eof;
    default:
      return 0;
    }
}

static int
bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static int
bio_destroy (BIO *bio)
{
  return 1;
}

static BIO_METHOD *
bio_method (void)
{
  static BIO_METHOD *method = NULL;

  if (g_once_init_enter (&method))
    {
      BIO_METHOD *m
          = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "libmailkit GIOStream");

      BIO_meth_set_write_ex (m, bio_write);
      BIO_meth_set_read_ex (m, bio_read);
      BIO_meth_set_ctrl (m, bio_ctrl);
      BIO_meth_set_create (m, bio_create);
      BIO_meth_set_destroy (m, bio_destroy);
      g_once_init_leave (&method, m);
    }
  return method;
}

/* The ServerHello's version is known before OpenSSL refuses it: kept to
 * say which version a server that is too old offered. */
static void
on_message (int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
            void *arg)
{
  MkTlsStream *self = arg;
  const guint8 *bytes = buf;

  if (!write_p && content_type == SSL3_RT_HANDSHAKE && len >= 6 && bytes[0] == SSL3_MT_SERVER_HELLO)
    self->server_version = bytes[4] << 8 | bytes[5];
}

static char *
version_name (int version)
{
  switch (version)
    {
    case SSL3_VERSION:
      return g_strdup ("SSL 3.0");
    case TLS1_VERSION:
      return g_strdup ("TLS 1.0");
    case TLS1_1_VERSION:
      return g_strdup ("TLS 1.1");
    case TLS1_2_VERSION:
      return g_strdup ("TLS 1.2");
    case TLS1_3_VERSION:
      return g_strdup ("TLS 1.3");
    default:
      return g_strdup_printf ("version 0x%04x", (unsigned)version);
    }
}

/* Names from a certificate for a message, with anything unprintable
 * replaced: the certificate comes from the peer. */
static void
append_printable (GString *out, const guint8 *data, gsize length)
{
  if (out->len > 0)
    g_string_append (out, ", ");
  for (gsize i = 0; i < length; i++)
    g_string_append_c (out, g_ascii_isprint (data[i]) ? (char)data[i] : '?');
}

static char *
certificate_names (X509 *certificate)
{
  GString *names = g_string_new (NULL);
  GENERAL_NAMES *alt_names;

  if (certificate == NULL)
    return g_string_free (names, FALSE);

  alt_names = X509_get_ext_d2i (certificate, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; alt_names != NULL && i < sk_GENERAL_NAME_num (alt_names); i++)
    {
      const GENERAL_NAME *name = sk_GENERAL_NAME_value (alt_names, i);

      if (name->type == GEN_DNS)
        append_printable (names, ASN1_STRING_get0_data (name->d.dNSName),
                          ASN1_STRING_length (name->d.dNSName));
      else if (name->type == GEN_IPADD)
        {
          int length = ASN1_STRING_length (name->d.iPAddress);
          g_autoptr (GInetAddress) address = NULL;
          g_autofree char *text = NULL;

          if (length != 4 && length != 16)
            continue;
          address = g_inet_address_new_from_bytes (ASN1_STRING_get0_data (name->d.iPAddress),
                                                   length == 4 ? G_SOCKET_FAMILY_IPV4
                                                               : G_SOCKET_FAMILY_IPV6);
          text = g_inet_address_to_string (address);
          append_printable (names, (const guint8 *)text, strlen (text));
        }
    }
  GENERAL_NAMES_free (alt_names);

  if (names->len == 0)
    {
      char common_name[256];
      int length = X509_NAME_get_text_by_NID (X509_get_subject_name (certificate), NID_commonName,
                                              common_name, sizeof common_name);

      if (length > 0)
        append_printable (names, (const guint8 *)common_name, length);
    }
  return g_string_free (names, FALSE);
}

static X509 *
peer_leaf (MkTlsStream *self)
{
  /* On a client the chain starts with the server's own certificate, and is
   * kept even when verification refused it. */
  STACK_OF (X509) *chain = SSL_get_peer_cert_chain (self->ssl);

  return chain != NULL && sk_X509_num (chain) > 0 ? sk_X509_value (chain, 0) : NULL;
}

static void
set_verify_error (MkTlsStream *self, long result, GError **error)
{
  const char *host = self->server_name;
  X509 *leaf = peer_leaf (self);

  switch (result)
    {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   "The certificate for %s has expired", host);
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   "The certificate for %s is not valid yet", host);
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      {
        g_autofree char *names = certificate_names (leaf);

        g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                     "The certificate is for %s, not %s", *names ? names : "no name", host);
      }
      break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   "The certificate for %s is self-signed and not trusted", host);
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      {
        g_autofree char *issuer = NULL;
        g_autoptr (GString) printable = g_string_new (NULL);

        if (leaf != NULL)
          issuer = X509_NAME_oneline (X509_get_issuer_name (leaf), NULL, 0);
        if (issuer != NULL)
          append_printable (printable, (const guint8 *)issuer, strlen (issuer));
        g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                     "The certificate for %s is signed by an unknown authority (%s)", host,
                     printable->len > 0 ? printable->str : "unnamed");
        /* X509_NAME_oneline() allocates with OpenSSL's allocator. */
        OPENSSL_free (g_steal_pointer (&issuer));
      }
      break;
    default:
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   "The certificate for %s was refused: %s", host,
                   X509_verify_cert_error_string (result));
    }
}

/* Why the handshake failed, from what the BIO, verification and OpenSSL's
 * error queue recorded. Called under the lock, right after the failure. */
static void
set_handshake_error (MkTlsStream *self, int code, GError **error)
{
  unsigned long last = ERR_peek_last_error ();
  int reason = ERR_GET_LIB (last) == ERR_LIB_SSL ? ERR_GET_REASON (last) : 0;
  long verify_result = SSL_get_verify_result (self->ssl);
  int min_version = SSL_get_min_proto_version (self->ssl);
  const char *host = self->server_name;

  if (self->bio_error != NULL)
    g_propagate_error (error, g_steal_pointer (&self->bio_error));
  else if (mk_tls_policy_get_authentication (self->policy) == MK_TLS_AUTHENTICATION_VERIFY
           && verify_result != X509_V_OK)
    set_verify_error (self, verify_result, error);
  else if (self->server_version != 0 && self->server_version < min_version)
    {
      g_autofree char *offered = version_name (self->server_version);
      g_autofree char *required = version_name (min_version);

      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE,
                   "%s offers only %s; %s or newer is required", host, offered, required);
    }
  else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION
           || reason == SSL_R_NO_PROTOCOLS_AVAILABLE)
    {
      g_autofree char *required = version_name (min_version);

      /* A server that knows TLS 1.3's version negotiation answers with an
       * alert rather than its own ServerHello, which would name its
       * version. */
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE,
                   "%s speaks only TLS versions older than %s, which are refused", host, required);
    }
  else if (code == SSL_ERROR_ZERO_RETURN || self->bio_eof)
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_EOF,
                 "%s closed the connection during the TLS handshake", host);
  else if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG
           || reason == SSL_R_RECORD_LENGTH_MISMATCH || reason == SSL_R_HTTP_REQUEST)
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS, "%s did not answer in TLS", host);
  else if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED,
                 "%s requires a client certificate", host);
  else
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE, "The TLS handshake with %s failed: %s",
                 host, last != 0 ? ERR_reason_error_string (last) : "no reason given");
}

/* Runs one OpenSSL operation once. Returns the bytes read or written (0 at
 * the end of the stream), or -1 with an error: G_IO_ERROR_WOULD_BLOCK when
 * not @blocking and the base stream must first become ready for *@wants. */
static gssize
tls_op (MkTlsStream *self, TlsOp op, void *buffer, gsize size, gboolean blocking,
        GCancellable *cancellable, GIOCondition *wants, GError **error)
{
  size_t done = 0;
  gssize result = -1;
  int ret = 0;
  int code;

  g_mutex_lock (&self->lock);
  self->bio_blocking = blocking || !self->pollable;
  self->bio_cancellable = cancellable;
  g_clear_error (&self->bio_error);
  ERR_clear_error ();

  switch (op)
    {
    case OP_HANDSHAKE:
      ret = SSL_do_handshake (self->ssl);
      break;
    case OP_READ:
      ret = SSL_read_ex (self->ssl, buffer, size, &done);
      break;
    case OP_WRITE:
      ret = SSL_write_ex (self->ssl, buffer, size, &done);
      break;
    case OP_SHUTDOWN:
      /* 0 means close_notify went out and the peer's has not come: as far
       * as we wait. */
      ret = SSL_shutdown (self->ssl) >= 0 ? 1 : -1;
      break;
    }
  self->bio_cancellable = NULL;

  if (ret > 0)
    {
      result = done;
      goto out;
    }

  code = SSL_get_error (self->ssl, ret);
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
    {
      *wants = code == SSL_ERROR_WANT_READ ? G_IO_IN : G_IO_OUT;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "Operation would block");
    }
  else if (op == OP_HANDSHAKE)
    set_handshake_error (self, code, error);
  else if (self->bio_error != NULL)
    g_propagate_error (error, g_steal_pointer (&self->bio_error));
  else if (op == OP_READ && (code == SSL_ERROR_ZERO_RETURN || self->bio_eof))
    result = 0;
  else if (code == SSL_ERROR_ZERO_RETURN)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "%s closed the TLS connection",
                 self->server_name);
  else
    {
      unsigned long last = ERR_peek_last_error ();

      /* In TLS 1.3 a server judges the client's certificate after the
       * client's handshake is over: its refusal comes with a later read. */
      if (ERR_GET_LIB (last) == ERR_LIB_SSL
          && ERR_GET_REASON (last) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
        g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED,
                     "%s requires a client certificate", self->server_name);
      else
        g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC, "TLS error with %s: %s",
                     self->server_name, last != 0 ? ERR_reason_error_string (last) : "unknown");
    }

out:
  ERR_clear_error ();
  g_mutex_unlock (&self->lock);
  return result;
}

/* tls_op() until it is done, waiting for the base stream in between, no
 * longer than @deadline. */
static gssize
tls_op_until (MkTlsStream *self, TlsOp op, void *buffer, gsize size, gint64 deadline,
              GCancellable *cancellable, GIOCondition *last_wants, GError **error)
{
  if (!self->pollable)
    return tls_op (self, op, buffer, size, TRUE, cancellable, last_wants, error);

  /* Each turn makes progress or waits; the wait ends by the deadline. */
  for (;;)
    {
      g_autoptr (GError) local_error = NULL;
      GIOCondition wants = G_IO_IN;
      GObject *base;
      gssize n;

      n = tls_op (self, op, buffer, size, FALSE, cancellable, &wants, &local_error);
      *last_wants = wants;
      if (n >= 0)
        return n;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }
      base = wants == G_IO_IN ? G_OBJECT (g_io_stream_get_input_stream (self->base_stream))
                              : G_OBJECT (g_io_stream_get_output_stream (self->base_stream));
      if (!mk_net_wait (base, wants, deadline, cancellable, error))
        return -1;
    }
}

static gboolean
check_handshake_done (MkTlsStream *self, GError **error)
{
  if (self->handshake_done)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
               "No successful TLS handshake with %s yet", self->server_name);
  return FALSE;
}

gssize
mk_tls_stream_read (MkTlsStream *self, void *buffer, gsize size, gboolean blocking,
                    GCancellable *cancellable, GError **error)
{
  if (!check_handshake_done (self, error))
    return -1;
  if (blocking)
    return tls_op_until (self, OP_READ, buffer, size, MK_NET_DEADLINE_NONE, cancellable,
                         &self->read_wants, error);
  return tls_op (self, OP_READ, buffer, size, FALSE, cancellable, &self->read_wants, error);
}

gssize
mk_tls_stream_write (MkTlsStream *self, const void *buffer, gsize size, gboolean blocking,
                     GCancellable *cancellable, GError **error)
{
  if (!check_handshake_done (self, error))
    return -1;
  if (blocking)
    return tls_op_until (self, OP_WRITE, (void *)buffer, size, MK_NET_DEADLINE_NONE, cancellable,
                         &self->write_wants, error);
  return tls_op (self, OP_WRITE, (void *)buffer, size, FALSE, cancellable, &self->write_wants,
                 error);
}

gboolean
mk_tls_stream_can_poll (MkTlsStream *self)
{
  return self->pollable;
}

gboolean
mk_tls_stream_is_ready (MkTlsStream *self, GIOCondition condition)
{
  GIOCondition wants = condition == G_IO_IN ? self->read_wants : self->write_wants;
  gboolean pending;

  g_mutex_lock (&self->lock);
  pending = condition == G_IO_IN && SSL_has_pending (self->ssl);
  g_mutex_unlock (&self->lock);
  if (pending)
    return TRUE;
  if (wants == G_IO_OUT)
    return g_pollable_output_stream_is_writable (
        G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (self->base_stream)));
  return g_pollable_input_stream_is_readable (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (self->base_stream)));
}

GSource *
mk_tls_stream_create_base_source (MkTlsStream *self, GIOCondition condition)
{
  GIOCondition wants = condition == G_IO_IN ? self->read_wants : self->write_wants;
  gboolean pending;

  g_mutex_lock (&self->lock);
  pending = condition == G_IO_IN && SSL_has_pending (self->ssl);
  g_mutex_unlock (&self->lock);
  /* Decrypted bytes are waiting: ready now, whatever the socket says. */
  if (pending)
    return g_timeout_source_new (0);
  if (wants == G_IO_OUT)
    return g_pollable_output_stream_create_source (
        G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (self->base_stream)), NULL);
  return g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (self->base_stream)), NULL);
}

gboolean
mk_tls_stream_handshake_until (MkTlsStream *self, gint64 deadline, GCancellable *cancellable,
                               GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GIOCondition wants = G_IO_IN;

  if (self->handshake_done)
    return TRUE;

  if (tls_op_until (self, OP_HANDSHAKE, NULL, 0, deadline, cancellable, &wants, &local_error) < 0)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                     "The TLS handshake with %s did not finish in time", self->server_name);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (mk_tls_policy_get_authentication (self->policy) == MK_TLS_AUTHENTICATION_PIN
      && !mk_tls_policy_check_pin (self->policy, SSL_get0_peer_certificate (self->ssl),
                                   self->server_name, error))
    return FALSE;

  self->handshake_done = TRUE;
  return TRUE;
}

/**
 * mk_tls_stream_handshake:
 * @stream: a #MkTlsStream
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs the TLS handshake and authenticates the server as the stream's
 * policy says. Calling it again after it succeeded does nothing.
 *
 * Errors: %G_TLS_ERROR (see #MkTlsStream), %G_IO_ERROR from the base
 * stream, %G_IO_ERROR_CANCELLED.
 *
 * Returns: %TRUE when the connection is encrypted and the server accepted
 *
 * Since: 0.1
 */
gboolean
mk_tls_stream_handshake (MkTlsStream *stream, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MK_IS_TLS_STREAM (stream), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return mk_tls_stream_handshake_until (stream, MK_NET_DEADLINE_NONE, cancellable, error);
}

static void
handshake_thread (GTask *task, gpointer source_object, gpointer task_data,
                  GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean done = mk_tls_stream_handshake (source_object, cancellable, &error);

  mk_net_release_thread_state ();
  if (done)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * mk_tls_stream_handshake_async:
 * @stream: a #MkTlsStream
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called on the caller's thread-default main
 *   context when the handshake is over
 * @user_data: data for @callback
 *
 * Starts mk_tls_stream_handshake() in a worker thread.
 *
 * Since: 0.1
 */
void
mk_tls_stream_handshake_async (MkTlsStream *stream, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (MK_IS_TLS_STREAM (stream));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (stream, cancellable, callback, user_data);
  g_task_set_source_tag (task, mk_tls_stream_handshake_async);
  g_task_run_in_thread (task, handshake_thread);
}

/**
 * mk_tls_stream_handshake_finish:
 * @stream: a #MkTlsStream
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes mk_tls_stream_handshake_async().
 *
 * Errors: as mk_tls_stream_handshake().
 *
 * Returns: %TRUE when the connection is encrypted and the server accepted
 *
 * Since: 0.1
 */
gboolean
mk_tls_stream_handshake_finish (MkTlsStream *stream, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (MK_IS_TLS_STREAM (stream), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mk_tls_stream_handshake_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * mk_tls_stream_get_base_stream:
 * @stream: a #MkTlsStream
 *
 * Gets the stream TLS runs over.
 *
 * Returns: (transfer none): the stream TLS runs over
 *
 * Since: 0.1
 */
GIOStream *
mk_tls_stream_get_base_stream (MkTlsStream *stream)
{
  g_return_val_if_fail (MK_IS_TLS_STREAM (stream), NULL);
  return stream->base_stream;
}

/**
 * mk_tls_stream_get_server_name:
 * @stream: a #MkTlsStream
 *
 * Gets the name the server was authenticated as.
 *
 * Returns: the name the server's certificate is checked against
 *
 * Since: 0.1
 */
const char *
mk_tls_stream_get_server_name (MkTlsStream *stream)
{
  g_return_val_if_fail (MK_IS_TLS_STREAM (stream), NULL);
  return stream->server_name;
}

/**
 * mk_tls_stream_get_policy:
 * @stream: a #MkTlsStream
 *
 * Gets the policy the stream was made with.
 *
 * Returns: (transfer none): the policy the server is authenticated with
 *
 * Since: 0.1
 */
MkTlsPolicy *
mk_tls_stream_get_policy (MkTlsStream *stream)
{
  g_return_val_if_fail (MK_IS_TLS_STREAM (stream), NULL);
  return stream->policy;
}

/**
 * mk_tls_stream_get_protocol_version:
 * @stream: a #MkTlsStream
 *
 * Gets the TLS version the handshake agreed on.
 *
 * Returns: (nullable): the TLS version agreed, such as "TLSv1.3", or
 *   %NULL before a successful handshake
 *
 * Since: 0.1
 */
const char *
mk_tls_stream_get_protocol_version (MkTlsStream *stream)
{
  g_return_val_if_fail (MK_IS_TLS_STREAM (stream), NULL);
  return stream->handshake_done ? SSL_get_version (stream->ssl) : NULL;
}

/**
 * mk_tls_stream_new:
 * @base_stream: the connection to run TLS over
 * @policy: (nullable): how to authenticate the server; %NULL for the
 *   defaults of mk_tls_policy_new()
 * @server_name: the server's host name or IP address, as the user gave it
 *   (not a name found through DNS): its certificate is checked against it
 * @error: return location for a #GError
 *
 * Prepares a TLS client over @base_stream; nothing is sent before
 * mk_tls_stream_handshake(). A DNS name is sent as SNI; an IP address (in
 * brackets or not) is checked against the certificate's IP addresses and
 * sends no SNI.
 *
 * Errors: those of the policy's files (%G_TLS_ERROR_MISC naming the file),
 * %G_IO_ERROR_INVALID_ARGUMENT for a pin in no known form or an unusable
 * server name.
 *
 * Returns: (transfer full): a new #MkTlsStream, or %NULL on error
 *
 * Since: 0.1
 */
MkTlsStream *
mk_tls_stream_new (GIOStream *base_stream, MkTlsPolicy *policy, const char *server_name,
                   GError **error)
{
  g_return_val_if_fail (G_IS_IO_STREAM (base_stream), NULL);
  g_return_val_if_fail (policy == NULL || MK_IS_TLS_POLICY (policy), NULL);
  g_return_val_if_fail (server_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  mk_init ();
  return g_initable_new (MK_TYPE_TLS_STREAM, NULL, error, "base-stream", base_stream, "policy",
                         policy, "server-name", server_name, NULL);
}

static gboolean
mk_tls_stream_initable_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  MkTlsStream *self = MK_TLS_STREAM (initable);
  MkTlsAuthentication authentication;
  GInputStream *in = g_io_stream_get_input_stream (self->base_stream);
  GOutputStream *out = g_io_stream_get_output_stream (self->base_stream);
  g_autofree char *name = NULL;
  gsize length = strlen (self->server_name);
  SSL_CTX *context;
  BIO *bio;

  if (self->policy == NULL)
    self->policy = mk_tls_policy_new ();
  authentication = mk_tls_policy_get_authentication (self->policy);

  context = mk_tls_policy_get_context (self->policy, error);
  if (context == NULL)
    return FALSE;
  self->ssl = SSL_new (context);
  SSL_CTX_free (context);
  if (self->ssl == NULL)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC, "Cannot create a TLS session");
      return FALSE;
    }

  bio = BIO_new (bio_method ());
  BIO_set_data (bio, self);
  SSL_set_bio (self->ssl, bio, bio);
  SSL_set_connect_state (self->ssl);
  SSL_set_msg_callback (self->ssl, on_message);
  SSL_set_msg_callback_arg (self->ssl, self);

  if (length > 2 && self->server_name[0] == '[' && self->server_name[length - 1] == ']')
    name = g_strndup (self->server_name + 1, length - 2);
  else
    name = g_strdup (self->server_name);

  /* RFC 6066 §3: SNI carries DNS names only, never an IP address. */
  if (g_hostname_is_ip_address (name))
    {
      if (authentication == MK_TLS_AUTHENTICATION_VERIFY
          && !X509_VERIFY_PARAM_set1_ip_asc (SSL_get0_param (self->ssl), name))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Cannot check a certificate against the address %s", name);
          return FALSE;
        }
    }
  else
    {
      if (!SSL_set_tlsext_host_name (self->ssl, name)
          || (authentication == MK_TLS_AUTHENTICATION_VERIFY && !SSL_set1_host (self->ssl, name)))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Cannot use “%s” as a TLS server name", name);
          return FALSE;
        }
      SSL_set_hostflags (self->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }

  self->pollable = G_IS_POLLABLE_INPUT_STREAM (in)
                   && g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in))
                   && G_IS_POLLABLE_OUTPUT_STREAM (out)
                   && g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (out));
  self->input_stream = mk_tls_input_stream_new (self);
  self->output_stream = mk_tls_output_stream_new (self);
  return TRUE;
}

static void
mk_tls_stream_initable_iface_init (GInitableIface *iface)
{
  iface->init = mk_tls_stream_initable_init;
}

static GInputStream *
mk_tls_stream_get_input_stream (GIOStream *stream)
{
  return MK_TLS_STREAM (stream)->input_stream;
}

static GOutputStream *
mk_tls_stream_get_output_stream (GIOStream *stream)
{
  return MK_TLS_STREAM (stream)->output_stream;
}

static gboolean
mk_tls_stream_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  MkTlsStream *self = MK_TLS_STREAM (stream);

  /* A stream that failed to initialise is closed when it is dropped: it
   * has nothing of its own to close, and the base is still the caller's. */
  if (self->input_stream == NULL)
    return TRUE;

  /* close_notify, once, without waiting: a peer that is gone or does not
   * read must not hold up the close. Its failure changes nothing. */
  if (self->handshake_done)
    {
      GIOCondition wants;

      tls_op (self, OP_SHUTDOWN, NULL, 0, FALSE, cancellable, &wants, NULL);
    }

  if (!G_IO_STREAM_CLASS (mk_tls_stream_parent_class)->close_fn (stream, cancellable, error))
    return FALSE;
  return g_io_stream_close (self->base_stream, cancellable, error);
}

static void
mk_tls_stream_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MkTlsStream *self = MK_TLS_STREAM (object);

  switch (prop_id)
    {
    case PROP_BASE_STREAM:
      g_value_set_object (value, self->base_stream);
      break;
    case PROP_POLICY:
      g_value_set_object (value, self->policy);
      break;
    case PROP_SERVER_NAME:
      g_value_set_string (value, self->server_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mk_tls_stream_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MkTlsStream *self = MK_TLS_STREAM (object);

  switch (prop_id)
    {
    case PROP_BASE_STREAM:
      self->base_stream = g_value_dup_object (value);
      break;
    case PROP_POLICY:
      self->policy = g_value_dup_object (value);
      break;
    case PROP_SERVER_NAME:
      self->server_name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mk_tls_stream_finalize (GObject *object)
{
  MkTlsStream *self = MK_TLS_STREAM (object);

  g_clear_object (&self->input_stream);
  g_clear_object (&self->output_stream);
  SSL_free (self->ssl);
  g_clear_error (&self->bio_error);
  g_mutex_clear (&self->lock);
  g_clear_object (&self->base_stream);
  g_clear_object (&self->policy);
  g_free (self->server_name);

  G_OBJECT_CLASS (mk_tls_stream_parent_class)->finalize (object);
}

static void
mk_tls_stream_class_init (MkTlsStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = mk_tls_stream_get_property;
  object_class->set_property = mk_tls_stream_set_property;
  object_class->finalize = mk_tls_stream_finalize;
  stream_class->get_input_stream = mk_tls_stream_get_input_stream;
  stream_class->get_output_stream = mk_tls_stream_get_output_stream;
  stream_class->close_fn = mk_tls_stream_close;

  /**
   * MkTlsStream:base-stream:
   *
   * The stream TLS runs over. Closing the #MkTlsStream closes it.
   *
   * Since: 0.1
   */
  properties[PROP_BASE_STREAM]
      = g_param_spec_object ("base-stream", NULL, NULL, G_TYPE_IO_STREAM, flags);

  /**
   * MkTlsStream:policy:
   *
   * How the server is authenticated.
   *
   * Since: 0.1
   */
  properties[PROP_POLICY] = g_param_spec_object ("policy", NULL, NULL, MK_TYPE_TLS_POLICY, flags);

  /**
   * MkTlsStream:server-name:
   *
   * The name (or IP address) the server's certificate must carry.
   *
   * Since: 0.1
   */
  properties[PROP_SERVER_NAME] = g_param_spec_string ("server-name", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mk_tls_stream_init (MkTlsStream *self)
{
  g_mutex_init (&self->lock);
  self->read_wants = G_IO_IN;
  self->write_wants = G_IO_OUT;
}
