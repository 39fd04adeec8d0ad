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
 * Beyond addresses, an envelope carries what the sender asks of the
 * servers on the way, sent with mk_smtp_client_send_message_full():
 * delivery status notifications (RFC 3461; mk_envelope_set_dsn_notify(),
 * mk_envelope_set_dsn_orcpt(), mk_envelope_set_dsn_return(),
 * mk_envelope_set_dsn_envid(), mk_envelope_set_dsn_required()) and
 * REQUIRETLS (RFC 8689; mk_envelope_set_require_tls()).
 *
 * Since: 0.1
 */
typedef struct _MkEnvelope MkEnvelope;

/**
 * MkDsnNotify:
 * @MK_DSN_NOTIFY_DEFAULT: no `NOTIFY` parameter: the server's default,
 *   which is a notification on failure (and often on delay)
 * @MK_DSN_NOTIFY_NEVER: `NOTIFY=NEVER`: no notification at all; cannot be
 *   combined with another flag
 * @MK_DSN_NOTIFY_SUCCESS: a notification when the message is delivered
 * @MK_DSN_NOTIFY_FAILURE: a notification when delivery fails
 * @MK_DSN_NOTIFY_DELAY: a notification when delivery is delayed
 *
 * When a delivery status notification (RFC 3461 §4.1) is asked for a
 * recipient: the `NOTIFY` parameter of its `RCPT TO` command. SUCCESS,
 * FAILURE and DELAY combine; NEVER stands alone.
 *
 * Since: 0.1
 */
typedef enum
{
  MK_DSN_NOTIFY_DEFAULT = 0,
  MK_DSN_NOTIFY_NEVER = 1 << 0,
  MK_DSN_NOTIFY_SUCCESS = 1 << 1,
  MK_DSN_NOTIFY_FAILURE = 1 << 2,
  MK_DSN_NOTIFY_DELAY = 1 << 3,
} MkDsnNotify;

/**
 * MkDsnReturn:
 * @MK_DSN_RETURN_DEFAULT: no `RET` parameter: the server chooses
 * @MK_DSN_RETURN_FULL: `RET=FULL`: a failure notification carries the
 *   whole message
 * @MK_DSN_RETURN_HEADERS: `RET=HDRS`: it carries the message's headers only
 *
 * How much of the message a delivery status notification returns
 * (RFC 3461 §4.3): the `RET` parameter of `MAIL FROM`.
 *
 * Since: 0.1
 */
typedef enum
{
  MK_DSN_RETURN_DEFAULT,
  MK_DSN_RETURN_FULL,
  MK_DSN_RETURN_HEADERS,
} MkDsnReturn;

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

MK_AVAILABLE_IN_ALL
gboolean mk_envelope_set_dsn_notify (MkEnvelope *envelope, const char *recipient,
                                     MkDsnNotify notify, GError **error);

MK_AVAILABLE_IN_ALL
MkDsnNotify mk_envelope_get_dsn_notify (const MkEnvelope *envelope, const char *recipient);

MK_AVAILABLE_IN_ALL
gboolean mk_envelope_set_dsn_orcpt (MkEnvelope *envelope, const char *recipient,
                                    const char *original_address, GError **error);

MK_AVAILABLE_IN_ALL
const char *mk_envelope_get_dsn_orcpt (const MkEnvelope *envelope, const char *recipient);

MK_AVAILABLE_IN_ALL
void mk_envelope_set_dsn_return (MkEnvelope *envelope, MkDsnReturn ret);

MK_AVAILABLE_IN_ALL
MkDsnReturn mk_envelope_get_dsn_return (const MkEnvelope *envelope);

MK_AVAILABLE_IN_ALL
gboolean mk_envelope_set_dsn_envid (MkEnvelope *envelope, const char *envid, GError **error);

MK_AVAILABLE_IN_ALL
const char *mk_envelope_get_dsn_envid (const MkEnvelope *envelope);

MK_AVAILABLE_IN_ALL
void mk_envelope_set_dsn_required (MkEnvelope *envelope, gboolean required);

MK_AVAILABLE_IN_ALL
gboolean mk_envelope_get_dsn_required (const MkEnvelope *envelope);

MK_AVAILABLE_IN_ALL
void mk_envelope_set_require_tls (MkEnvelope *envelope, gboolean require_tls);

MK_AVAILABLE_IN_ALL
gboolean mk_envelope_get_require_tls (const MkEnvelope *envelope);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MkEnvelope, mk_envelope_free)

G_END_DECLS
