/* mk-message-writer-private.h: a GMimeMessage as the bytes of a mail
 * transaction
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"

G_BEGIN_DECLS

typedef struct _MkMessageWriter MkMessageWriter;

/* Looks at @message before anything is sent: which parts carry 8-bit data,
 * NUL octets or lines over 998 octets (by reading the content of the parts
 * whose transfer encoding is an identity: 7bit, 8bit, binary or none),
 * whether every part can be read twice (the condition for a size), the
 * header lines (none may be longer than 998 octets), and which of Date and
 * Message-ID are missing (they are generated then, the Message-ID in
 * @message_id_domain, or the host's name when it is NULL).
 *
 * Fails with MK_SMTP_ERROR_INVALID for an over-long header line, and with
 * G_IO_ERROR naming the file when a part's content cannot be read or a
 * file is shorter than the part made of it. */
MkMessageWriter *mk_message_writer_new (GMimeMessage *message, const char *message_id_domain,
                                        GCancellable *cancellable, GError **error);

void mk_message_writer_free (MkMessageWriter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkMessageWriter, mk_message_writer_free)

/* Chooses the transfer encoding of every part for a server that does
 * (@eight_bit_mime) or does not offer 8BITMIME: a part with NUL octets or
 * over-long lines is always encoded (quoted-printable, or base64 when the
 * data is mostly 8-bit or binary); 8-bit text is labelled 8bit for an
 * 8BITMIME server and encoded otherwise; a part whose content could not be
 * read before is encoded (base64, or quoted-printable for text). This sets
 * the Content-Transfer-Encoding of those parts in the caller's message (the
 * content is unchanged), the one change send_message() makes to it.
 *
 * Fails with MK_SMTP_ERROR_NOT_SUPPORTED when a part inside a signed or
 * encrypted multipart would need re-encoding (that would break the
 * signature), or 8-bit header text meets a server without 8BITMIME. */
/* @binary_mime: the server can take a binary body (BINARYMIME and
 * CHUNKING, RFC 3030 §3); then a part labelled binary, or holding NUL
 * octets or over-long lines, is sent as it is, labelled binary, instead of
 * being encoded. */
gboolean mk_message_writer_choose_transport (MkMessageWriter *self, gboolean eight_bit_mime,
                                             gboolean binary_mime, GError **error);

/* Whether the chosen transport sends 8-bit data: MAIL needs BODY=8BITMIME. */
gboolean mk_message_writer_needs_8bitmime (MkMessageWriter *self);

/* Whether the chosen transport sends a binary part: MAIL needs
 * BODY=BINARYMIME (which covers 8-bit data too), and the body goes in BDAT
 * chunks as it is. */
gboolean mk_message_writer_needs_binarymime (MkMessageWriter *self);

/* The exact number of bytes mk_message_writer_write() will write; -1 when
 * a part can be read only once (nothing is read then). A small message
 * (part contents of known size adding up to at most 64 KiB) is serialised
 * here, into memory, and the write sends those bytes. A larger one is
 * counted by a pass through GMime into a counting stream (a base64 part of
 * a file or of memory counted from its length, one octet of it read to
 * check it), and the same number is checked after the write: a file that
 * changed in between fails the write. */
goffset mk_message_writer_count (MkMessageWriter *self, GCancellable *cancellable, GError **error);

/* Writes the message into @stream: the generated Date and Message-ID
 * header lines, then GMime's serialisation with CRLF line breaks and the
 * Bcc and Resent-Bcc headers left out. The caller's message is not changed
 * (beyond mk_message_writer_choose_transport()).
 *
 * When the content of a part cannot be read, or a file changed since
 * mk_message_writer_count(), fails with G_IO_ERROR naming the file, so the
 * caller can abandon the transaction before the end of the data. A message
 * serialised by the count is written as it was then. */
gboolean mk_message_writer_write (MkMessageWriter *self, GOutputStream *stream,
                                  GCancellable *cancellable, GError **error);

G_END_DECLS
