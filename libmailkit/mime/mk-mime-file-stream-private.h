/* mk-mime-file-stream-private.h: a GMimeStream over a file that is open
 * only while it is read, and fails if the file changed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "mk-gmime-autocleanups-private.h"

G_BEGIN_DECLS

#define MK_TYPE_MIME_FILE_STREAM (mk_mime_file_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkMimeFileStream, mk_mime_file_stream, MK, MIME_FILE_STREAM, GMimeStream)

/* What mk_mime_file_stream_new() needs to know of the file as it was
 * added, to see later that it changed. */
#define MK_MIME_FILE_STREAM_ATTRIBUTES                                                             \
  G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_TIME_MODIFIED                                \
                                 "," G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC

GMimeStream *mk_mime_file_stream_new (GFile *file, GFileInfo *info);

G_END_DECLS
