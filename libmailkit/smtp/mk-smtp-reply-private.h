/* mk-smtp-reply-private.h: building replies inside the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mk-smtp-reply.h"

G_BEGIN_DECLS

/* Makes a reply from lines already checked by the reply parser; takes
 * ownership of @lines (a NULL-terminated array of at least one line). */
MkSmtpReply *mk_smtp_reply_new_take_lines (guint code, char **lines);

G_END_DECLS
