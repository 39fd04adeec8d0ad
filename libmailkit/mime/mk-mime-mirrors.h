/* mk-mime-mirrors.h: the email.mime classes of Python, as GMime objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <gmime/gmime.h>
#include <libmailkit/mk-export.h>

G_BEGIN_DECLS

MK_AVAILABLE_IN_ALL
GMimeObject *mk_mime_base_new (const char *maintype, const char *subtype, GError **error);

MK_AVAILABLE_IN_ALL
gboolean mk_mime_set_parameter (GMimeObject *object, const char *name, const char *value,
                                GError **error);

MK_AVAILABLE_IN_ALL
GMimeTextPart *mk_mime_text_new (const char *text, const char *subtype, const char *charset,
                                 GError **error);

MK_AVAILABLE_IN_ALL
GMimePart *mk_mime_image_new (GBytes *data, const char *subtype, GError **error);

MK_AVAILABLE_IN_ALL
GMimePart *mk_mime_audio_new (GBytes *data, const char *subtype, GError **error);

MK_AVAILABLE_IN_ALL
GMimePart *mk_mime_application_new (GBytes *data, const char *subtype, GError **error);

MK_AVAILABLE_IN_ALL
GMimeMultipart *mk_mime_multipart_new (const char *subtype, const char *boundary, GError **error);

MK_AVAILABLE_IN_ALL
GMimeMessagePart *mk_mime_message_new (GMimeMessage *message, const char *subtype, GError **error);

G_END_DECLS
