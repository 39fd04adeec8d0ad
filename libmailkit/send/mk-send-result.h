/* mk-send-result.h: what became of one message of mk_smtp_client_send_messages()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <libmailkit/mk-export.h>
#include <libmailkit/smtp/mk-smtp-outcome.h>
#include <libmailkit/smtp/mk-smtp-reply.h>

G_BEGIN_DECLS

typedef struct _MkSendResult MkSendResult;

#define MK_TYPE_SEND_RESULT (mk_send_result_get_type ())
MK_AVAILABLE_IN_ALL
GType mk_send_result_get_type (void) G_GNUC_CONST;

MK_AVAILABLE_IN_ALL
MkSendResult *mk_send_result_ref (MkSendResult *result);

MK_AVAILABLE_IN_ALL
void mk_send_result_unref (MkSendResult *result);

MK_AVAILABLE_IN_ALL
MkSmtpOutcome mk_send_result_get_outcome (const MkSendResult *result);

MK_AVAILABLE_IN_ALL
const GError *mk_send_result_get_error (const MkSendResult *result);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_send_result_get_reply (const MkSendResult *result);

MK_AVAILABLE_IN_ALL
GHashTable *mk_send_result_get_refused (const MkSendResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkSendResult, mk_send_result_unref)

G_END_DECLS
