/* mk-send-messages.h: mk_smtp_client_send_messages(), many messages at one round trip each
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libmailkit/mk-export.h>
#include <libmailkit/smtp/mk-smtp-client.h>

G_BEGIN_DECLS

MK_AVAILABLE_IN_ALL
GPtrArray *mk_smtp_client_send_messages (MkSmtpClient *client, GPtrArray *messages,
                                         GPtrArray *envelopes, GCancellable *cancellable,
                                         GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_send_messages_async (MkSmtpClient *client, GPtrArray *messages,
                                         GPtrArray *envelopes, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
GPtrArray *mk_smtp_client_send_messages_finish (MkSmtpClient *client, GAsyncResult *result,
                                                GError **error);

G_END_DECLS
