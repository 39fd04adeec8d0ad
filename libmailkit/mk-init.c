/* mk-init.c: one-time initialisation of GMime and OpenSSL
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gmime/gmime.h>
#include <openssl/ssl.h>

#include "mk-init.h"
#include "mk-version.h"

/**
 * mk_init:
 *
 * Initialises GMime and OpenSSL for libmailkit. Every constructor of the
 * library calls this itself, so applications never need to; calling it
 * again, from any thread, does nothing.
 *
 * GMime's global state is set up once and never torn down, so an application
 * that uses GMime itself may call g_mime_init() before or after this.
 *
 * Since: 0.1
 */
void
mk_init (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      g_mime_init ();
      OPENSSL_init_ssl (OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
      g_once_init_leave (&initialised, 1);
    }
}

/**
 * mk_get_version:
 *
 * The version of libmailkit the application runs against, which may be newer
 * than the one it was compiled against (%MK_VERSION_S).
 *
 * Returns: the version as a string such as "0.1.0"
 *
 * Since: 0.1
 */
const char *
mk_get_version (void)
{
  return MK_VERSION_S;
}
