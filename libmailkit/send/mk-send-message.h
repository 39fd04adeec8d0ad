/* mk-send-message.h: mk_smtp_client_send_message(), smtplib's send_message()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <libmailkit/mk-export.h>
#include <libmailkit/send/mk-envelope.h>
#include <libmailkit/smtp/mk-smtp-client.h>

G_BEGIN_DECLS

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_send_message (MkSmtpClient *client, GMimeMessage *message, const char *from,
                                      const char *const *to, const char *const *mail_options,
                                      const char *const *rcpt_options, GHashTable **refused,
                                      GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_send_message_async (MkSmtpClient *client, GMimeMessage *message,
                                        const char *from, const char *const *to,
                                        const char *const *mail_options,
                                        const char *const *rcpt_options, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_send_message_finish (MkSmtpClient *client, GAsyncResult *result,
                                             GHashTable **refused, GError **error);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_send_message_full (MkSmtpClient *client, GMimeMessage *message,
                                           const MkEnvelope *envelope, GHashTable **refused,
                                           GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_send_message_full_async (MkSmtpClient *client, GMimeMessage *message,
                                             const MkEnvelope *envelope, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_send_message_full_finish (MkSmtpClient *client, GAsyncResult *result,
                                                  GHashTable **refused, GError **error);

G_END_DECLS
