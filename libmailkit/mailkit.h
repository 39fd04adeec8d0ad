/* mailkit.h: the one header applications include
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define __MAILKIT_H_INSIDE__

#include <glib-object.h>
#include <gio/gio.h>
#include <gmime/gmime.h>

#include <libmailkit/mk-export.h>
#include <libmailkit/mk-version.h>
#include <libmailkit/mk-init.h>
#include <libmailkit/mk-enum-types.h>

#include <libmailkit/net/mk-net.h>
#include <libmailkit/smtp/mk-smtp.h>
#include <libmailkit/mime/mk-mime.h>
#include <libmailkit/send/mk-send.h>

#undef __MAILKIT_H_INSIDE__
