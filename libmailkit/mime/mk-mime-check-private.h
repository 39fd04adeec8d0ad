/* mk-mime-check-private.h: what may go into a header, checked before GMime
 * sees it
 *
 * GMime 3.2 writes header names, msg-ids, Content-IDs and parameter values
 * as it is given them, line breaks included; these checks are what stands
 * between a caller's string and an injected header line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* A msg-id cannot be folded (RFC 5322 §3.6.4), so it must fit on one line
 * with its field name; this leaves room for the longest name that carries
 * one ("Resent-Message-ID: <" … ">"). */
#define MK_MIME_MAX_ID_LENGTH 900

/* A field name cannot be folded either (RFC 5322 §2.2.3): it shares its one
 * 998-octet line (§2.1.1) with the colon and a space. */
#define MK_MIME_MAX_HEADER_NAME_LENGTH 996

/* RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
#define MK_MIME_MAX_BOUNDARY_LENGTH 70

/* RFC 5322 §2.1.1: no line of a message may be longer than 998 octets
 * without its CRLF. */
#define MK_MIME_MAX_LINE_LENGTH 998

gboolean mk_mime_check_header_name (const char *name, GError **error);
gboolean mk_mime_check_token (const char *what, const char *token, GError **error);
gboolean mk_mime_check_parameter_value (const char *what, const char *value, GError **error);
gboolean mk_mime_check_text (const char *what, const char *text, GError **error);
gboolean mk_mime_check_boundary (const char *boundary, GError **error);
char *mk_mime_check_msg_id (const char *what, const char *id, gboolean need_at, GError **error);
gboolean mk_mime_check_address (InternetAddress *address, GError **error);
InternetAddressList *mk_mime_parse_addresses (const char *what, const char *text, GError **error);
gboolean mk_mime_check_header_block (const char *block, gsize length, GError **error);
gboolean mk_mime_check_object_headers (GMimeObject *object, GError **error);

G_END_DECLS
