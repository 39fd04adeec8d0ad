/* mk-send-message-private.h: one message on its way, for send_message()
 * and send_messages()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gmime/gmime.h>

#include "mk-envelope.h"
#include "libmailkit/smtp/mk-smtp-client-private.h"

G_BEGIN_DECLS

typedef struct _MkSendCall MkSendCall;

/* A message's envelope (a copy of @envelope, else taken from the
 * message); the message itself is looked at (headers, parts, files) by the
 * first mk_send_call_prepare(). */
MkSendCall *mk_send_call_new (GMimeMessage *message, const MkEnvelope *envelope, GError **error);
void mk_send_call_free (MkSendCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkSendCall, mk_send_call_free)

/* Inside a step: the message looked at (once), the session prepared, the
 * transport chosen from the capabilities, the size counted, the parameters chosen; fills @request,
 * which borrows from @call (valid until the next prepare or the free). */
gboolean mk_send_call_prepare (MkSendCall *call, MkSmtpClient *client,
                               MkSmtpTransactionRequest *request, GCancellable *cancellable,
                               GError **error);

G_END_DECLS
