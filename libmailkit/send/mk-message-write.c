/* mk-message-write.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-envelope.h"
#include "mk-message-write.h"
#include "mk-message-writer-private.h"

/**
 * mk_message_write_to_stream:
 * @message: the message
 * @stream: where to write it
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes @message as mk_smtp_client_send_message() sends it to a server
 * that offers 8BITMIME, before the SMTP transparency (dot-stuffing) is
 * applied: CRLF line breaks, Bcc and Resent-Bcc left out, a Date and a
 * Message-ID added when the message has none. This is what `mkmail --print`
 * shows, and a way to keep a copy of what was sent.
 *
 * Like sending, this may change the Content-Transfer-Encoding of a part
 * whose content needs one (a NUL octet, a line over 998 octets); the
 * content itself and every other header are left as they are.
 *
 * Returns: %TRUE when the whole message was written; %FALSE with @error set
 *   (%G_IO_ERROR naming the file when a part's content cannot be read,
 *   %MK_SMTP_ERROR_INVALID for a header line over 998 octets,
 *   %MK_SMTP_ERROR_NOT_SUPPORTED when a signed part would need re-encoding)
 *
 * Since: 0.1
 */
gboolean
mk_message_write_to_stream (GMimeMessage *message, GOutputStream *stream,
                            GCancellable *cancellable, GError **error)
{
  g_autoptr (MkEnvelope) envelope = NULL;
  g_autoptr (MkMessageWriter) writer = NULL;
  const char *domain = NULL;

  g_return_val_if_fail (GMIME_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* The generated Message-ID takes the sender's domain, as when sending;
   * a message with no usable sender still prints. */
  envelope = mk_envelope_new_from_message (message, NULL, NULL, NULL);
  if (envelope != NULL)
    domain = mk_envelope_get_message_id_domain (envelope);
  writer = mk_message_writer_new (message, domain, cancellable, error);
  return writer != NULL && mk_message_writer_choose_transport (writer, TRUE, FALSE, error)
         && mk_message_writer_write (writer, stream, cancellable, error);
}
