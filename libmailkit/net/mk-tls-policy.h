/* mk-tls-policy.h: how a TLS server is authenticated
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <libmailkit/mk-export.h>

G_BEGIN_DECLS

/**
 * MkTlsVersion:
 * @MK_TLS_VERSION_1_2: TLS 1.2 (RFC 5246)
 * @MK_TLS_VERSION_1_3: TLS 1.3 (RFC 8446)
 *
 * A TLS protocol version, as the lowest one a connection accepts.
 *
 * Since: 0.1
 */
typedef enum
{
  MK_TLS_VERSION_1_2,
  MK_TLS_VERSION_1_3,
} MkTlsVersion;

#define MK_TYPE_TLS_POLICY (mk_tls_policy_get_type ())

MK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MkTlsPolicy, mk_tls_policy, MK, TLS_POLICY, GObject)

MK_AVAILABLE_IN_ALL
MkTlsPolicy *mk_tls_policy_new (void);

MK_AVAILABLE_IN_ALL
const char *mk_tls_policy_get_ca_file (MkTlsPolicy *policy);
MK_AVAILABLE_IN_ALL
void mk_tls_policy_set_ca_file (MkTlsPolicy *policy, const char *ca_file);

MK_AVAILABLE_IN_ALL
const char *mk_tls_policy_get_ca_path (MkTlsPolicy *policy);
MK_AVAILABLE_IN_ALL
void mk_tls_policy_set_ca_path (MkTlsPolicy *policy, const char *ca_path);

MK_AVAILABLE_IN_ALL
const char *mk_tls_policy_get_client_certificate (MkTlsPolicy *policy);
MK_AVAILABLE_IN_ALL
void mk_tls_policy_set_client_certificate (MkTlsPolicy *policy, const char *path);

MK_AVAILABLE_IN_ALL
const char *mk_tls_policy_get_client_key (MkTlsPolicy *policy);
MK_AVAILABLE_IN_ALL
void mk_tls_policy_set_client_key (MkTlsPolicy *policy, const char *path);

MK_AVAILABLE_IN_ALL
const char *mk_tls_policy_get_pin_sha256 (MkTlsPolicy *policy);
MK_AVAILABLE_IN_ALL
void mk_tls_policy_set_pin_sha256 (MkTlsPolicy *policy, const char *pin);

MK_AVAILABLE_IN_ALL
gboolean mk_tls_policy_get_insecure_skip_verify (MkTlsPolicy *policy);
MK_AVAILABLE_IN_ALL
void mk_tls_policy_set_insecure_skip_verify (MkTlsPolicy *policy, gboolean insecure_skip_verify);

MK_AVAILABLE_IN_ALL
MkTlsVersion mk_tls_policy_get_min_version (MkTlsPolicy *policy);
MK_AVAILABLE_IN_ALL
void mk_tls_policy_set_min_version (MkTlsPolicy *policy, MkTlsVersion version);

G_END_DECLS
