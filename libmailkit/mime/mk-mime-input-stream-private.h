/* mk-mime-input-stream-private.h: a GMimeStream that reads a GInputStream
 * once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "mk-gmime-autocleanups-private.h"

G_BEGIN_DECLS

#define MK_TYPE_MIME_INPUT_STREAM (mk_mime_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkMimeInputStream, mk_mime_input_stream, MK, MIME_INPUT_STREAM, GMimeStream)

GMimeStream *mk_mime_input_stream_new (GInputStream *input);

G_END_DECLS
