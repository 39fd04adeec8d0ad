/* mk-mime-generated-private.h: the values libmailkit writes for a message's
 * Date and Message-ID when the caller gave none
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Now, in the local time zone. */
GDateTime *mk_mime_generated_date (void);

/* A Message-ID (without the angle brackets): a random UUID on the left,
 * @domain on the right; GMime's choice of the host's name when @domain is
 * %NULL. */
char *mk_mime_generated_message_id (const char *domain);

G_END_DECLS
