/* mk-envelope.c: the SMTP envelope of a message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rules are smtplib's send_message() (Sender else From; To, Cc, Bcc;
 * one Resent- block) with its surprises removed: every header of a name is
 * read, not only the first; an empty group adds nobody instead of `<>`; a
 * missing sender is an error instead of the literal "None"; recipients go
 * out in To, Cc, Bcc order, each once.
 */
#include "config.h"

#include <string.h>

#include "mk-envelope-private.h"
#include "libmailkit/mime/mk-gmime-autocleanups-private.h"
#include "libmailkit/smtp/mk-smtp-command-private.h"
#include "libmailkit/smtp/mk-smtp-error.h"

/* What a recipient asks for beyond its address (RFC 3461 §4.1, §4.2). */
typedef struct
{
  gboolean notify_set; /* else the envelope's notify applies */
  MkDsnNotify notify;
  char *orcpt; /* the original address, as given */
} RecipientDsn;

struct _MkEnvelope
{
  char *reverse_path;
  GPtrArray *recipients; /* NULL-terminated, for get_recipients() */
  GHashTable *keys;      /* of the recipients (to keep each once) → RecipientDsn */
  gboolean needs_smtputf8;
  MkDsnNotify dsn_notify;
  MkDsnReturn dsn_return;
  char *dsn_envid;
  gboolean dsn_required;
  gboolean require_tls;
};

#define DSN_NOTIFY_ALL                                                                             \
  (MK_DSN_NOTIFY_NEVER | MK_DSN_NOTIFY_SUCCESS | MK_DSN_NOTIFY_FAILURE | MK_DSN_NOTIFY_DELAY)

static void
recipient_dsn_free (gpointer data)
{
  RecipientDsn *dsn = data;

  g_free (dsn->orcpt);
  g_free (dsn);
}

static RecipientDsn *
recipient_dsn_copy (const RecipientDsn *dsn)
{
  RecipientDsn *copy = g_memdup2 (dsn, sizeof *dsn);

  copy->orcpt = g_strdup (dsn->orcpt);
  return copy;
}

G_DEFINE_BOXED_TYPE (MkEnvelope, mk_envelope, mk_envelope_copy, mk_envelope_free)

/* Characters that cannot appear unquoted in an addr-spec (RFC 5322 §3.2.3
 * specials and space, minus the `.` of a dot-atom and the `@`): their
 * presence means a display form or a list was given where one bare address
 * belongs. */
#define NOT_IN_ADDR_SPEC " <>,;:()[]\"\\"

/* Checks @address, an addr-spec as it goes between `<` and `>`, and returns
 * it as it goes on the wire: the domain in IDNA A-labels. Sets @utf8 when
 * the local part is not ASCII (only SMTPUTF8 can carry it). @what names the
 * address in the error. */
static char *
not_an_address (const char *what, const char *address, GError **error)
{
  g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
               "%s “%s” is not a single bare address such as user@example.org", what, address);
  return NULL;
}

static char *
normalise_address (const char *what, const char *address, gboolean *utf8, GError **error)
{
  g_autofree char *local = NULL;
  g_autofree char *domain = NULL;
  const char *p = address;

  if (!g_utf8_validate (address, -1, NULL))
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, "%s is not valid UTF-8", what);
      return NULL;
    }
  for (const char *c = address; *c != '\0'; c++)
    if ((guchar)*c < 0x20 || *c == 0x7f)
      {
        g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                     "%s contains a control character (CR, LF or another)", what);
        return NULL;
      }
  if (*address == '\0')
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, "%s is empty", what);
      return NULL;
    }
  if (*address == '@')
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                   "%s “%s” is a source route; give the final address only (RFC 5321 §4.1.2)", what,
                   address);
      return NULL;
    }

  /* A quoted local part may hold anything printable; the rest may not
   * hold specials. */
  if (*p == '"')
    {
      for (p++; *p != '\0' && *p != '"'; p++)
        if (*p == '\\' && p[1] != '\0')
          p++;
      if (*p == '\0')
        return not_an_address (what, address, error);
      p++;
    }
  for (; *p != '\0' && *p != '@'; p++)
    if (strchr (NOT_IN_ADDR_SPEC, *p) != NULL)
      return not_an_address (what, address, error);
  local = g_strndup (address, p - address);
  if (*p == '@')
    {
      const char *d = ++p;

      for (; *p != '\0'; p++)
        if (*p == '@'
            || (strchr (NOT_IN_ADDR_SPEC, *p) != NULL && *p != '[' && *p != ']' && *p != ':'))
          return not_an_address (what, address, error);
      if (*d == '\0')
        return not_an_address (what, address, error);
      /* A domain literal ([192.0.2.1], [IPv6:…]) is ASCII and stays as is. */
      domain = *d == '[' ? g_strdup (d) : g_hostname_to_ascii (d);
      if (domain == NULL)
        {
          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                       "%s “%s” has a domain that is not a valid internationalised domain name",
                       what, address);
          return NULL;
        }
    }

  for (const char *c = local; *c != '\0'; c++)
    if ((guchar)*c >= 0x80)
      *utf8 = TRUE;
  return domain != NULL ? g_strconcat (local, "@", domain, NULL) : g_steal_pointer (&local);
}

static MkEnvelope *
envelope_alloc (void)
{
  MkEnvelope *envelope = g_new0 (MkEnvelope, 1);

  envelope->recipients = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (envelope->recipients, NULL);
  envelope->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, recipient_dsn_free);
  return envelope;
}

/* @what names @reverse_path in errors; NULL only for the null path "". */
static MkEnvelope *
envelope_new (const char *what, const char *reverse_path, GError **error)
{
  g_autoptr (MkEnvelope) envelope = envelope_alloc ();

  if (what == NULL)
    envelope->reverse_path = g_strdup ("");
  else
    envelope->reverse_path
        = normalise_address (what, reverse_path, &envelope->needs_smtputf8, error);
  if (envelope->reverse_path == NULL)
    return NULL;
  return g_steal_pointer (&envelope);
}

/**
 * mk_envelope_new:
 * @reverse_path: the sender's address, as it goes between `<` and `>` in
 *   `MAIL FROM` (`user@example.org`); "" for the null reverse-path `<>`
 *   of bounces
 * @error: return location for a #GError
 *
 * Creates an envelope with no recipients yet.
 *
 * The address is checked here, before anything is sent: a CR, LF, NUL or
 * other control character, a display form (`Name <user@example.org>`), a
 * list or a source route (`@relay:user@example.org`) fails with
 * %MK_SMTP_ERROR_INVALID. A domain in Unicode is converted to IDNA
 * A-labels.
 *
 * Returns: (transfer full) (nullable): the new envelope, or %NULL with
 *   @error set (%MK_SMTP_ERROR)
 *
 * Since: 0.1
 */
MkEnvelope *
mk_envelope_new (const char *reverse_path, GError **error)
{
  g_return_val_if_fail (reverse_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return envelope_new (*reverse_path == '\0' ? NULL : "The sender address", reverse_path, error);
}

/**
 * mk_envelope_copy:
 * @envelope: an envelope
 *
 * Copies @envelope, its delivery status notification and REQUIRETLS
 * settings included.
 *
 * Returns: (transfer full): a copy of @envelope
 *
 * Since: 0.1
 */
MkEnvelope *
mk_envelope_copy (const MkEnvelope *envelope)
{
  GHashTableIter iter;
  gpointer key;
  gpointer value;
  MkEnvelope *copy;

  g_return_val_if_fail (envelope != NULL, NULL);

  copy = envelope_alloc ();
  copy->reverse_path = g_strdup (envelope->reverse_path);
  copy->needs_smtputf8 = envelope->needs_smtputf8;
  copy->dsn_notify = envelope->dsn_notify;
  copy->dsn_return = envelope->dsn_return;
  copy->dsn_envid = g_strdup (envelope->dsn_envid);
  copy->dsn_required = envelope->dsn_required;
  copy->require_tls = envelope->require_tls;
  for (guint i = 0; i + 1 < envelope->recipients->len; i++)
    {
      const char *recipient = g_ptr_array_index (envelope->recipients, i);

      g_ptr_array_insert (copy->recipients, i, g_strdup (recipient));
    }
  g_hash_table_iter_init (&iter, envelope->keys);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->keys, g_strdup (key), recipient_dsn_copy (value));
  return copy;
}

/**
 * mk_envelope_free:
 * @envelope: (nullable): an envelope
 *
 * Frees @envelope.
 *
 * Since: 0.1
 */
void
mk_envelope_free (MkEnvelope *envelope)
{
  if (envelope == NULL)
    return;
  g_free (envelope->reverse_path);
  g_free (envelope->dsn_envid);
  g_ptr_array_unref (envelope->recipients);
  g_hash_table_unref (envelope->keys);
  g_free (envelope);
}

/* What tells recipients apart: the local part compared exactly (RFC 5321
 * §2.4 lets it be case-sensitive), the domain without regard to case. */
static char *
recipient_key (const char *address)
{
  const char *at = strrchr (address, '@');
  g_autofree char *domain = NULL;

  if (at == NULL)
    return g_strdup (address);
  domain = g_ascii_strdown (at, -1);
  return g_strdup_printf ("%.*s%s", (int)(at - address), address, domain);
}

/* Adds an already normalised recipient unless it is there already. */
static void
add_normalised (MkEnvelope *envelope, char *address)
{
  char *key = recipient_key (address);

  if (g_hash_table_contains (envelope->keys, key))
    {
      g_free (key);
      g_free (address);
      return;
    }
  g_hash_table_insert (envelope->keys, key, g_new0 (RecipientDsn, 1));
  g_ptr_array_insert (envelope->recipients, envelope->recipients->len - 1, address);
}

static gboolean
add_recipient (MkEnvelope *envelope, const char *what, const char *address, GError **error)
{
  char *normalised = normalise_address (what, address, &envelope->needs_smtputf8, error);

  if (normalised == NULL)
    return FALSE;
  add_normalised (envelope, normalised);
  return TRUE;
}

/**
 * mk_envelope_add_recipient:
 * @envelope: an envelope
 * @address: the recipient's address, as it goes between `<` and `>` in
 *   `RCPT TO` (`user@example.org`)
 * @error: return location for a #GError
 *
 * Adds a recipient after those already there; an address already present
 * (the domain compared without regard to case) is not added twice. The
 * address is checked as in mk_envelope_new(); it cannot be empty.
 *
 * Returns: %TRUE, or %FALSE with @error set (%MK_SMTP_ERROR_INVALID)
 *
 * Since: 0.1
 */
gboolean
mk_envelope_add_recipient (MkEnvelope *envelope, const char *address, GError **error)
{
  g_return_val_if_fail (envelope != NULL, FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return add_recipient (envelope, "The recipient address", address, error);
}

/**
 * mk_envelope_get_reverse_path:
 * @envelope: an envelope
 *
 * Gets the sender's address as it goes between `<` and `>` in `MAIL FROM`.
 *
 * Returns: (transfer none): the reverse-path; "" for the null reverse-path
 *
 * Since: 0.1
 */
const char *
mk_envelope_get_reverse_path (const MkEnvelope *envelope)
{
  g_return_val_if_fail (envelope != NULL, NULL);
  return envelope->reverse_path;
}

/**
 * mk_envelope_get_recipients:
 * @envelope: an envelope
 *
 * Gets the recipients in the order they go out in `RCPT TO` commands.
 *
 * Returns: (transfer none) (array zero-terminated=1): the recipients
 *
 * Since: 0.1
 */
const char *const *
mk_envelope_get_recipients (const MkEnvelope *envelope)
{
  g_return_val_if_fail (envelope != NULL, NULL);
  return (const char *const *)envelope->recipients->pdata;
}

/**
 * mk_envelope_needs_smtputf8:
 * @envelope: an envelope
 *
 * Whether an address of the envelope has a local part that is not ASCII,
 * which only a server offering SMTPUTF8 (RFC 6531) accepts. (A domain in
 * Unicode does not count: it is sent in its ASCII form.)
 *
 * Returns: %TRUE if sending needs SMTPUTF8
 *
 * Since: 0.1
 */
gboolean
mk_envelope_needs_smtputf8 (const MkEnvelope *envelope)
{
  g_return_val_if_fail (envelope != NULL, FALSE);
  return envelope->needs_smtputf8;
}

/**
 * mk_envelope_get_message_id_domain:
 * @envelope: an envelope
 *
 * Gets the domain a Message-ID generated for a message of this envelope
 * should use: the sender's domain, as mail clients do (smtplib's
 * `make_msgid()` uses the host's name, often "localhost").
 *
 * Returns: (transfer none) (nullable): the domain of the reverse-path (in
 *   its ASCII form), or %NULL for the null reverse-path, an address without
 *   a domain or a domain literal
 *
 * Since: 0.1
 */
const char *
mk_envelope_get_message_id_domain (const MkEnvelope *envelope)
{
  const char *at;

  g_return_val_if_fail (envelope != NULL, NULL);

  at = strrchr (envelope->reverse_path, '@');
  if (at == NULL || at[1] == '[')
    return NULL;
  return at + 1;
}

/* Calls @func on every mailbox of @list, group members included (an empty
 * group has none); stops at the first failure. */
typedef gboolean (*MailboxFunc) (InternetAddressMailbox *mailbox, gpointer data, GError **error);

static gboolean
foreach_mailbox (InternetAddressList *list, MailboxFunc func, gpointer data, GError **error)
{
  for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          InternetAddressList *members
              = internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));

          if (!foreach_mailbox (members, func, data, error))
            return FALSE;
        }
      else if (!func (INTERNET_ADDRESS_MAILBOX (address), data, error))
        return FALSE;
    }
  return TRUE;
}

/* The @index-th header if it is called @name and has a value: GMime keeps
 * value-less placeholders (g_mime_message_new (TRUE) makes them to fix the
 * order of headers) that are never written, so they do not count. */
static GMimeHeader *
header_at (GMimeHeaderList *headers, int index, const char *name)
{
  GMimeHeader *header = g_mime_header_list_get_header_at (headers, index);

  if (g_ascii_strcasecmp (g_mime_header_get_name (header), name) != 0
      || g_mime_header_get_value (header) == NULL)
    return NULL;
  return header;
}

static InternetAddressList *
parse_header (GMimeHeader *header)
{
  const char *value = g_mime_header_get_raw_value (header);

  return internet_address_list_parse (NULL,
                                      value != NULL ? value : g_mime_header_get_value (header));
}

typedef struct
{
  MkEnvelope *envelope;
  const char *header_name;
  char *first;
} Collect;

static gboolean
take_first (InternetAddressMailbox *mailbox, gpointer data, GError **error)
{
  Collect *collect = data;

  if (collect->first == NULL)
    collect->first = g_strdup (internet_address_mailbox_get_addr (mailbox));
  return TRUE;
}

static gboolean
add_mailbox (InternetAddressMailbox *mailbox, gpointer data, GError **error)
{
  Collect *collect = data;
  g_autofree char *what = g_strdup_printf ("An address of the %s header", collect->header_name);

  return add_recipient (collect->envelope, what, internet_address_mailbox_get_addr (mailbox),
                        error);
}

/* The sender from the first @prefix Sender header, else the first @prefix
 * From header. */
static MkEnvelope *
envelope_for_sender (GMimeHeaderList *headers, const char *prefix, GError **error)
{
  static const char *const names[] = { "Sender", "From" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *name = g_strconcat (prefix, names[i], NULL);
      GMimeHeader *header = NULL;
      g_autoptr (InternetAddressList) list = NULL;
      g_autofree char *what = NULL;
      Collect collect = { NULL, name, NULL };
      MkEnvelope *envelope;

      for (int j = 0; header == NULL && j < g_mime_header_list_get_count (headers); j++)
        header = header_at (headers, j, name);
      if (header == NULL)
        continue;
      list = parse_header (header);
      foreach_mailbox (list, take_first, &collect, NULL);
      if (collect.first == NULL)
        {
          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                       "The %s header holds no address to take the sender from", name);
          return NULL;
        }
      what = g_strdup_printf ("The address of the %s header", name);
      envelope = envelope_new (what, collect.first, error);
      g_free (collect.first);
      return envelope;
    }
  g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
               "The message has no %sFrom or %sSender header to take the sender from; "
               "give the sender explicitly",
               prefix, prefix);
  return NULL;
}

/* Every recipient of every @prefix To, Cc and Bcc header, in that order. */
static gboolean
add_header_recipients (MkEnvelope *envelope, GMimeHeaderList *headers, const char *prefix,
                       GError **error)
{
  static const char *const names[] = { "To", "Cc", "Bcc" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *name = g_strconcat (prefix, names[i], NULL);

      for (int j = 0; j < g_mime_header_list_get_count (headers); j++)
        {
          GMimeHeader *header = header_at (headers, j, name);
          g_autoptr (InternetAddressList) list = NULL;
          Collect collect = { envelope, name, NULL };

          if (header == NULL)
            continue;
          list = parse_header (header);
          if (!foreach_mailbox (list, add_mailbox, &collect, error))
            return FALSE;
        }
    }
  if (envelope->recipients->len == 1)
    {
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                   "The message has no recipient in its %sTo, %sCc or %sBcc headers; "
                   "give the recipients explicitly",
                   prefix, prefix, prefix);
      return FALSE;
    }
  return TRUE;
}

/**
 * mk_envelope_new_from_message:
 * @message: a message
 * @from: (nullable): the sender, overriding the headers
 * @to: (nullable) (array zero-terminated=1): the recipients, overriding
 *   the headers
 * @error: return location for a #GError
 *
 * Takes the envelope of @message from its headers, as
 * `smtplib.SMTP.send_message()` does, for what @from and @to leave open:
 *
 * - When the message has one `Resent-Date` header, the `Resent-` headers
 *   are used (`Resent-Sender`, `Resent-From`, `Resent-To`, …): the message
 *   is being resent. Several are an error, since which block is the last
 *   cannot be told reliably.
 * - The sender is the first address of the first Sender header, else of
 *   the first From header.
 * - The recipients are every address of every To, then Cc, then Bcc
 *   header, each once, members of groups included (an empty group such as
 *   `undisclosed-recipients:;` adds nobody); display names are dropped.
 *
 * Explicit @from and @to are checked as in mk_envelope_new() and
 * mk_envelope_add_recipient(); an empty @to is an error.
 *
 * Returns: (transfer full) (nullable): the envelope, or %NULL with @error
 *   set: %MK_SMTP_ERROR_INVALID when there is no sender or no recipient
 *   (the message says which header was missing), when several Resent-
 *   blocks are present, or when an address is unusable (source route,
 *   control characters, invalid domain)
 *
 * Since: 0.1
 */
MkEnvelope *
mk_envelope_new_from_message (GMimeMessage *message, const char *from, const char *const *to,
                              GError **error)
{
  GMimeHeaderList *headers;
  g_autoptr (MkEnvelope) envelope = NULL;
  const char *prefix = "";

  g_return_val_if_fail (GMIME_IS_MESSAGE (message), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  headers = g_mime_object_get_header_list (GMIME_OBJECT (message));
  if (from == NULL || to == NULL)
    {
      int resent_blocks = 0;

      for (int i = 0; i < g_mime_header_list_get_count (headers); i++)
        if (header_at (headers, i, "Resent-Date") != NULL)
          resent_blocks++;
      if (resent_blocks > 1)
        {
          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                       "The message has %d Resent-Date headers (several Resent- blocks); "
                       "give the sender and recipients explicitly",
                       resent_blocks);
          return NULL;
        }
      if (resent_blocks == 1)
        prefix = "Resent-";
    }

  envelope
      = from != NULL ? mk_envelope_new (from, error) : envelope_for_sender (headers, prefix, error);
  if (envelope == NULL)
    return NULL;

  if (to == NULL)
    return add_header_recipients (envelope, headers, prefix, error) ? g_steal_pointer (&envelope)
                                                                    : NULL;
  if (to[0] == NULL)
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                           "The list of recipients given is empty");
      return NULL;
    }
  for (gsize i = 0; to[i] != NULL; i++)
    if (!mk_envelope_add_recipient (envelope, to[i], error))
      return NULL;
  return g_steal_pointer (&envelope);
}

/* ---- delivery status notifications (RFC 3461) and REQUIRETLS (RFC 8689) */

/* The settings of @recipient, given in any form mk_envelope_add_recipient()
 * takes; NULL with MK_SMTP_ERROR_INVALID when it is not a recipient. */
static RecipientDsn *
lookup_recipient (const MkEnvelope *envelope, const char *recipient, GError **error)
{
  gboolean utf8 = FALSE;
  g_autofree char *normalised
      = normalise_address ("The recipient address", recipient, &utf8, error);
  g_autofree char *key = NULL;
  RecipientDsn *dsn;

  if (normalised == NULL)
    return NULL;
  key = recipient_key (normalised);
  dsn = g_hash_table_lookup (envelope->keys, key);
  if (dsn == NULL)
    g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                 "“%s” is not a recipient of the envelope; add it first", recipient);
  return dsn;
}

/**
 * mk_envelope_set_dsn_notify:
 * @envelope: an envelope
 * @recipient: (nullable): a recipient of @envelope (in any form
 *   mk_envelope_add_recipient() takes), or %NULL for every recipient,
 *   those added later included
 * @notify: when to notify; %MK_DSN_NOTIFY_NEVER alone, or any of SUCCESS,
 *   FAILURE and DELAY together; %MK_DSN_NOTIFY_DEFAULT for no `NOTIFY`
 *   parameter (for a @recipient: what the envelope-wide setting says)
 * @error: return location for a #GError
 *
 * Asks for delivery status notifications (RFC 3461 §4.1): the `NOTIFY`
 * parameter of `RCPT TO`. A setting for one recipient takes precedence
 * over the envelope-wide one; setting the envelope-wide one (@recipient
 * %NULL) forgets the settings of single recipients.
 *
 * The parameter goes out only when the server offers DSN; see
 * mk_envelope_set_dsn_required() for what happens when it does not.
 *
 * Returns: %TRUE, or %FALSE with @error set: %MK_SMTP_ERROR_INVALID when
 *   %MK_DSN_NOTIFY_NEVER is combined with another flag, or @recipient is
 *   not a recipient of @envelope
 *
 * Since: 0.1
 */
gboolean
mk_envelope_set_dsn_notify (MkEnvelope *envelope, const char *recipient, MkDsnNotify notify,
                            GError **error)
{
  RecipientDsn *dsn;

  g_return_val_if_fail (envelope != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* RFC 3461 §4.1: "NEVER" or a list of the others, never both. */
  if ((notify & ~DSN_NOTIFY_ALL) != 0
      || ((notify & MK_DSN_NOTIFY_NEVER) != 0 && notify != MK_DSN_NOTIFY_NEVER))
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                           "NOTIFY=NEVER cannot be combined with SUCCESS, FAILURE or DELAY "
                           "(RFC 3461 §4.1)");
      return FALSE;
    }
  if (recipient == NULL)
    {
      GHashTableIter iter;
      gpointer value;

      envelope->dsn_notify = notify;
      g_hash_table_iter_init (&iter, envelope->keys);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        ((RecipientDsn *)value)->notify_set = FALSE;
      return TRUE;
    }
  dsn = lookup_recipient (envelope, recipient, error);
  if (dsn == NULL)
    return FALSE;
  dsn->notify_set = notify != MK_DSN_NOTIFY_DEFAULT;
  dsn->notify = notify;
  return TRUE;
}

/**
 * mk_envelope_get_dsn_notify:
 * @envelope: an envelope
 * @recipient: (nullable): a recipient of @envelope, or %NULL
 *
 * Gets when delivery status notifications are asked for @recipient: its
 * own setting, else the envelope-wide one (also for %NULL or an address
 * that is not a recipient).
 *
 * Returns: the `NOTIFY` flags, %MK_DSN_NOTIFY_DEFAULT when none
 *
 * Since: 0.1
 */
MkDsnNotify
mk_envelope_get_dsn_notify (const MkEnvelope *envelope, const char *recipient)
{
  RecipientDsn *dsn;

  g_return_val_if_fail (envelope != NULL, MK_DSN_NOTIFY_DEFAULT);

  if (recipient == NULL)
    return envelope->dsn_notify;
  dsn = lookup_recipient (envelope, recipient, NULL);
  return dsn != NULL && dsn->notify_set ? dsn->notify : envelope->dsn_notify;
}

/**
 * mk_envelope_set_dsn_orcpt:
 * @envelope: an envelope
 * @recipient: a recipient of @envelope (in any form
 *   mk_envelope_add_recipient() takes)
 * @original_address: (nullable): the address the message was originally
 *   sent to (`user@example.org`, angle brackets and a display name
 *   allowed), or %NULL for none
 * @error: return location for a #GError
 *
 * Sets the original recipient that a delivery status notification for
 * @recipient names (RFC 3461 §4.2): the `ORCPT` parameter of its
 * `RCPT TO`, sent as `ORCPT=rfc822;` and the address in xtext, or for an
 * address that is not ASCII as `ORCPT=utf-8;` in the form of RFC 6533 §3.
 *
 * Returns: %TRUE, or %FALSE with @error set: %MK_SMTP_ERROR_INVALID when
 *   @recipient is not a recipient of @envelope, or @original_address is
 *   not one address (control characters such as CR, LF or NUL, a list, a
 *   source route)
 *
 * Since: 0.1
 */
gboolean
mk_envelope_set_dsn_orcpt (MkEnvelope *envelope, const char *recipient,
                           const char *original_address, GError **error)
{
  RecipientDsn *dsn;

  g_return_val_if_fail (envelope != NULL, FALSE);
  g_return_val_if_fail (recipient != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  dsn = lookup_recipient (envelope, recipient, error);
  if (dsn == NULL)
    return FALSE;
  if (original_address != NULL)
    {
      g_autofree char *parameter = mk_smtp_param_orcpt (original_address, error);

      if (parameter == NULL)
        return FALSE;
    }
  g_free (dsn->orcpt);
  dsn->orcpt = g_strdup (original_address);
  return TRUE;
}

/**
 * mk_envelope_get_dsn_orcpt:
 * @envelope: an envelope
 * @recipient: a recipient of @envelope
 *
 * Gets the original recipient set for @recipient with
 * mk_envelope_set_dsn_orcpt().
 *
 * Returns: (transfer none) (nullable): the original address as it was
 *   given, or %NULL when none was set (or @recipient is not a recipient)
 *
 * Since: 0.1
 */
const char *
mk_envelope_get_dsn_orcpt (const MkEnvelope *envelope, const char *recipient)
{
  RecipientDsn *dsn;

  g_return_val_if_fail (envelope != NULL, NULL);
  g_return_val_if_fail (recipient != NULL, NULL);

  dsn = lookup_recipient (envelope, recipient, NULL);
  return dsn != NULL ? dsn->orcpt : NULL;
}

/**
 * mk_envelope_set_dsn_return:
 * @envelope: an envelope
 * @ret: how much of the message a notification returns
 *
 * Sets the `RET` parameter of `MAIL FROM` (RFC 3461 §4.3).
 *
 * Since: 0.1
 */
void
mk_envelope_set_dsn_return (MkEnvelope *envelope, MkDsnReturn ret)
{
  g_return_if_fail (envelope != NULL);
  g_return_if_fail (ret == MK_DSN_RETURN_DEFAULT || ret == MK_DSN_RETURN_FULL
                    || ret == MK_DSN_RETURN_HEADERS);

  envelope->dsn_return = ret;
}

/**
 * mk_envelope_get_dsn_return:
 * @envelope: an envelope
 *
 * Gets what mk_envelope_set_dsn_return() set.
 *
 * Returns: the `RET` setting
 *
 * Since: 0.1
 */
MkDsnReturn
mk_envelope_get_dsn_return (const MkEnvelope *envelope)
{
  g_return_val_if_fail (envelope != NULL, MK_DSN_RETURN_DEFAULT);
  return envelope->dsn_return;
}

/**
 * mk_envelope_set_dsn_envid:
 * @envelope: an envelope
 * @envid: (nullable): an identifier of this transmission, returned in
 *   every notification (`Original-Envelope-Id`), or %NULL for none
 * @error: return location for a #GError
 *
 * Sets the `ENVID` parameter of `MAIL FROM` (RFC 3461 §4.4). It is sent in
 * xtext (`+`, `=`, space and the like as `+XX`).
 *
 * Returns: %TRUE, or %FALSE with @error set (%MK_SMTP_ERROR_INVALID) when
 *   @envid is empty, longer than 100 characters, or holds anything but
 *   printable ASCII and spaces (CR, LF, NUL, other control characters,
 *   non-ASCII)
 *
 * Since: 0.1
 */
gboolean
mk_envelope_set_dsn_envid (MkEnvelope *envelope, const char *envid, GError **error)
{
  g_return_val_if_fail (envelope != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (envid != NULL)
    {
      g_autofree char *parameter = mk_smtp_param_envid (envid, error);

      if (parameter == NULL)
        return FALSE;
    }
  g_free (envelope->dsn_envid);
  envelope->dsn_envid = g_strdup (envid);
  return TRUE;
}

/**
 * mk_envelope_get_dsn_envid:
 * @envelope: an envelope
 *
 * Gets what mk_envelope_set_dsn_envid() set.
 *
 * Returns: (transfer none) (nullable): the envelope identifier, or %NULL
 *
 * Since: 0.1
 */
const char *
mk_envelope_get_dsn_envid (const MkEnvelope *envelope)
{
  g_return_val_if_fail (envelope != NULL, NULL);
  return envelope->dsn_envid;
}

/**
 * mk_envelope_set_dsn_required:
 * @envelope: an envelope
 * @required: whether the server must offer DSN
 *
 * Decides what happens to the delivery status notification settings
 * (NOTIFY, ORCPT, RET, ENVID) when the server does not offer DSN: by
 * default they are dropped and the message is sent without them; with
 * @required, sending fails with %MK_SMTP_ERROR_NOT_SUPPORTED before
 * `MAIL FROM`.
 *
 * Since: 0.1
 */
void
mk_envelope_set_dsn_required (MkEnvelope *envelope, gboolean required)
{
  g_return_if_fail (envelope != NULL);
  envelope->dsn_required = !!required;
}

/**
 * mk_envelope_get_dsn_required:
 * @envelope: an envelope
 *
 * Gets what mk_envelope_set_dsn_required() set.
 *
 * Returns: whether the server must offer DSN
 *
 * Since: 0.1
 */
gboolean
mk_envelope_get_dsn_required (const MkEnvelope *envelope)
{
  g_return_val_if_fail (envelope != NULL, FALSE);
  return envelope->dsn_required;
}

/**
 * mk_envelope_set_require_tls:
 * @envelope: an envelope
 * @require_tls: whether the message must travel over TLS only
 *
 * Asks that every hop of the message use TLS with a verified certificate,
 * and that it bounce rather than travel without (RFC 8689): `REQUIRETLS`
 * on `MAIL FROM`. It is never dropped: sending fails with
 * %MK_SMTP_ERROR_NOT_SUPPORTED before `MAIL FROM` when the session is not
 * TLS-protected, its certificate is not verified
 * (#MkSmtpClient:tls-insecure-skip-verify), or the server does not offer
 * REQUIRETLS.
 *
 * Since: 0.1
 */
void
mk_envelope_set_require_tls (MkEnvelope *envelope, gboolean require_tls)
{
  g_return_if_fail (envelope != NULL);
  envelope->require_tls = !!require_tls;
}

/**
 * mk_envelope_get_require_tls:
 * @envelope: an envelope
 *
 * Gets what mk_envelope_set_require_tls() set.
 *
 * Returns: whether `REQUIRETLS` is asked for
 *
 * Since: 0.1
 */
gboolean
mk_envelope_get_require_tls (const MkEnvelope *envelope)
{
  g_return_val_if_fail (envelope != NULL, FALSE);
  return envelope->require_tls;
}

gboolean
mk_envelope_has_dsn (const MkEnvelope *envelope)
{
  GHashTableIter iter;
  gpointer value;

  if (envelope->dsn_notify != MK_DSN_NOTIFY_DEFAULT || envelope->dsn_return != MK_DSN_RETURN_DEFAULT
      || envelope->dsn_envid != NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, envelope->keys);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      RecipientDsn *dsn = value;

      if (dsn->notify_set || dsn->orcpt != NULL)
        return TRUE;
    }
  return FALSE;
}

void
mk_envelope_add_dsn_mail_parameters (const MkEnvelope *envelope, GPtrArray *parameters)
{
  if (envelope->dsn_return != MK_DSN_RETURN_DEFAULT)
    g_ptr_array_add (
        parameters,
        g_strdup (envelope->dsn_return == MK_DSN_RETURN_FULL ? "RET=FULL" : "RET=HDRS"));
  /* Checked when it was set. */
  if (envelope->dsn_envid != NULL)
    g_ptr_array_add (parameters, mk_smtp_param_envid (envelope->dsn_envid, NULL));
}

char **
mk_envelope_get_dsn_rcpt_parameters (const MkEnvelope *envelope, const char *recipient)
{
  static const struct
  {
    MkDsnNotify flag;
    const char *name;
  } notify_names[] = {
    { MK_DSN_NOTIFY_NEVER, "NEVER" },
    { MK_DSN_NOTIFY_SUCCESS, "SUCCESS" },
    { MK_DSN_NOTIFY_FAILURE, "FAILURE" },
    { MK_DSN_NOTIFY_DELAY, "DELAY" },
  };
  g_autofree char *key = recipient_key (recipient);
  RecipientDsn *dsn = g_hash_table_lookup (envelope->keys, key);
  MkDsnNotify notify = dsn != NULL && dsn->notify_set ? dsn->notify : envelope->dsn_notify;
  g_autoptr (GStrvBuilder) parameters = g_strv_builder_new ();
  g_auto (GStrv) list = NULL;

  if (notify != MK_DSN_NOTIFY_DEFAULT)
    {
      g_autoptr (GString) names = g_string_new (NULL);
      g_autofree char *parameter = NULL;

      for (gsize i = 0; i < G_N_ELEMENTS (notify_names); i++)
        if ((notify & notify_names[i].flag) != 0)
          g_string_append_printf (names, "%s%s", names->len > 0 ? "," : "", notify_names[i].name);
      parameter = g_strconcat ("NOTIFY=", names->str, NULL);
      g_strv_builder_add (parameters, parameter);
    }
  /* Checked when it was set. */
  if (dsn != NULL && dsn->orcpt != NULL)
    {
      g_autofree char *orcpt = mk_smtp_param_orcpt (dsn->orcpt, NULL);

      g_strv_builder_add (parameters, orcpt);
    }
  list = g_strv_builder_end (parameters);
  return list[0] != NULL ? g_steal_pointer (&list) : NULL;
}
