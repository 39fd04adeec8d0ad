/* mk-mime-generated.c: Date and Message-ID for messages that lack them
 *
 * Both run once per message sent, so they must not cost system calls:
 * GLib 2.74's g_date_time_new_now_local() stats and reads the link
 * /etc/localtime on every call to see whether the zone changed, and
 * GMime's g_mime_utils_generate_message_id() opens and reads /dev/urandom
 * on every call. The local zone is looked up once per process (a zone
 * changed while the process runs is seen at its next start), and the left
 * side of a Message-ID is a random UUID from GLib's generator, seeded once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gmime/gmime.h>

#include "mk-mime-generated-private.h"

GDateTime *
mk_mime_generated_date (void)
{
  static GTimeZone *local_zone;

  if (g_once_init_enter (&local_zone))
    g_once_init_leave (&local_zone, g_time_zone_new_local ());
  return g_date_time_new_now (local_zone);
}

char *
mk_mime_generated_message_id (const char *domain)
{
  g_autofree char *uuid = NULL;

  if (domain == NULL)
    return g_mime_utils_generate_message_id (NULL);
  uuid = g_uuid_string_random ();
  return g_strdup_printf ("%s@%s", uuid, domain);
}
