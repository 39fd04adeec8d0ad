/* mk-smtp-capabilities.h: what a server advertised in its EHLO or LHLO reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <libmailkit/mk-export.h>
#include <libmailkit/smtp/mk-smtp-reply.h>

G_BEGIN_DECLS

#define MK_TYPE_SMTP_CAPABILITIES (mk_smtp_capabilities_get_type ())

typedef struct _MkSmtpCapabilities MkSmtpCapabilities;

MK_AVAILABLE_IN_ALL
GType mk_smtp_capabilities_get_type (void) G_GNUC_CONST;

MK_AVAILABLE_IN_ALL
MkSmtpCapabilities *mk_smtp_capabilities_new_from_reply (const MkSmtpReply *reply);

MK_AVAILABLE_IN_ALL
MkSmtpCapabilities *mk_smtp_capabilities_ref (MkSmtpCapabilities *caps);

MK_AVAILABLE_IN_ALL
void mk_smtp_capabilities_unref (MkSmtpCapabilities *caps);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_capabilities_has (const MkSmtpCapabilities *caps, const char *keyword);

MK_AVAILABLE_IN_ALL
const char *mk_smtp_capabilities_get_parameter (const MkSmtpCapabilities *caps,
                                                const char *keyword);

MK_AVAILABLE_IN_ALL
const char *const *mk_smtp_capabilities_get_keywords (const MkSmtpCapabilities *caps);

MK_AVAILABLE_IN_ALL
guint64 mk_smtp_capabilities_get_size_limit (const MkSmtpCapabilities *caps);

MK_AVAILABLE_IN_ALL
const char *const *mk_smtp_capabilities_get_auth_mechanisms (const MkSmtpCapabilities *caps);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_capabilities_has_auth_mechanism (const MkSmtpCapabilities *caps,
                                                  const char *mechanism);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkSmtpCapabilities, mk_smtp_capabilities_unref)

G_END_DECLS
