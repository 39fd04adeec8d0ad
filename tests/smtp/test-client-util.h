/* test-client-util.h: sync and async twins of the MkSmtpClient calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every network test runs twice, once with the blocking calls and once with
 * the _async/_finish pairs driven by the thread-default main context; these
 * wrappers take the mode and call one or the other, so a test body is
 * written once.
 */
#pragma once

#include <libmailkit/mailkit.h>

#include "mk-test-fault-server.h"
#include "mk-test-utils.h"

G_BEGIN_DECLS

typedef enum {
  MODE_SYNC,
  MODE_ASYNC,
} Mode;

#define MODE(data) ((Mode) GPOINTER_TO_INT (data))

MkSmtpReply *t_connect (MkSmtpClient *client, const char *host, guint16 port, Mode mode,
                        GError **error);
MkSmtpReply *t_connect_server (MkSmtpClient *client, MkFaultServer *server, Mode mode,
                               GError **error);
MkSmtpReply *t_ehlo (MkSmtpClient *client, const char *name, Mode mode, GError **error);
MkSmtpReply *t_helo (MkSmtpClient *client, const char *name, Mode mode, GError **error);
gboolean t_ehlo_or_helo_if_needed (MkSmtpClient *client, Mode mode, GError **error);
MkSmtpReply *t_docmd (MkSmtpClient *client, const char *command, const char *args, Mode mode,
                      GError **error);
MkSmtpReply *t_noop (MkSmtpClient *client, Mode mode, GError **error);
MkSmtpReply *t_rset (MkSmtpClient *client, Mode mode, GError **error);
MkSmtpReply *t_verify (MkSmtpClient *client, const char *address, Mode mode, GError **error);
MkSmtpReply *t_expn (MkSmtpClient *client, const char *address, Mode mode, GError **error);
MkSmtpReply *t_help (MkSmtpClient *client, const char *args, Mode mode, GError **error);
MkSmtpReply *t_mail (MkSmtpClient *client, const char *sender, const char *const *options,
                     Mode mode, GError **error);
MkSmtpReply *t_rcpt (MkSmtpClient *client, const char *recipient, const char *const *options,
                     Mode mode, GError **error);
MkSmtpReply *t_data (MkSmtpClient *client, const char *message, Mode mode, GError **error);
MkSmtpReply *t_login (MkSmtpClient *client, const char *user, const char *password, Mode mode,
                      GError **error);
MkSmtpReply *t_auth (MkSmtpClient *client, const char *mechanism, const char *user,
                     const char *secret, Mode mode, GError **error);
MkSmtpReply *t_starttls (MkSmtpClient *client, Mode mode, GError **error);
MkSmtpReply *t_quit (MkSmtpClient *client, Mode mode, GError **error);
gboolean t_sendmail (MkSmtpClient *client, const char *from, const char *const *to,
                     const char *message, const char *const *mail_options,
                     const char *const *rcpt_options, GHashTable **refused, Mode mode,
                     GError **error);
gboolean t_sendmail_stream (MkSmtpClient *client, const char *from, const char *const *to,
                            GInputStream *message, GHashTable **refused, Mode mode,
                            GError **error);

/* Registers @func as /client/sync/@name and /client/async/@name. */
void t_add (const char *name, GTestDataFunc func);

/* A fault server with @script, a client connected to it (greeting read),
 * with the test CA trusted. */
MkFaultServer *t_server (const char *script);
MkFaultServer *t_server_unix (const char *script);

/* Waits for the server's script to end and asserts it saw no failure. */
void t_server_done (MkFaultServer *server);

G_END_DECLS
