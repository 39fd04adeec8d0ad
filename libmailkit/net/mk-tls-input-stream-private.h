/* mk-tls-input-stream-private.h: the reading side of an MkTlsStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "mk-tls-stream.h"

G_BEGIN_DECLS

#define MK_TYPE_TLS_INPUT_STREAM (mk_tls_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkTlsInputStream, mk_tls_input_stream, MK, TLS_INPUT_STREAM, GInputStream)

/* Holds @tls weakly: the MkTlsStream owns its streams. */
GInputStream *mk_tls_input_stream_new (MkTlsStream *tls);

G_END_DECLS
