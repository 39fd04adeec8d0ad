/* mk-tls-policy-private.h: the OpenSSL side of MkTlsPolicy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <openssl/ssl.h>

#include "mk-tls-policy.h"

G_BEGIN_DECLS

/* How the server is authenticated, in order of precedence. */
typedef enum
{
  MK_TLS_AUTHENTICATION_NONE,   /* insecure-skip-verify */
  MK_TLS_AUTHENTICATION_PIN,    /* pin-sha256 alone: no chain, date or name check */
  MK_TLS_AUTHENTICATION_VERIFY, /* the default: chain, dates and name */
} MkTlsAuthentication;

MkTlsAuthentication mk_tls_policy_get_authentication (MkTlsPolicy *policy);

/* A new reference to the client context the policy describes (built once,
 * rebuilt after a property changes). Errors: G_TLS_ERROR_MISC when the CA
 * file or path, the client certificate or key cannot be used;
 * G_IO_ERROR_INVALID_ARGUMENT for a pin in no known form. */
SSL_CTX *mk_tls_policy_get_context (MkTlsPolicy *policy, GError **error);

/* Whether @certificate (the server's own) matches the pin; if not,
 * G_TLS_ERROR_BAD_CERTIFICATE naming @server_name. */
gboolean mk_tls_policy_check_pin (MkTlsPolicy *policy, X509 *certificate, const char *server_name,
                                  GError **error);

G_END_DECLS
