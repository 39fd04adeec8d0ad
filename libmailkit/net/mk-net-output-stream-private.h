/* mk-net-output-stream-private.h: coalescing writes, each wait bounded
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Writes are queued up to this size and leave in one send: a pipelined
 * MAIL/RCPT/DATA group goes out in one segment (RFC 2920 §3.1 asks the
 * client to send as much as it can in one), a message body in blocks the
 * size of the body stream's own (MK_SMTP_DATA_BLOCK_SIZE). */
#define MK_NET_OUTPUT_BUFFER_SIZE (64 * 1024)

#define MK_TYPE_NET_OUTPUT_STREAM (mk_net_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkNetOutputStream, mk_net_output_stream, MK, NET_OUTPUT_STREAM, GOutputStream)

/* A stream that queues what is written and sends it to @target on flush
 * (or when the queue is full). Each wait for @target to take more fails
 * with G_IO_ERROR_TIMED_OUT after the timeout of
 * mk_net_output_stream_set_timeout() (0: no limit), naming @peer. Closing it
 * flushes and leaves @target open. */
MkNetOutputStream *mk_net_output_stream_new (GOutputStream *target, const char *peer);
void mk_net_output_stream_set_target (MkNetOutputStream *stream, GOutputStream *target);
void mk_net_output_stream_set_timeout (MkNetOutputStream *stream, double seconds);

G_END_DECLS
