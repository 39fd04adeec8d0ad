/* mk-message-write.h: a message's bytes exactly as send_message() sends them
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

MK_AVAILABLE_IN_ALL
gboolean mk_message_write_to_stream (GMimeMessage *message, GOutputStream *stream,
                                     GCancellable *cancellable, GError **error);

G_END_DECLS
