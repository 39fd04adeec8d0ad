/* mk-smtp-client.h: the SMTP/ESMTP session, with smtplib's API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libmailkit/mk-export.h>
#include <libmailkit/smtp/mk-smtp-capabilities.h>
#include <libmailkit/smtp/mk-smtp-reply.h>
#include <libmailkit/smtp/mk-tls-mode.h>

G_BEGIN_DECLS

/**
 * MK_SMTP_PORT:
 *
 * The port of SMTP (RFC 5321), used when mk_smtp_client_connect() is given
 * port 0 by a client made with mk_smtp_client_new().
 *
 * Since: 0.1
 */
#define MK_SMTP_PORT 25

/**
 * MK_SMTP_SSL_PORT:
 *
 * The port of SMTP over implicit TLS (RFC 8314), the default of a client
 * made with mk_smtp_client_new_ssl().
 *
 * Since: 0.1
 */
#define MK_SMTP_SSL_PORT 465

#define MK_TYPE_SMTP_CLIENT (mk_smtp_client_get_type ())
MK_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (MkSmtpClient, mk_smtp_client, MK, SMTP_CLIENT, GObject)

/**
 * MkSmtpClientClass:
 * @parent_class: the parent class
 *
 * The class of #MkSmtpClient. It is derivable for #MkLmtpClient; it has no
 * virtual methods of its own yet.
 *
 * Since: 0.1
 */
struct _MkSmtpClientClass
{
  GObjectClass parent_class;

  /*< private >*/
  gpointer padding[12];
};

MK_AVAILABLE_IN_ALL
MkSmtpClient *mk_smtp_client_new (void);
MK_AVAILABLE_IN_ALL
MkSmtpClient *mk_smtp_client_new_ssl (void);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_connect (MkSmtpClient *client, const char *host, guint16 port,
                                     GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_connect_async (MkSmtpClient *client, const char *host, guint16 port,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_connect_finish (MkSmtpClient *client, GAsyncResult *result,
                                            GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_docmd (MkSmtpClient *client, const char *command, const char *args,
                                   GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_docmd_async (MkSmtpClient *client, const char *command, const char *args,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_docmd_finish (MkSmtpClient *client, GAsyncResult *result,
                                          GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_helo (MkSmtpClient *client, const char *name, GCancellable *cancellable,
                                  GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_helo_async (MkSmtpClient *client, const char *name, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_helo_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_ehlo (MkSmtpClient *client, const char *name, GCancellable *cancellable,
                                  GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_ehlo_async (MkSmtpClient *client, const char *name, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_ehlo_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_ehlo_or_helo_if_needed (MkSmtpClient *client, GCancellable *cancellable,
                                                GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_ehlo_or_helo_if_needed_async (MkSmtpClient *client, GCancellable *cancellable,
                                                  GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_ehlo_or_helo_if_needed_finish (MkSmtpClient *client, GAsyncResult *result,
                                                       GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_verify (MkSmtpClient *client, const char *address,
                                    GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_verify_async (MkSmtpClient *client, const char *address,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_verify_finish (MkSmtpClient *client, GAsyncResult *result,
                                           GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_expn (MkSmtpClient *client, const char *address,
                                  GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_expn_async (MkSmtpClient *client, const char *address,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_expn_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_help (MkSmtpClient *client, const char *args, GCancellable *cancellable,
                                  GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_help_async (MkSmtpClient *client, const char *args, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_help_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_rset (MkSmtpClient *client, GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_rset_async (MkSmtpClient *client, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_rset_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_noop (MkSmtpClient *client, GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_noop_async (MkSmtpClient *client, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_noop_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_login (MkSmtpClient *client, const char *user, const char *password,
                                   GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_login_async (MkSmtpClient *client, const char *user, const char *password,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_login_finish (MkSmtpClient *client, GAsyncResult *result,
                                          GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_auth (MkSmtpClient *client, const char *mechanism, const char *user,
                                  const char *secret, GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_auth_async (MkSmtpClient *client, const char *mechanism, const char *user,
                                const char *secret, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_auth_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_starttls (MkSmtpClient *client, GCancellable *cancellable,
                                      GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_starttls_async (MkSmtpClient *client, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_starttls_finish (MkSmtpClient *client, GAsyncResult *result,
                                             GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_mail (MkSmtpClient *client, const char *sender,
                                  const char *const *options, GCancellable *cancellable,
                                  GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_mail_async (MkSmtpClient *client, const char *sender,
                                const char *const *options, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_mail_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_rcpt (MkSmtpClient *client, const char *recipient,
                                  const char *const *options, GCancellable *cancellable,
                                  GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_rcpt_async (MkSmtpClient *client, const char *recipient,
                                const char *const *options, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_rcpt_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_data (MkSmtpClient *client, GBytes *message, GCancellable *cancellable,
                                  GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_data_async (MkSmtpClient *client, GBytes *message, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_data_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_sendmail (MkSmtpClient *client, const char *from, const char *const *to,
                                  GBytes *message, const char *const *mail_options,
                                  const char *const *rcpt_options, GHashTable **refused,
                                  GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_sendmail_async (MkSmtpClient *client, const char *from, const char *const *to,
                                    GBytes *message, const char *const *mail_options,
                                    const char *const *rcpt_options, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_sendmail_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GHashTable **refused, GError **error);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_sendmail_stream (MkSmtpClient *client, const char *from,
                                         const char *const *to, GInputStream *message,
                                         const char *const *mail_options,
                                         const char *const *rcpt_options, GHashTable **refused,
                                         GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_sendmail_stream_async (MkSmtpClient *client, const char *from,
                                           const char *const *to, GInputStream *message,
                                           const char *const *mail_options,
                                           const char *const *rcpt_options,
                                           GCancellable *cancellable, GAsyncReadyCallback callback,
                                           gpointer user_data);

MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_sendmail_stream_finish (MkSmtpClient *client, GAsyncResult *result,
                                                GHashTable **refused, GError **error);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_quit (MkSmtpClient *client, GCancellable *cancellable, GError **error);

MK_AVAILABLE_IN_ALL
void mk_smtp_client_quit_async (MkSmtpClient *client, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_quit_finish (MkSmtpClient *client, GAsyncResult *result,
                                         GError **error);
MK_AVAILABLE_IN_ALL
void mk_smtp_client_close (MkSmtpClient *client);
MK_AVAILABLE_IN_ALL
void mk_smtp_client_set_debuglevel (MkSmtpClient *client, int level);
MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_has_extn (MkSmtpClient *client, const char *name);
MK_AVAILABLE_IN_ALL
MkSmtpCapabilities *mk_smtp_client_get_capabilities (MkSmtpClient *client);
MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_get_does_esmtp (MkSmtpClient *client);
MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_get_helo_resp (MkSmtpClient *client);
MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_get_ehlo_resp (MkSmtpClient *client);
MK_AVAILABLE_IN_ALL
MkSmtpReply *mk_smtp_client_get_last_reply (MkSmtpClient *client);
MK_AVAILABLE_IN_ALL
gboolean mk_smtp_client_is_connected (MkSmtpClient *client);

G_END_DECLS
