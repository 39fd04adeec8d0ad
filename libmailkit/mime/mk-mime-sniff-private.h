/* mk-mime-sniff-private.h: image and audio subtypes from magic bytes
 *
 * The subtype names are those email.mime.image / email.mime.audio give
 * (CPython 3.11), without their false positives; see mk-mime-sniff.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *mk_mime_sniff_image (const guint8 *data, gsize length);
const char *mk_mime_sniff_audio (const guint8 *data, gsize length);

G_END_DECLS
