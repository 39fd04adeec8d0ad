/* mk-smtp-reply.h: one reply of an SMTP or LMTP server
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

#define MK_TYPE_SMTP_REPLY (mk_smtp_reply_get_type ())

typedef struct _MkSmtpReply MkSmtpReply;

MK_AVAILABLE_IN_ALL
GType mk_smtp_reply_get_type (void) G_GNUC_CONST;

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_reply_new (guint code, const char *text);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_reply_ref (MkSmtpReply *reply);

MK_AVAILABLE_IN_ALL
void mk_smtp_reply_unref (MkSmtpReply *reply);

MK_AVAILABLE_IN_ALL
guint mk_smtp_reply_get_code (const MkSmtpReply *reply);

MK_AVAILABLE_IN_ALL
const char *mk_smtp_reply_get_enhanced_code (const MkSmtpReply *reply);

MK_AVAILABLE_IN_ALL
const char *const *mk_smtp_reply_get_lines (const MkSmtpReply *reply);

MK_AVAILABLE_IN_ALL
const char *mk_smtp_reply_get_text (const MkSmtpReply *reply);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_reply_is_transient (const MkSmtpReply *reply);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_reply_is_permanent (const MkSmtpReply *reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkSmtpReply, mk_smtp_reply_unref)

G_END_DECLS
