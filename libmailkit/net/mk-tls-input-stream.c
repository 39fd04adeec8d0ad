/* mk-tls-input-stream.c: the reading side of an MkTlsStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mk-tls-input-stream-private.h"
#include "mk-tls-stream-private.h"

struct _MkTlsInputStream
{
  GInputStream parent_instance;
  GWeakRef tls;
};

static void mk_tls_input_stream_pollable_iface_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MkTlsInputStream, mk_tls_input_stream, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      mk_tls_input_stream_pollable_iface_init))

static MkTlsStream *
get_tls (MkTlsInputStream *self, GError **error)
{
  MkTlsStream *tls = g_weak_ref_get (&self->tls);

  if (tls == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The TLS stream is gone");
  return tls;
}

static gssize
mk_tls_input_stream_read (GInputStream *stream, void *buffer, gsize count,
                          GCancellable *cancellable, GError **error)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_INPUT_STREAM (stream), error);

  if (tls == NULL)
    return -1;
  return mk_tls_stream_read (tls, buffer, count, TRUE, cancellable, error);
}

static gboolean
mk_tls_input_stream_can_poll (GPollableInputStream *stream)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_INPUT_STREAM (stream), NULL);

  return tls != NULL && mk_tls_stream_can_poll (tls);
}

static gboolean
mk_tls_input_stream_is_readable (GPollableInputStream *stream)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_INPUT_STREAM (stream), NULL);

  /* A stream whose owner is gone is "readable": the read says why. */
  return tls == NULL || mk_tls_stream_is_ready (tls, G_IO_IN);
}

static GSource *
mk_tls_input_stream_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_INPUT_STREAM (stream), NULL);
  g_autoptr (GSource) child
      = tls != NULL ? mk_tls_stream_create_base_source (tls, G_IO_IN) : g_timeout_source_new (0);

  return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
mk_tls_input_stream_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count,
                                      GError **error)
{
  g_autoptr (MkTlsStream) tls = get_tls (MK_TLS_INPUT_STREAM (stream), error);

  if (tls == NULL)
    return -1;
  return mk_tls_stream_read (tls, buffer, count, FALSE, NULL, error);
}

static void
mk_tls_input_stream_pollable_iface_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = mk_tls_input_stream_can_poll;
  iface->is_readable = mk_tls_input_stream_is_readable;
  iface->create_source = mk_tls_input_stream_create_source;
  iface->read_nonblocking = mk_tls_input_stream_read_nonblocking;
}

static gboolean
mk_tls_input_stream_close (GInputStream *stream, GCancellable *cancellable, GError **error)
{
  /* The MkTlsStream's close does the work (close_notify, the base). */
  return TRUE;
}

static void
mk_tls_input_stream_finalize (GObject *object)
{
  g_weak_ref_clear (&MK_TLS_INPUT_STREAM (object)->tls);
  G_OBJECT_CLASS (mk_tls_input_stream_parent_class)->finalize (object);
}

static void
mk_tls_input_stream_class_init (MkTlsInputStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mk_tls_input_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = mk_tls_input_stream_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = mk_tls_input_stream_close;
}

static void
mk_tls_input_stream_init (MkTlsInputStream *self)
{
  g_weak_ref_init (&self->tls, NULL);
}

GInputStream *
mk_tls_input_stream_new (MkTlsStream *tls)
{
  MkTlsInputStream *self = g_object_new (MK_TYPE_TLS_INPUT_STREAM, NULL);

  g_weak_ref_set (&self->tls, tls);
  return G_INPUT_STREAM (self);
}
