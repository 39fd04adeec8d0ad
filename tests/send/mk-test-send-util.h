/* mk-test-send-util.h: what the tests of send/ share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libmailkit/mailkit.h>

#include "mk-test-fault-server.h"

G_BEGIN_DECLS

/* @text (a whole message) parsed by GMime; the test fails if it is not. */
GMimeMessage *mk_test_send_parse_message (const char *text);

/* A client connected to the scripted @server with @tls_mode, trusting the
 * test CA for "localhost"; the test fails if the connection does. */
MkSmtpClient *mk_test_send_connect (MkFaultServer *server, MkTlsMode tls_mode);

/* QUIT, which must succeed. */
void mk_test_send_quit (MkSmtpClient *client);

/* Waits for @server's script to end and fails the test with its reason
 * when the client broke an expectation. */
void mk_test_send_assert_server_happy (MkFaultServer *server);

/* Octets no text transfer can carry: NUL, bare CR and LF, a line over
 * 998 octets. */
GBytes *mk_test_send_binary_content (void);

/* The decoded content of the second part of the message in @data, which
 * must be called blob.bin, and that part's transfer encoding. */
GBytes *mk_test_send_received_blob (GBytes *data, GMimeContentEncoding *encoding);

G_END_DECLS
