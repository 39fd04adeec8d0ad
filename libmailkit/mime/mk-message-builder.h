/* mk-message-builder.h: text, HTML, inline images and attachments in a few
 * lines
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

G_BEGIN_DECLS

#define MK_TYPE_MESSAGE_BUILDER (mk_message_builder_get_type ())
MK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MkMessageBuilder, mk_message_builder, MK, MESSAGE_BUILDER, GObject)

MK_AVAILABLE_IN_ALL
MkMessageBuilder *mk_message_builder_new (void);

MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_set_from (MkMessageBuilder *builder, const char *addresses,
                                      GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_set_sender (MkMessageBuilder *builder, const char *address,
                                        GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_to (MkMessageBuilder *builder, const char *addresses,
                                    GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_cc (MkMessageBuilder *builder, const char *addresses,
                                    GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_bcc (MkMessageBuilder *builder, const char *addresses,
                                     GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_set_reply_to (MkMessageBuilder *builder, const char *addresses,
                                          GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_address (MkMessageBuilder *builder, GMimeAddressType type,
                                         InternetAddress *address, GError **error);

MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_set_subject (MkMessageBuilder *builder, const char *subject,
                                         GError **error);
MK_AVAILABLE_IN_ALL
void mk_message_builder_set_date (MkMessageBuilder *builder, GDateTime *date);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_set_message_id (MkMessageBuilder *builder, const char *message_id,
                                            GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_header (MkMessageBuilder *builder, const char *name,
                                        const char *value, GError **error);

MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_set_text (MkMessageBuilder *builder, const char *text, GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_set_html (MkMessageBuilder *builder, const char *html, GError **error);

MK_AVAILABLE_IN_ALL
char *mk_message_builder_add_inline (MkMessageBuilder *builder, const char *path,
                                     const char *content_id, GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_attachment (MkMessageBuilder *builder, const char *path,
                                            const char *name, const char *content_type,
                                            GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_attachment_bytes (MkMessageBuilder *builder, GBytes *data,
                                                  const char *name, const char *content_type,
                                                  GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_attachment_stream (MkMessageBuilder *builder, GInputStream *stream,
                                                   const char *name, const char *content_type,
                                                   GError **error);
MK_AVAILABLE_IN_ALL
gboolean mk_message_builder_add_message_attachment (MkMessageBuilder *builder,
                                                    GMimeMessage *message, GError **error);

MK_AVAILABLE_IN_ALL
GMimeMessage *mk_message_builder_build (MkMessageBuilder *builder, GError **error);

G_END_DECLS
