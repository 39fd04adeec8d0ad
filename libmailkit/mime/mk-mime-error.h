/* mk-mime-error.h: the error domain of the message-building layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <glib.h>
#include <libmailkit/mk-export.h>

G_BEGIN_DECLS

/**
 * MK_MIME_ERROR:
 *
 * The error domain of message building (the `email.mime` mirrors and
 * #MkMessageBuilder). Errors in this domain carry a #MkMimeError code.
 *
 * Since: 0.1
 */
#define MK_MIME_ERROR (mk_mime_error_quark ())

/**
 * MkMimeError:
 * @MK_MIME_ERROR_INVALID: the input cannot be put into a message safely: CR,
 *   LF or NUL in a header name, a parameter, a Content-ID or an address; a
 *   header name outside RFC 5322's grammar; an unknown MIME type
 * @MK_MIME_ERROR_UNKNOWN_TYPE: image or audio data whose format is not
 *   recognised, and no subtype was given
 *
 * Error codes in the %MK_MIME_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum
{
  MK_MIME_ERROR_INVALID,
  MK_MIME_ERROR_UNKNOWN_TYPE,
} MkMimeError;

MK_AVAILABLE_IN_ALL
GQuark mk_mime_error_quark (void);

G_END_DECLS
