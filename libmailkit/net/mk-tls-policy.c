/* mk-tls-policy.c: how a TLS server is authenticated
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "mk-enum-types.h"
#include "mk-init.h"
#include "mk-tls-policy-private.h"

/**
 * MkTlsPolicy:
 *
 * How a TLS connection authenticates the server, and what it offers of its
 * own. The defaults are safe: the system's trust store, the certificate
 * chain, its validity dates and the server name all verified, TLS 1.2 or
 * newer (set by the library, whatever the system's OpenSSL configuration
 * says). The server name is checked as a DNS name with
 * `X509_VERIFY_PARAM_set1_host()` and sent as SNI; an IP address is checked
 * against the certificate's IP addresses and no SNI is sent.
 *
 * Setting [property@TlsPolicy:pin-sha256] authenticates the server by its
 * key alone; [property@TlsPolicy:insecure-skip-verify] turns authentication
 * off.
 *
 * A policy may be shared by connections in several threads once it is set
 * up; change its properties from one thread only.
 *
 * Since: 0.1
 */
struct _MkTlsPolicy
{
  GObject parent_instance;

  char *ca_file;
  char *ca_path;
  char *client_certificate;
  char *client_key;
  char *pin_sha256;
  gboolean insecure_skip_verify;
  MkTlsVersion min_version;

  /* The context built from the above, under lock: connections in other
   * threads may ask for it. */
  GMutex lock;
  SSL_CTX *context;
};

G_DEFINE_FINAL_TYPE (MkTlsPolicy, mk_tls_policy, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CA_FILE,
  PROP_CA_PATH,
  PROP_CLIENT_CERTIFICATE,
  PROP_CLIENT_KEY,
  PROP_PIN_SHA256,
  PROP_INSECURE_SKIP_VERIFY,
  PROP_MIN_VERSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mk_tls_policy_finalize (GObject *object)
{
  MkTlsPolicy *self = MK_TLS_POLICY (object);

  g_free (self->ca_file);
  g_free (self->ca_path);
  g_free (self->client_certificate);
  g_free (self->client_key);
  g_free (self->pin_sha256);
  SSL_CTX_free (self->context);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (mk_tls_policy_parent_class)->finalize (object);
}

static void
mk_tls_policy_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MkTlsPolicy *self = MK_TLS_POLICY (object);

  switch (prop_id)
    {
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_CA_PATH:
      g_value_set_string (value, self->ca_path);
      break;
    case PROP_CLIENT_CERTIFICATE:
      g_value_set_string (value, self->client_certificate);
      break;
    case PROP_CLIENT_KEY:
      g_value_set_string (value, self->client_key);
      break;
    case PROP_PIN_SHA256:
      g_value_set_string (value, self->pin_sha256);
      break;
    case PROP_INSECURE_SKIP_VERIFY:
      g_value_set_boolean (value, self->insecure_skip_verify);
      break;
    case PROP_MIN_VERSION:
      g_value_set_enum (value, self->min_version);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Every property feeds the context: drop it, the next connection builds a
 * new one. */
static void
invalidate (MkTlsPolicy *self)
{
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->context, SSL_CTX_free);
  g_mutex_unlock (&self->lock);
}

static void
set_string (MkTlsPolicy *self, char **field, const char *value, guint prop_id)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
mk_tls_policy_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MkTlsPolicy *self = MK_TLS_POLICY (object);

  switch (prop_id)
    {
    case PROP_CA_FILE:
      mk_tls_policy_set_ca_file (self, g_value_get_string (value));
      break;
    case PROP_CA_PATH:
      mk_tls_policy_set_ca_path (self, g_value_get_string (value));
      break;
    case PROP_CLIENT_CERTIFICATE:
      mk_tls_policy_set_client_certificate (self, g_value_get_string (value));
      break;
    case PROP_CLIENT_KEY:
      mk_tls_policy_set_client_key (self, g_value_get_string (value));
      break;
    case PROP_PIN_SHA256:
      mk_tls_policy_set_pin_sha256 (self, g_value_get_string (value));
      break;
    case PROP_INSECURE_SKIP_VERIFY:
      mk_tls_policy_set_insecure_skip_verify (self, g_value_get_boolean (value));
      break;
    case PROP_MIN_VERSION:
      mk_tls_policy_set_min_version (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mk_tls_policy_class_init (MkTlsPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mk_tls_policy_finalize;
  object_class->get_property = mk_tls_policy_get_property;
  object_class->set_property = mk_tls_policy_set_property;

  /**
   * MkTlsPolicy:ca-file:
   *
   * A PEM file of the certificate authorities to trust instead of the
   * system's trust store, or %NULL.
   *
   * Since: 0.1
   */
  properties[PROP_CA_FILE] = g_param_spec_string ("ca-file", NULL, NULL, NULL, flags);

  /**
   * MkTlsPolicy:ca-path:
   *
   * A folder of hashed certificate authority files (as made by
   * `openssl rehash`) to trust instead of the system's trust store, or
   * %NULL. May be combined with [property@TlsPolicy:ca-file].
   *
   * Since: 0.1
   */
  properties[PROP_CA_PATH] = g_param_spec_string ("ca-path", NULL, NULL, NULL, flags);

  /**
   * MkTlsPolicy:client-certificate:
   *
   * A PEM file with the client's certificate (and any intermediate
   * certificates after it) to present when the server asks, or %NULL.
   *
   * Since: 0.1
   */
  properties[PROP_CLIENT_CERTIFICATE]
      = g_param_spec_string ("client-certificate", NULL, NULL, NULL, flags);

  /**
   * MkTlsPolicy:client-key:
   *
   * The PEM file of the private key of
   * [property@TlsPolicy:client-certificate]; %NULL when the key is in the
   * certificate's file.
   *
   * Since: 0.1
   */
  properties[PROP_CLIENT_KEY] = g_param_spec_string ("client-key", NULL, NULL, NULL, flags);

  /**
   * MkTlsPolicy:pin-sha256:
   *
   * The server's expected key, or %NULL. Either the SHA-256 digest of its
   * public key (SubjectPublicKeyInfo) in base64, optionally written
   * `sha256//…` as curl's `--pinnedpubkey` and HPKP do; or the SHA-256
   * fingerprint of its certificate in hex, with or without colons
   * (`openssl x509 -fingerprint -sha256`), optionally after `sha256:`.
   *
   * When set, the server is authenticated by this pin alone: the chain,
   * the validity dates and the name are not checked (as msmtp's
   * `tls_fingerprint`), so a self-signed certificate can be trusted.
   *
   * Since: 0.1
   */
  properties[PROP_PIN_SHA256] = g_param_spec_string ("pin-sha256", NULL, NULL, NULL, flags);

  /**
   * MkTlsPolicy:insecure-skip-verify:
   *
   * INSECURE: accept any certificate from anyone. The connection is
   * encrypted but anyone between the client and the server can read and
   * change it, credentials included. For tests only.
   *
   * Since: 0.1
   */
  properties[PROP_INSECURE_SKIP_VERIFY]
      = g_param_spec_boolean ("insecure-skip-verify", NULL, NULL, FALSE, flags);

  /**
   * MkTlsPolicy:min-version:
   *
   * The oldest TLS version accepted. TLS 1.0 and 1.1 are never accepted
   * (RFC 8996).
   *
   * Since: 0.1
   */
  properties[PROP_MIN_VERSION] = g_param_spec_enum ("min-version", NULL, NULL, MK_TYPE_TLS_VERSION,
                                                    MK_TLS_VERSION_1_2, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mk_tls_policy_init (MkTlsPolicy *self)
{
  g_mutex_init (&self->lock);
  self->min_version = MK_TLS_VERSION_1_2;
}

/**
 * mk_tls_policy_new:
 *
 * Creates a policy with the safe defaults: the system trust store, full
 * verification, TLS 1.2 or newer.
 *
 * Returns: (transfer full): a new #MkTlsPolicy
 *
 * Since: 0.1
 */
MkTlsPolicy *
mk_tls_policy_new (void)
{
  mk_init ();
  return g_object_new (MK_TYPE_TLS_POLICY, NULL);
}

/**
 * mk_tls_policy_get_ca_file:
 * @policy: a #MkTlsPolicy
 *
 * Gets [property@TlsPolicy:ca-file].
 *
 * Returns: (nullable): the value of [property@TlsPolicy:ca-file]
 *
 * Since: 0.1
 */
const char *
mk_tls_policy_get_ca_file (MkTlsPolicy *policy)
{
  g_return_val_if_fail (MK_IS_TLS_POLICY (policy), NULL);
  return policy->ca_file;
}

/**
 * mk_tls_policy_set_ca_file:
 * @policy: a #MkTlsPolicy
 * @ca_file: (nullable) (type filename): a PEM file of trusted authorities
 *
 * Sets [property@TlsPolicy:ca-file].
 *
 * Since: 0.1
 */
void
mk_tls_policy_set_ca_file (MkTlsPolicy *policy, const char *ca_file)
{
  g_return_if_fail (MK_IS_TLS_POLICY (policy));
  set_string (policy, &policy->ca_file, ca_file, PROP_CA_FILE);
}

/**
 * mk_tls_policy_get_ca_path:
 * @policy: a #MkTlsPolicy
 *
 * Gets [property@TlsPolicy:ca-path].
 *
 * Returns: (nullable): the value of [property@TlsPolicy:ca-path]
 *
 * Since: 0.1
 */
const char *
mk_tls_policy_get_ca_path (MkTlsPolicy *policy)
{
  g_return_val_if_fail (MK_IS_TLS_POLICY (policy), NULL);
  return policy->ca_path;
}

/**
 * mk_tls_policy_set_ca_path:
 * @policy: a #MkTlsPolicy
 * @ca_path: (nullable) (type filename): a folder of hashed authority files
 *
 * Sets [property@TlsPolicy:ca-path].
 *
 * Since: 0.1
 */
void
mk_tls_policy_set_ca_path (MkTlsPolicy *policy, const char *ca_path)
{
  g_return_if_fail (MK_IS_TLS_POLICY (policy));
  set_string (policy, &policy->ca_path, ca_path, PROP_CA_PATH);
}

/**
 * mk_tls_policy_get_client_certificate:
 * @policy: a #MkTlsPolicy
 *
 * Gets [property@TlsPolicy:client-certificate].
 *
 * Returns: (nullable): the value of [property@TlsPolicy:client-certificate]
 *
 * Since: 0.1
 */
const char *
mk_tls_policy_get_client_certificate (MkTlsPolicy *policy)
{
  g_return_val_if_fail (MK_IS_TLS_POLICY (policy), NULL);
  return policy->client_certificate;
}

/**
 * mk_tls_policy_set_client_certificate:
 * @policy: a #MkTlsPolicy
 * @path: (nullable) (type filename): a PEM certificate file
 *
 * Sets [property@TlsPolicy:client-certificate].
 *
 * Since: 0.1
 */
void
mk_tls_policy_set_client_certificate (MkTlsPolicy *policy, const char *path)
{
  g_return_if_fail (MK_IS_TLS_POLICY (policy));
  set_string (policy, &policy->client_certificate, path, PROP_CLIENT_CERTIFICATE);
}

/**
 * mk_tls_policy_get_client_key:
 * @policy: a #MkTlsPolicy
 *
 * Gets [property@TlsPolicy:client-key].
 *
 * Returns: (nullable): the value of [property@TlsPolicy:client-key]
 *
 * Since: 0.1
 */
const char *
mk_tls_policy_get_client_key (MkTlsPolicy *policy)
{
  g_return_val_if_fail (MK_IS_TLS_POLICY (policy), NULL);
  return policy->client_key;
}

/**
 * mk_tls_policy_set_client_key:
 * @policy: a #MkTlsPolicy
 * @path: (nullable) (type filename): a PEM private key file
 *
 * Sets [property@TlsPolicy:client-key].
 *
 * Since: 0.1
 */
void
mk_tls_policy_set_client_key (MkTlsPolicy *policy, const char *path)
{
  g_return_if_fail (MK_IS_TLS_POLICY (policy));
  set_string (policy, &policy->client_key, path, PROP_CLIENT_KEY);
}

/**
 * mk_tls_policy_get_pin_sha256:
 * @policy: a #MkTlsPolicy
 *
 * Gets [property@TlsPolicy:pin-sha256].
 *
 * Returns: (nullable): the value of [property@TlsPolicy:pin-sha256]
 *
 * Since: 0.1
 */
const char *
mk_tls_policy_get_pin_sha256 (MkTlsPolicy *policy)
{
  g_return_val_if_fail (MK_IS_TLS_POLICY (policy), NULL);
  return policy->pin_sha256;
}

/**
 * mk_tls_policy_set_pin_sha256:
 * @policy: a #MkTlsPolicy
 * @pin: (nullable): the server's public key digest or certificate
 *   fingerprint, see [property@TlsPolicy:pin-sha256]
 *
 * Sets [property@TlsPolicy:pin-sha256]. A pin in no known form makes the
 * next connection fail with %G_IO_ERROR_INVALID_ARGUMENT.
 *
 * Since: 0.1
 */
void
mk_tls_policy_set_pin_sha256 (MkTlsPolicy *policy, const char *pin)
{
  g_return_if_fail (MK_IS_TLS_POLICY (policy));
  set_string (policy, &policy->pin_sha256, pin, PROP_PIN_SHA256);
}

/**
 * mk_tls_policy_get_insecure_skip_verify:
 * @policy: a #MkTlsPolicy
 *
 * Gets [property@TlsPolicy:insecure-skip-verify].
 *
 * Returns: the value of [property@TlsPolicy:insecure-skip-verify]
 *
 * Since: 0.1
 */
gboolean
mk_tls_policy_get_insecure_skip_verify (MkTlsPolicy *policy)
{
  g_return_val_if_fail (MK_IS_TLS_POLICY (policy), FALSE);
  return policy->insecure_skip_verify;
}

/**
 * mk_tls_policy_set_insecure_skip_verify:
 * @policy: a #MkTlsPolicy
 * @insecure_skip_verify: %TRUE to accept any server, INSECURELY
 *
 * Sets [property@TlsPolicy:insecure-skip-verify].
 *
 * Since: 0.1
 */
void
mk_tls_policy_set_insecure_skip_verify (MkTlsPolicy *policy, gboolean insecure_skip_verify)
{
  g_return_if_fail (MK_IS_TLS_POLICY (policy));
  insecure_skip_verify = !!insecure_skip_verify;
  if (policy->insecure_skip_verify == insecure_skip_verify)
    return;
  policy->insecure_skip_verify = insecure_skip_verify;
  invalidate (policy);
  g_object_notify_by_pspec (G_OBJECT (policy), properties[PROP_INSECURE_SKIP_VERIFY]);
}

/**
 * mk_tls_policy_get_min_version:
 * @policy: a #MkTlsPolicy
 *
 * Gets [property@TlsPolicy:min-version].
 *
 * Returns: the value of [property@TlsPolicy:min-version]
 *
 * Since: 0.1
 */
MkTlsVersion
mk_tls_policy_get_min_version (MkTlsPolicy *policy)
{
  g_return_val_if_fail (MK_IS_TLS_POLICY (policy), MK_TLS_VERSION_1_2);
  return policy->min_version;
}

/**
 * mk_tls_policy_set_min_version:
 * @policy: a #MkTlsPolicy
 * @version: the oldest TLS version to accept
 *
 * Sets [property@TlsPolicy:min-version].
 *
 * Since: 0.1
 */
void
mk_tls_policy_set_min_version (MkTlsPolicy *policy, MkTlsVersion version)
{
  g_return_if_fail (MK_IS_TLS_POLICY (policy));
  g_return_if_fail (version == MK_TLS_VERSION_1_2 || version == MK_TLS_VERSION_1_3);
  if (policy->min_version == version)
    return;
  policy->min_version = version;
  invalidate (policy);
  g_object_notify_by_pspec (G_OBJECT (policy), properties[PROP_MIN_VERSION]);
}

MkTlsAuthentication
mk_tls_policy_get_authentication (MkTlsPolicy *policy)
{
  if (policy->insecure_skip_verify)
    return MK_TLS_AUTHENTICATION_NONE;
  if (policy->pin_sha256 != NULL)
    return MK_TLS_AUTHENTICATION_PIN;
  return MK_TLS_AUTHENTICATION_VERIFY;
}

/* The reason OpenSSL gave for its last failure, for a message. */
static const char *
openssl_reason (void)
{
  unsigned long code = ERR_peek_last_error ();
  const char *reason = code != 0 ? ERR_reason_error_string (code) : NULL;

  return reason != NULL ? reason : "unknown error";
}

/* The pin forms of pin-sha256: 64 hex digits (colons between bytes
 * allowed) are a certificate fingerprint; 44 base64 characters decoding to
 * 32 bytes are a public key digest. */
static gboolean
parse_pin (const char *text, gboolean *is_certificate, guint8 digest[32], GError **error)
{
  const char *p = text;
  GString *hex = g_string_new (NULL);
  gboolean ok = FALSE;

  if (g_str_has_prefix (p, "sha256//"))
    p += strlen ("sha256//");
  else if (g_str_has_prefix (p, "sha256:"))
    p += strlen ("sha256:");

  for (const char *c = p; *c != '\0'; c++)
    if (*c != ':')
      g_string_append_c (hex, *c);

  if (hex->len == 64 && strspn (hex->str, "0123456789abcdefABCDEF") == 64)
    {
      for (int i = 0; i < 32; i++)
        digest[i] = g_ascii_xdigit_value (hex->str[2 * i]) << 4
                    | g_ascii_xdigit_value (hex->str[2 * i + 1]);
      *is_certificate = TRUE;
      ok = TRUE;
    }
  else if (strlen (p) == 44
           && strspn (p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == 44)
    {
      gsize length = 0;
      g_autofree guint8 *decoded = g_base64_decode (p, &length);

      if (length == 32)
        {
          memcpy (digest, decoded, 32);
          *is_certificate = FALSE;
          ok = TRUE;
        }
    }
  g_string_free (hex, TRUE);

  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "The pin “%s” is neither a base64 SHA-256 public key digest nor a hex SHA-256 "
                 "certificate fingerprint",
                 text);
  return ok;
}

static SSL_CTX *
build_context (MkTlsPolicy *self, GError **error)
{
  SSL_CTX *context = SSL_CTX_new (TLS_client_method ());
  const char *key;

  if (context == NULL)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC, "Cannot create a TLS context: %s",
                   openssl_reason ());
      return NULL;
    }

  /* Set here, not left to the system's openssl.cnf (RFC 8996 retires TLS
   * 1.0 and 1.1). */
  SSL_CTX_set_min_proto_version (context, self->min_version == MK_TLS_VERSION_1_3 ? TLS1_3_VERSION
                                                                                  : TLS1_2_VERSION);
  /* A TCP close without close_notify reads as the end of the stream: SMTP
   * frames its own data (replies, the final "."), so a truncation is seen
   * there, and many servers close without close_notify after QUIT. */
  SSL_CTX_set_options (context, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION
                                    | SSL_OP_NO_COMPRESSION);
  /* Non-blocking GIO callers may retry a write from another buffer address
   * holding the same bytes. */
  SSL_CTX_set_mode (context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  if (self->ca_file != NULL || self->ca_path != NULL)
    {
      if (!SSL_CTX_load_verify_locations (context, self->ca_file, self->ca_path))
        {
          g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC,
                       "Cannot use the trusted certificates in %s: %s",
                       self->ca_file != NULL ? self->ca_file : self->ca_path, openssl_reason ());
          goto fail;
        }
    }
  else if (!SSL_CTX_set_default_verify_paths (context))
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC,
                   "Cannot use the system's trusted certificates: %s", openssl_reason ());
      goto fail;
    }

  key = self->client_key != NULL ? self->client_key : self->client_certificate;
  if (self->client_certificate != NULL
      && (SSL_CTX_use_certificate_chain_file (context, self->client_certificate) != 1
          || SSL_CTX_use_PrivateKey_file (context, key, SSL_FILETYPE_PEM) != 1
          || SSL_CTX_check_private_key (context) != 1))
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC,
                   "Cannot use the client certificate %s with the key %s: %s",
                   self->client_certificate, key, openssl_reason ());
      goto fail;
    }

  /* The pin is checked after the handshake (mk_tls_policy_check_pin), so
   * only full verification asks OpenSSL to fail the handshake. */
  SSL_CTX_set_verify (context,
                      mk_tls_policy_get_authentication (self) == MK_TLS_AUTHENTICATION_VERIFY
                          ? SSL_VERIFY_PEER
                          : SSL_VERIFY_NONE,
                      NULL);
  return context;

fail:
  SSL_CTX_free (context);
  return NULL;
}

SSL_CTX *
mk_tls_policy_get_context (MkTlsPolicy *policy, GError **error)
{
  SSL_CTX *context = NULL;
  gboolean is_certificate;
  guint8 pin[32];

  /* A pin in no known form fails now rather than after the handshake. */
  if (policy->pin_sha256 != NULL && !parse_pin (policy->pin_sha256, &is_certificate, pin, error))
    return NULL;

  g_mutex_lock (&policy->lock);
  ERR_clear_error ();
  if (policy->context == NULL)
    policy->context = build_context (policy, error);
  if (policy->context != NULL)
    {
      SSL_CTX_up_ref (policy->context);
      context = policy->context;
    }
  g_mutex_unlock (&policy->lock);
  return context;
}

gboolean
mk_tls_policy_check_pin (MkTlsPolicy *policy, X509 *certificate, const char *server_name,
                         GError **error)
{
  guint8 pin[32];
  guint8 digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  gboolean is_certificate = FALSE;
  gboolean matches = FALSE;

  if (!parse_pin (policy->pin_sha256, &is_certificate, pin, error))
    return FALSE;
  if (certificate == NULL)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   "%s sent no certificate to compare with the pin", server_name);
      return FALSE;
    }

  if (is_certificate)
    matches = X509_digest (certificate, EVP_sha256 (), digest, &length);
  else
    {
      /* The digest of the whole DER SubjectPublicKeyInfo, as HPKP and
       * curl define it (X509_pubkey_digest() hashes only the key bits). */
      unsigned char *der = NULL;
      int der_length = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (certificate), &der);

      matches
          = der_length > 0 && EVP_Digest (der, der_length, digest, &length, EVP_sha256 (), NULL);
      OPENSSL_free (der);
    }
  matches = matches && length == 32 && CRYPTO_memcmp (digest, pin, 32) == 0;

  if (!matches)
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                 "The certificate of %s does not match the pinned %s", server_name,
                 is_certificate ? "certificate fingerprint" : "public key");
  return matches;
}
