/* mk-mime-part-private.h: the pieces the mirrors and the builder share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

GMimePart *mk_mime_part_new_base64 (const char *type, const char *subtype, GMimeStream *content);
GMimeStream *mk_mime_stream_new_from_bytes (GBytes *data);
GMimeContentEncoding mk_mime_choose_text_encoding (const guint8 *data, gsize length);

G_END_DECLS
