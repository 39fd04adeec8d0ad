/* mk-tls-output-stream.c: the writing side of an MkTlsStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-tls-output-stream-private.h"
#include "mk-tls-stream-private.h"

struct _MkTlsOutputStream
{
  GOutputStream parent_instance;
  GWeakRef tls;
};

static void mk_tls_output_stream_pollable_iface_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MkTlsOutputStream, mk_tls_output_stream, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      mk_tls_output_stream_pollable_iface_init))

static MkTlsStream *
get_tls (MkTlsOutputStream *self, GError **error)
{
  MkTlsStream *tls = g_weak_ref_get (&self->tls);

  if (tls == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The TLS stream is gone");
  return tls;
}

static gssize
mk_tls_output_stream_write (GOutputStream *stream, const void *buffer, gsize count,
                            GCancellable *cancellable, GError **error)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_OUTPUT_STREAM (stream), error);

  if (tls == NULL)
    return -1;
  return mk_tls_stream_write (tls, buffer, count, TRUE, cancellable, error);
}

static gboolean
mk_tls_output_stream_can_poll (GPollableOutputStream *stream)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_OUTPUT_STREAM (stream), NULL);

  return tls != NULL && mk_tls_stream_can_poll (tls);
}

static gboolean
mk_tls_output_stream_is_writable (GPollableOutputStream *stream)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_OUTPUT_STREAM (stream), NULL);

  /* A stream whose owner is gone is "writable": the write says why. */
  return tls == NULL || mk_tls_stream_is_ready (tls, G_IO_OUT);
}

static GSource *
mk_tls_output_stream_create_source (GPollableOutputStream *stream, GCancellable *cancellable)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_OUTPUT_STREAM (stream), NULL);
  g_autoptr (GSource) child
      = tls != NULL ? mk_tls_stream_create_base_source (tls, G_IO_OUT) : g_timeout_source_new (0);

  return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
mk_tls_output_stream_write_nonblocking (GPollableOutputStream *stream, const void *buffer,
                                        gsize count, GError **error)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_OUTPUT_STREAM (stream), error);

  if (tls == NULL)
    return -1;
  return mk_tls_stream_write (tls, buffer, count, FALSE, NULL, error);
}

static void
mk_tls_output_stream_pollable_iface_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = mk_tls_output_stream_can_poll;
  iface->is_writable = mk_tls_output_stream_is_writable;
  iface->create_source = mk_tls_output_stream_create_source;
  iface->write_nonblocking = mk_tls_output_stream_write_nonblocking;
}

static gboolean
mk_tls_output_stream_flush (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_OUTPUT_STREAM (stream), error);

  /* Records went to the base stream whole: flushing it sends them on if it
   * buffers. */
  return tls != NULL
         && g_output_stream_flush (
             g_io_stream_get_output_stream (mk_tls_stream_get_base_stream (tls)), cancellable,
             error);
}

static gboolean
mk_tls_output_stream_close (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  /* The MkTlsStream's close does the work (close_notify, the base). */
  return TRUE;
}

static void
mk_tls_output_stream_finalize (GObject *object)
{
  g_weak_ref_clear (&MK_TLS_OUTPUT_STREAM (object)->tls);
  G_OBJECT_CLASS (mk_tls_output_stream_parent_class)->finalize (object);
}

static void
mk_tls_output_stream_class_init (MkTlsOutputStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mk_tls_output_stream_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = mk_tls_output_stream_write;
  G_OUTPUT_STREAM_CLASS (klass)->flush = mk_tls_output_stream_flush;
  G_OUTPUT_STREAM_CLASS (klass)->close_fn = mk_tls_output_stream_close;
}

static void
mk_tls_output_stream_init (MkTlsOutputStream *self)
{
  g_weak_ref_init (&self->tls, NULL);
}

GOutputStream *
mk_tls_output_stream_new (MkTlsStream *tls)
{
  MkTlsOutputStream *self = g_object_new (MK_TYPE_TLS_OUTPUT_STREAM, NULL);

  g_weak_ref_set (&self->tls, tls);
  return G_OUTPUT_STREAM (self);
}
