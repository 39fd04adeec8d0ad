/* mk-envelope.h: the SMTP envelope of a message: reverse-path and recipients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MAILKIT_H_INSIDE__) && !defined(MAILKIT_COMPILATION)
#error "Only <libmailkit/mailkit.h> can be included directly."
#endif

#include <gmime/gmime.h>
#include <libmailkit/mk-export.h>

G_BEGIN_DECLS

/**
 * MkEnvelope:
 *
 * The SMTP envelope of a message: the reverse-path that goes into
 * `MAIL FROM` and the recipients that go into `RCPT TO`, kept apart from
 * the message's headers (which only suggest them).
 *
 * Addresses are stored as they go on the wire, between `<` and `>`: a
 * domain written in Unicode is converted to its ASCII form (IDNA A-labels),
 * so only an address whose local part is not ASCII needs SMTPUTF8
 * (mk_envelope_needs_smtputf8()). Each recipient is kept once (the domain
 * compared without regard to case), in the order added.
 *
 * Since: 0.1
 */
typedef struct _MkEnvelope MkEnvelope;

#define MK_TYPE_ENVELOPE (mk_envelope_get_type ())
MK_AVAILABLE_IN_ALL
GType mk_envelope_get_type (void) G_GNUC_CONST;

MK_AVAILABLE_IN_ALL
MkEnvelope *mk_envelope_new (const char *reverse_path, GError **error);

MK_AVAILABLE_IN_ALL
MkEnvelope *mk_envelope_new_from_message (GMimeMessage *message, const char *from,
                                          const char *const *to, GError **error);

MK_AVAILABLE_IN_ALL
MkEnvelope *mk_envelope_copy (const MkEnvelope *envelope);

MK_AVAILABLE_IN_ALL
void mk_envelope_free (MkEnvelope *envelope);

MK_AVAILABLE_IN_ALL
gboolean mk_envelope_add_recipient (MkEnvelope *envelope, const char *address, GError **error);

MK_AVAILABLE_IN_ALL
const char *mk_envelope_get_reverse_path (const MkEnvelope *envelope);

MK_AVAILABLE_IN_ALL
const char *const *mk_envelope_get_recipients (const MkEnvelope *envelope);

MK_AVAILABLE_IN_ALL
gboolean mk_envelope_needs_smtputf8 (const MkEnvelope *envelope);

MK_AVAILABLE_IN_ALL
const char *mk_envelope_get_message_id_domain (const MkEnvelope *envelope);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkEnvelope, mk_envelope_free)

G_END_DECLS
