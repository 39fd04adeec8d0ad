/* mk-mime-base64-stream-private.h: a GMimeStream that reads another one as
 * base64 with CRLF line breaks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "mk-gmime-autocleanups-private.h"

G_BEGIN_DECLS

/* RFC 2045 §6.8: encoded lines of at most 76 characters; GMime writes them
 * full, 19 groups of 4 characters from 57 octets. */
#define MK_MIME_BASE64_LINE_OCTETS 57
#define MK_MIME_BASE64_LINE_CHARS 76

/* The source is read this many lines at a time (114 KiB): few reads of a
 * file, and a buffer (of the source and of its encoding, 270 KiB together)
 * that stays the same whatever the size of the part. */
#define MK_MIME_BASE64_STREAM_BLOCK_LINES 2048

#define MK_TYPE_MIME_BASE64_STREAM (mk_mime_base64_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkMimeBase64Stream, mk_mime_base64_stream, MK, MIME_BASE64_STREAM,
                      GMimeStream)

/* A read-only stream giving @source (read from its start, within its
 * bounds) in base64, exactly as GMime writes a part with a base64 transfer
 * encoding and DOS line breaks: full lines of 76 characters, a shorter last
 * line with its padding, every line ending in CRLF, nothing for an empty
 * source. A failed read of @source fails the read (-1, errno as the
 * source left it); resetting this stream resets @source. */
GMimeStream *mk_mime_base64_stream_new (GMimeStream *source);

/* The number of bytes the stream gives for a source of @octets octets. */
gint64 mk_mime_base64_stream_encoded_length (gint64 octets);

G_END_DECLS
