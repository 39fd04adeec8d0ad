/* mk-net-address.c: the host and port of a server given as one string
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "mk-net-address.h"

/* A port is 1 to 5 ASCII digits, no sign, no space (stricter than
 * Python's int(), which smtplib uses); 0 means the default port. */
static gboolean
parse_port (const char *address, const char *text, guint16 default_port, guint16 *port,
            GError **error)
{
  guint64 value = 0;
  gsize length = strlen (text);

  if (length == 0 || length > 5 || strspn (text, "0123456789") != length)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Nonnumeric port in “%s”",
                   address);
      return FALSE;
    }
  value = g_ascii_strtoull (text, NULL, 10);
  if (value > G_MAXUINT16)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Port out of range in “%s”",
                   address);
      return FALSE;
    }
  *port = value != 0 ? (guint16)value : default_port;
  return TRUE;
}

/**
 * mk_net_parse_host_port:
 * @address: a server as the user wrote it: `host`, `host:port`,
 *   `192.0.2.1:2525`, `[2001:db8::1]:2525`, `[::1]`, `::1`, or a unix
 *   socket path starting with `/`
 * @default_port: the port when @address names none (or names port 0)
 * @host: (out) (transfer full): the host name, IP address (without
 *   brackets) or socket path
 * @port: (out): the port; 0 for a socket path
 * @error: return location for a #GError
 *
 * Splits @address into a host and a port the way Python's
 * `smtplib.SMTP.connect(host)` does when it is given no port: a string with
 * exactly one colon is split there, and the part after it must be a number.
 * A string with several colons is an IPv6 address and is not split, unless
 * the address is in brackets, which is how a port is given with an IPv6
 * address (`[::1]:2525`, the form smtplib cannot express). A path starting
 * with `/` is never split.
 *
 * Errors: %G_IO_ERROR_INVALID_ARGUMENT when the port is not a number from 0
 * to 65535, the host is empty or a bracket is not closed.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
mk_net_parse_host_port (const char *address, guint16 default_port, char **host, guint16 *port,
                        GError **error)
{
  const char *colon;
  g_autofree char *name = NULL;
  guint16 number = default_port;

  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (host != NULL, FALSE);
  g_return_val_if_fail (port != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (address[0] == '/')
    {
      *host = g_strdup (address);
      *port = 0;
      return TRUE;
    }

  if (address[0] == '[')
    {
      const char *close = strchr (address, ']');

      if (close == NULL || (close[1] != '\0' && close[1] != ':'))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Bad bracketed address “%s”",
                       address);
          return FALSE;
        }
      name = g_strndup (address + 1, close - address - 1);
      if (close[1] == ':' && !parse_port (address, close + 2, default_port, &number, error))
        return FALSE;
    }
  else if ((colon = strchr (address, ':')) != NULL && colon == strrchr (address, ':'))
    {
      name = g_strndup (address, colon - address);
      if (!parse_port (address, colon + 1, default_port, &number, error))
        return FALSE;
    }
  else
    name = g_strdup (address);

  if (name[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "No host in “%s”", address);
      return FALSE;
    }

  *host = g_steal_pointer (&name);
  *port = number;
  return TRUE;
}
