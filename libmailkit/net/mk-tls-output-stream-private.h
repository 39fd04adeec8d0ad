/* mk-tls-input-stream-private.h: the writing side of an MkTlsStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "mk-tls-stream.h"

G_BEGIN_DECLS

#define MK_TYPE_TLS_OUTPUT_STREAM (mk_tls_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkTlsOutputStream, mk_tls_output_stream, MK, TLS_OUTPUT_STREAM, GOutputStream)

/* Holds @tls weakly: the MkTlsStream owns its streams. */
GOutputStream *mk_tls_output_stream_new (MkTlsStream *tls);

G_END_DECLS
