/* mk-net-address.h: the host and port of a server given as one string
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

MK_AVAILABLE_IN_ALL
gboolean mk_net_parse_host_port (const char *address, guint16 default_port, char **host,
                                 guint16 *port, GError **error);

G_END_DECLS
