/* mk-smtp-client-transaction.c: the one mail transaction of MkSmtpClient
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mk_smtp_client_run_transaction() is a linear script, as MailKit's Send:
 * prepare → MAIL → RCPT×n → flush the pipeline → DATA or BDAT → end of
 * data. Pipelining only decides whether a command waits for its reply
 * before the next one is written; all replies are read before any is acted
 * on, so the result is the same with and without it. sendmail(),
 * sendmail_stream() and send/'s send_message() all run it.
 */
#include "config.h"

#include <string.h>

#include "mk-smtp-client-session-private.h"
#include "mk-smtp-command-private.h"
#include "mk-smtp-data-stream-private.h"
#include "mk-smtp-error.h"
#include "mk-smtp-outcome.h"

/* An error lists at most this many refused recipients: enough to act on,
 * bounded in size. */
#define ERROR_RECIPIENTS_MAX 3

#define PRIV(self) mk_smtp_client_get_private (self)

/* ---------------------------------------------------------------------- */
/* The message body: the caller's writer → MkSmtpBodyStream (progress, and
 * the BDAT replies read as chunks go out) → MkSmtpDataStream (CRLF,
 * dot-stuffing or BDAT framing) → the connection. */

typedef struct _Transaction Transaction;

static gboolean transaction_envelope_refused (Transaction *t);
static gboolean transaction_account_chunks (Transaction *t, GCancellable *cancellable,
                                            GError **error);

#define MK_TYPE_SMTP_BODY_STREAM (mk_smtp_body_stream_get_type ())
G_DECLARE_FINAL_TYPE (MkSmtpBodyStream, mk_smtp_body_stream, MK, SMTP_BODY_STREAM,
                      GFilterOutputStream)

struct _MkSmtpBodyStream
{
  GFilterOutputStream parent_instance;
  Transaction *transaction;
  MkSmtpClient *client;
  guint64 total;
  guint64 reported;
};

G_DEFINE_FINAL_TYPE (MkSmtpBodyStream, mk_smtp_body_stream, G_TYPE_FILTER_OUTPUT_STREAM)

static gssize
mk_smtp_body_stream_write_fn (GOutputStream *stream, const void *buffer, gsize count,
                              GCancellable *cancellable, GError **error)
{
  MkSmtpBodyStream *self = MK_SMTP_BODY_STREAM (stream);
  GOutputStream *data = g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (stream));
  gssize written;
  guint64 sent;

  /* The envelope was refused: a writer that goes on writing sends nothing. */
  if (transaction_envelope_refused (self->transaction))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "The envelope was refused: the body is not sent");
      return -1;
    }
  written = g_output_stream_write (data, buffer, count, cancellable, error);

  if (written < 0 || !transaction_account_chunks (self->transaction, cancellable, error))
    return -1;
  /* One signal per block at most: a writer that writes a few bytes at a
   * time must not flood the caller's main loop (the end of the message is
   * reported by the transaction). */
  sent = mk_smtp_data_stream_get_message_bytes (MK_SMTP_DATA_STREAM (data));
  if (sent - self->reported >= MK_SMTP_DATA_BLOCK_SIZE)
    {
      self->reported = sent;
      mk_smtp_client_emit_progress (self->client, sent, self->total);
    }
  return written;
}

static gboolean
mk_smtp_body_stream_flush (GOutputStream *stream, GCancellable *cancellable, GError **error)
{
  /* The data stream sends whole blocks only; flushing mid-message would
   * cut a BDAT chunk short. */
  return TRUE;
}

static void
mk_smtp_body_stream_class_init (MkSmtpBodyStreamClass *klass)
{
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  stream_class->write_fn = mk_smtp_body_stream_write_fn;
  stream_class->flush = mk_smtp_body_stream_flush;
}

static void
mk_smtp_body_stream_init (MkSmtpBodyStream *self)
{
}

/* ---------------------------------------------------------------------- */
/* The transaction. */

struct _Transaction
{
  MkSmtpClient *client;
  /* The pipeline the transaction runs in, NULL for one on its own. */
  MkSmtpPipeline *pipeline;
  gboolean pipelining;
  gboolean chunking;
  MkSmtpDataFraming framing;
  /* The commands written, each with the stage its reply answers, and the
   * replies read so far, in the same order. */
  GPtrArray *stages;
  GPtrArray *replies;
  guint n_recipients;
  GPtrArray *recipients;
  char *mail_line;
  GPtrArray *rcpt_lines;
  goffset size;
  MkSmtpDataStream *data_stream;
  guint chunks_accounted;
  /* With PIPELINING and CHUNKING the envelope is judged once the first
   * chunk went out (or at the end); a refusal then stops the body. */
  gboolean envelope_checked;
  GError *envelope_error;
  GHashTable *refused;
  GArray *accepted; /* indexes into recipients */
  /* The end of data is written (perhaps still queued). */
  gboolean end_sent;
  /* Its reply is read after the next transaction's commands went out. */
  gboolean deferred;
  /* The work that needs no reply ran while this one waited. */
  gboolean waited;
  MkSmtpBodyWriter write_body;
  gpointer write_body_data;
  /* A small body made ready for the wire while the envelope's replies were
   * on their way (see transaction_frame_body()), or why that failed. */
  GBytes *framed;
  guint64 framed_message_bytes;
  GError *framing_error;
  MkSmtpTransactionDone done;
  gpointer done_data;
};

struct _MkSmtpPipeline
{
  MkSmtpClient *client;
  /* The transaction whose end of data went out and whose final reply is
   * still unread: the next transaction's commands go out first. */
  Transaction *unanswered;
  MkSmtpPipelineIdle idle;
  gpointer idle_data;
};

static gboolean pipeline_answer (MkSmtpPipeline *pipeline, GCancellable *cancellable,
                                 GError **error);

static void
transaction_free (Transaction *t)
{
  g_clear_pointer (&t->stages, g_ptr_array_unref);
  g_clear_pointer (&t->replies, g_ptr_array_unref);
  g_clear_pointer (&t->recipients, g_ptr_array_unref);
  g_free (t->mail_line);
  g_clear_pointer (&t->rcpt_lines, g_ptr_array_unref);
  g_clear_object (&t->data_stream);
  g_clear_pointer (&t->framed, g_bytes_unref);
  g_clear_error (&t->framing_error);
  g_clear_error (&t->envelope_error);
  g_clear_pointer (&t->refused, g_hash_table_unref);
  g_clear_pointer (&t->accepted, g_array_unref);
  g_free (t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Transaction, transaction_free)

static gboolean
transaction_envelope_refused (Transaction *t)
{
  return t->envelope_error != NULL;
}

static guint
transaction_outstanding (Transaction *t)
{
  return t->stages->len - t->replies->len;
}

/* The replies a transaction still waits for, the final ones included: one
 * for the end of data, or for LMTP one per accepted recipient (the reply
 * to BDAT LAST being the first of them). */
static guint
transaction_replies_due (Transaction *t)
{
  guint finals = PRIV (t->client)->lmtp ? t->accepted->len : 1;

  return transaction_outstanding (t) + (t->chunking ? finals - 1 : finals);
}

/* How many commands may wait for a reply before the next is written: the
 * RFC 2920 window, less the replies a transaction left unanswered still
 * owes; 0 without PIPELINING. */
static guint
transaction_window (Transaction *t)
{
  guint due = 0;

  if (!t->pipelining)
    return 0;
  if (t->pipeline != NULL && t->pipeline->unanswered != NULL)
    due = transaction_replies_due (t->pipeline->unanswered);
  return MK_SMTP_PIPELINE_WINDOW - 1 - MIN (due, MK_SMTP_PIPELINE_WINDOW - 1);
}

/* In a pipeline, without CHUNKING, the body of a small message of known
 * size is run through the data stream (CRLF, dot-stuffing, the final dot)
 * into memory while the replies to MAIL, RCPT and DATA are on their way:
 * after the 354 it is a copy, and the next message's commands follow it
 * sooner. Only send/'s writers run here, which write what they already
 * hold; a failure waits until the body is due, as if it had happened
 * then. */
static void
transaction_frame_body (Transaction *t, GCancellable *cancellable)
{
  g_autoptr (GOutputStream) memory = NULL;
  g_autoptr (MkSmtpDataStream) stream = NULL;

  if (t->pipeline == NULL || !t->pipelining || t->framing != MK_SMTP_DATA_FRAMING_DOT
      || t->size < 0 || t->size > MK_SMTP_DATA_BLOCK_SIZE)
    return;
  memory = g_memory_output_stream_new_resizable ();
  stream = mk_smtp_data_stream_new (memory, MK_SMTP_DATA_FRAMING_DOT);
  mk_smtp_data_stream_set_flush_on_finish (stream, FALSE);
  if (!t->write_body (G_OUTPUT_STREAM (stream), t->write_body_data, cancellable,
                      &t->framing_error)
      || !mk_smtp_data_stream_finish (stream, cancellable, &t->framing_error)
      || !g_output_stream_close (memory, cancellable, &t->framing_error))
    return;
  t->framed = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (memory));
  t->framed_message_bytes = mk_smtp_data_stream_get_message_bytes (stream);
}

/* Once per transaction, when its first commands went out: the work that
 * waits for no reply. */
static void
transaction_while_waiting (Transaction *t, GCancellable *cancellable)
{
  transaction_frame_body (t, cancellable);
  if (t->pipeline != NULL && t->pipeline->idle != NULL)
    t->pipeline->idle (t->pipeline->idle_data, cancellable);
}

/* Reads replies until at most @keep commands wait for one; those of a
 * transaction left unanswered come first. A 421 ends the reading: the
 * server has closed and answers nothing more. */
static gboolean
transaction_read (Transaction *t, guint keep, GCancellable *cancellable, GError **error)
{
  if (transaction_outstanding (t) <= keep)
    return TRUE;
  if (!mk_smtp_session_flush (t->client, cancellable, error))
    return FALSE;
  if (!t->waited)
    {
      t->waited = TRUE;
      transaction_while_waiting (t, cancellable);
    }
  if (t->pipeline != NULL && t->pipeline->unanswered != NULL
      && !pipeline_answer (t->pipeline, cancellable, error))
    return FALSE;
  while (transaction_outstanding (t) > keep)
    {
      const char *stage = g_ptr_array_index (t->stages, t->replies->len);
      MkSmtpReply *reply = mk_smtp_session_read_reply (t->client, stage, cancellable, error);

      if (reply == NULL)
        return FALSE;
      g_ptr_array_add (t->replies, reply);
      if (PRIV (t->client)->connection == NULL)
        return TRUE;
    }
  return TRUE;
}

/* Queues one command. Without PIPELINING it is answered before the next is
 * written; with it, replies are read only when the window is full. */
static gboolean
transaction_command (Transaction *t, const char *line, const char *stage, GCancellable *cancellable,
                     GError **error)
{
  if (!mk_smtp_session_queue_line (t->client, line, NULL, cancellable, error))
    return FALSE;
  g_ptr_array_add (t->stages, (gpointer)stage);
  return transaction_read (t, transaction_window (t), cancellable, error);
}

static MkSmtpReply *
transaction_reply (Transaction *t, guint index)
{
  return index < t->replies->len ? g_ptr_array_index (t->replies, index) : NULL;
}

static gboolean
transaction_lost (Transaction *t)
{
  return PRIV (t->client)->connection == NULL;
}

/* Judges MAIL and the RCPTs from their replies (all of them read). */
static gboolean
transaction_check_envelope (Transaction *t, GError **error)
{
  MkSmtpReply *mail = transaction_reply (t, 0);

  t->envelope_checked = TRUE;
  if (!mk_smtp_session_reply_is (mail, 250))
    {
      mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_SENDER_REFUSED, "MAIL FROM", mail);
      return FALSE;
    }
  for (guint i = 0; i < t->n_recipients; i++)
    {
      MkSmtpReply *reply = transaction_reply (t, 1 + i);
      const char *address = g_ptr_array_index (t->recipients, i);

      if (reply == NULL)
        break;
      /* 2xx is acceptance; smtplib refuses 252 ("cannot verify, will
       * try"), which RFC 5321 §3.5.3 means as yes. */
      if (mk_smtp_session_reply_is_positive (reply))
        g_array_append_val (t->accepted, i);
      else
        g_hash_table_replace (t->refused, g_strdup (address), mk_smtp_reply_ref (reply));
    }
  /* A 421 to a RCPT leaves the rest unanswered: nothing is delivered. */
  if (t->replies->len < 1 + t->n_recipients)
    {
      g_autofree char *summary = mk_smtp_session_reply_summary (PRIV (t->client)->last_reply);

      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED,
                   "RCPT TO: the server closed the connection (%s); nothing was sent", summary);
      return FALSE;
    }
  if (t->accepted->len == 0)
    {
      g_autoptr (GString) list = g_string_new (NULL);

      for (guint i = 0; i < t->n_recipients && i < ERROR_RECIPIENTS_MAX; i++)
        {
          const char *address = g_ptr_array_index (t->recipients, i);
          g_autofree char *summary
              = mk_smtp_session_reply_summary (g_hash_table_lookup (t->refused, address));

          g_string_append_printf (list, "%s%s (%s)", i > 0 ? ", " : "", address, summary);
        }
      g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED,
                   "RCPT TO refused for every recipient: %s%s", list->str,
                   t->n_recipients > ERROR_RECIPIENTS_MAX ? ", …" : "");
      return FALSE;
    }
  return TRUE;
}

/* Called after every write into the body: counts the BDAT commands the
 * data stream wrote, and reads their replies as the window asks. */
static gboolean
transaction_account_chunks (Transaction *t, GCancellable *cancellable, GError **error)
{
  guint chunks = mk_smtp_data_stream_get_chunk_count (t->data_stream);

  for (; t->chunks_accounted < chunks; t->chunks_accounted++)
    g_ptr_array_add (t->stages, "BDAT");
  if (chunks == 0)
    return TRUE;
  if (!t->envelope_checked)
    {
      if (!transaction_read (t, 0, cancellable, error))
        return FALSE;
      if (!transaction_check_envelope (t, &t->envelope_error))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The envelope was refused: the body is not sent");
          return FALSE;
        }
      return TRUE;
    }
  return transaction_read (t, transaction_window (t), cancellable, error);
}

/* After a refusal: RSET when the session can go on. A server that answered
 * 354 to a refused envelope waits for a body: closing is the only safe way
 * out of that. */
static void
transaction_abort (Transaction *t, GCancellable *cancellable)
{
  guint data_index = 1 + t->n_recipients;

  if (!t->chunking && mk_smtp_session_reply_is (transaction_reply (t, data_index), 354))
    mk_smtp_session_close (t->client);
  else
    mk_smtp_session_safety_rset (t->client, cancellable);
}

/* Each recipient once, in order; @own_options gets, in the same order, the
 * recipient_options entry of each (that of its first occurrence). */
static GPtrArray *
unique_recipients (const char *const *to, const char *const *const *recipient_options,
                   GPtrArray *own_options)
{
  GPtrArray *recipients = g_ptr_array_new_null_terminated (8, NULL, TRUE);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (gsize i = 0; to != NULL && to[i] != NULL; i++)
    if (g_hash_table_add (seen, (gpointer)to[i]))
      {
        g_ptr_array_add (recipients, (gpointer)to[i]);
        g_ptr_array_add (own_options,
                         recipient_options != NULL ? (gpointer)recipient_options[i] : NULL);
      }
  return recipients;
}

/* The RCPT parameters of one recipient: those for every RCPT, then its
 * own. */
static GPtrArray *
recipient_parameters (const char *const *rcpt_options, const char *const *own)
{
  GPtrArray *parameters = g_ptr_array_new_null_terminated (4, NULL, TRUE);

  for (gsize i = 0; rcpt_options != NULL && rcpt_options[i] != NULL; i++)
    g_ptr_array_add (parameters, (gpointer)rcpt_options[i]);
  for (gsize i = 0; own != NULL && own[i] != NULL; i++)
    g_ptr_array_add (parameters, (gpointer)own[i]);
  return parameters;
}

/* Address → MkSmtpReply, both owned by the table. */
static GHashTable *
new_refused_table (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify)mk_smtp_reply_unref);
}

/* After a refused end of data: RSET, as after any refusal, unless the
 * next transaction's commands already followed the end of data. The
 * server ends the transaction with its reply to the end of data whatever
 * the reply (RFC 5321 §4.1.1.4), so RSET is not needed there, and it would
 * reset the next transaction. */
static void
transaction_end_refused (Transaction *t, GCancellable *cancellable)
{
  if (!t->deferred)
    mk_smtp_session_safety_rset (t->client, cancellable);
}

/* LMTP: each accepted recipient whose final reply (RFC 2033 §4.2, in the
 * order of the accepted RCPTs) is not 250 goes into the refused table. */
static void
transaction_record_lmtp_finals (Transaction *t, GPtrArray *finals)
{
  for (guint i = 0; i < finals->len; i++)
    {
      guint index = g_array_index (t->accepted, guint, i);
      MkSmtpReply *reply = g_ptr_array_index (finals, i);

      if (!mk_smtp_session_reply_is (reply, 250))
        g_hash_table_replace (t->refused, g_strdup (g_ptr_array_index (t->recipients, index)),
                              mk_smtp_reply_ref (reply));
    }
}

/* The final replies: one, or for LMTP one per accepted recipient (RFC 2033
 * §4.2). The connection lost before they all came → delivery unknown: the
 * message is out, the server may have taken it. */
static gboolean
transaction_end_of_data (Transaction *t, GCancellable *cancellable, GError **error)
{
  MkSmtpClient *self = t->client;
  MkSmtpClientPrivate *priv = PRIV (self);
  guint expected = priv->lmtp ? t->accepted->len : 1;
  g_autoptr (GPtrArray) finals = g_ptr_array_new ();
  g_autoptr (GError) local_error = NULL;
  MkSmtpReply *last;

  if (t->chunking)
    {
      /* Every BDAT chunk is answered; the reply to LAST is the first final
       * reply. */
      if (!transaction_read (t, 0, cancellable, &local_error))
        goto lost;
      for (guint i = 1 + t->n_recipients; i < t->replies->len; i++)
        {
          MkSmtpReply *reply = transaction_reply (t, i);

          if (i + 1 < t->stages->len && !mk_smtp_session_reply_is (reply, 250))
            {
              mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_DATA, "BDAT", reply);
              transaction_end_refused (t, cancellable);
              return FALSE;
            }
        }
      if (t->replies->len < t->stages->len)
        goto lost;
      g_ptr_array_add (finals, transaction_reply (t, t->replies->len - 1));
    }
  while (finals->len < expected)
    {
      MkSmtpReply *reply;

      if (!mk_smtp_session_flush (self, cancellable, &local_error))
        goto lost;
      reply = mk_smtp_session_read_reply (self, "End of data", cancellable, &local_error);
      if (reply == NULL)
        goto lost;
      g_ptr_array_add (t->replies, reply);
      g_ptr_array_add (finals, reply);
    }
  if (priv->connection != NULL && !t->deferred)
    mk_smtp_session_set_state (self, MK_SMTP_SESSION_READY);

  if (priv->lmtp)
    {
      transaction_record_lmtp_finals (t, finals);
      if (g_hash_table_size (t->refused) == t->n_recipients)
        {
          g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED,
                               "End of data: the message was refused for every recipient");
          return FALSE;
        }
      return TRUE;
    }
  last = g_ptr_array_index (finals, 0);
  if (!mk_smtp_session_reply_is (last, 250))
    {
      mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_DATA, "End of data", last);
      transaction_end_refused (t, cancellable);
      return FALSE;
    }
  return TRUE;

lost:
  /* The recipients LMTP already answered for keep their answer: only the
   * others are of unknown fate. */
  if (priv->lmtp)
    transaction_record_lmtp_finals (t, finals);
  mk_smtp_session_close (self);
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DELIVERY_UNKNOWN,
               "The message was sent but no reply to it can be trusted (%s): it may have been "
               "delivered, and sending it again may deliver it twice",
               local_error != NULL ? local_error->message : "the server closed the connection");
  return FALSE;
}

/* Everything before the first command: the caller's arguments checked,
 * the session prepared, the extensions chosen up front from the
 * capabilities, the command lines formatted. A failure here sends nothing
 * (but EHLO and STARTTLS when the session needs them). */
static Transaction *
transaction_new (MkSmtpClient *self, const MkSmtpTransactionRequest *request,
                 GCancellable *cancellable, GError **error)
{
  MkSmtpClientPrivate *priv = PRIV (self);
  const char *from = request->from;
  const char *const *mail_options = request->mail_options;
  const char *const *rcpt_options = request->rcpt_options;
  g_autoptr (Transaction) t = g_new0 (Transaction, 1);
  g_autoptr (GPtrArray) own_options = g_ptr_array_new ();
  g_autoptr (GPtrArray) options = NULL;
  g_autofree char *size_option = NULL;
  gboolean utf8;

  t->client = self;
  t->size = request->size;
  t->stages = g_ptr_array_new ();
  t->replies = g_ptr_array_new_with_free_func ((GDestroyNotify)mk_smtp_reply_unref);
  t->accepted = g_array_new (FALSE, FALSE, sizeof (guint));

  /* What the caller gave is checked before anything is sent. smtplib sends
   * MAIL and RSET for an empty list (its BUG-8). */
  t->recipients = unique_recipients (request->to, request->recipient_options, own_options);
  t->n_recipients = t->recipients->len;
  if (t->recipients->len == 0)
    {
      g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID, "No recipients");
      return NULL;
    }
  if (!mk_smtp_session_check_argument ("sender", from, error)
      || !mk_smtp_session_check_arguments ("recipient", (const char *const *)t->recipients->pdata,
                                           error)
      || !mk_smtp_session_check_arguments ("option", mail_options, error)
      || !mk_smtp_session_check_arguments ("option", rcpt_options, error))
    return NULL;
  for (guint i = 0; i < own_options->len; i++)
    if (!mk_smtp_session_check_arguments ("option", g_ptr_array_index (own_options, i), error))
      return NULL;
  for (guint i = 0; i < t->recipients->len; i++)
    if (*(const char *)g_ptr_array_index (t->recipients, i) == '\0')
      {
        g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_INVALID,
                             "An empty recipient address");
        return NULL;
      }

  /* Prepare: the session and the extensions this transaction uses, chosen
   * up front from the capabilities. */
  if (!mk_smtp_client_prepare_session (self, cancellable, error)
      || !mk_smtp_session_check_options (self, mail_options, error)
      || !mk_smtp_session_check_options (self, rcpt_options, error))
    return NULL;
  for (guint i = 0; i < own_options->len; i++)
    if (!mk_smtp_session_check_options (self, g_ptr_array_index (own_options, i), error))
      return NULL;
  options = g_ptr_array_new ();
  if (t->size >= 0 && mk_smtp_session_has_capability (self, "SIZE"))
    {
      guint64 limit = mk_smtp_capabilities_get_size_limit (priv->capabilities);

      if (limit > 0 && (guint64)t->size > limit)
        {
          g_set_error (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                       "The message (%" G_GINT64_FORMAT " bytes) is larger than the server takes "
                       "(%" G_GUINT64_FORMAT " bytes)",
                       (gint64)t->size, limit);
          return NULL;
        }
      size_option = g_strdup_printf ("SIZE=%" G_GINT64_FORMAT, (gint64)t->size);
      g_ptr_array_add (options, size_option);
    }
  for (gsize i = 0; mail_options != NULL && mail_options[i] != NULL; i++)
    g_ptr_array_add (options, (gpointer)mail_options[i]);
  /* An international address needs SMTPUTF8 (RFC 6531 §3.4): asked for
   * here when the server offers it (smtplib leaves it to the caller and
   * fails with UnicodeEncodeError); without it format_path_command()
   * refuses the address before MAIL. */
  utf8 = mk_smtp_session_options_have (mail_options, "SMTPUTF8");
  if (!utf8 && mk_smtp_client_session_supports (self, "SMTPUTF8")
      && !mk_smtp_session_is_ascii (from))
    utf8 = TRUE;
  for (guint i = 0; !utf8 && i < t->recipients->len; i++)
    utf8 = mk_smtp_client_session_supports (self, "SMTPUTF8")
           && !mk_smtp_session_is_ascii (g_ptr_array_index (t->recipients, i));
  if (utf8 && !mk_smtp_session_options_have (mail_options, "SMTPUTF8"))
    g_ptr_array_add (options, "SMTPUTF8");
  g_ptr_array_add (options, NULL);
  t->mail_line
      = mk_smtp_session_format_path (TRUE, from, (const char *const *)options->pdata, utf8, error);
  if (t->mail_line == NULL)
    return NULL;
  t->rcpt_lines = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < t->recipients->len; i++)
    {
      g_autoptr (GPtrArray) parameters
          = recipient_parameters (rcpt_options, g_ptr_array_index (own_options, i));
      char *line
          = mk_smtp_session_format_path (FALSE, g_ptr_array_index (t->recipients, i),
                                         (const char *const *)parameters->pdata, utf8, error);
      if (line == NULL)
        return NULL;
      g_ptr_array_add (t->rcpt_lines, line);
    }

  t->refused = new_refused_table ();
  t->pipelining = mk_smtp_client_session_supports (self, "PIPELINING");
  t->chunking = mk_smtp_client_session_supports (self, "CHUNKING");
  /* RFC 3030 §3: a BINARYMIME body goes in BDAT chunks only, as written. */
  t->framing = t->chunking ? MK_SMTP_DATA_FRAMING_BDAT : MK_SMTP_DATA_FRAMING_DOT;
  if (mk_smtp_session_options_have (mail_options, "BODY=BINARYMIME"))
    {
      if (!t->chunking)
        {
          g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_NOT_SUPPORTED,
                               "BODY=BINARYMIME needs CHUNKING (RFC 3030 §3), which this session "
                               "does not use");
          return NULL;
        }
      t->framing = MK_SMTP_DATA_FRAMING_BDAT_BINARY;
    }
  return g_steal_pointer (&t);
}

/* MAIL → RCPT×n → DATA or BDAT → the body and its end, whose reply is
 * left to transaction_end_of_data(). A refusal (RSET sent), a lost
 * connection or a failed writer (connection closed) fail it. */
static gboolean
transaction_send (Transaction *t, MkSmtpBodyWriter write_body, gpointer write_body_data,
                  GCancellable *cancellable, GError **error)
{
  MkSmtpClient *self = t->client;
  MkSmtpClientPrivate *priv = PRIV (self);
  g_autoptr (GOutputStream) body = NULL;
  g_autoptr (GError) body_error = NULL;
  guint64 message_bytes;

  priv->accepted_recipients = 0;
  t->write_body = write_body;
  t->write_body_data = write_body_data;

  /* MAIL → RCPT×n (→ DATA). Without PIPELINING every command is answered
   * before the next; a refused MAIL stops here, and DATA is sent only when
   * a recipient was accepted. */
  if (!transaction_command (t, t->mail_line, "MAIL FROM", cancellable, error))
    return FALSE;
  mk_smtp_session_set_state (self, MK_SMTP_SESSION_MAIL);
  if (t->pipelining || mk_smtp_session_reply_is (transaction_reply (t, 0), 250))
    for (guint i = 0; i < t->rcpt_lines->len && !transaction_lost (t); i++)
      if (!transaction_command (t, g_ptr_array_index (t->rcpt_lines, i), "RCPT TO", cancellable,
                                error))
        return FALSE;
  if (!t->chunking && !transaction_lost (t))
    {
      gboolean any_accepted = t->pipelining;

      for (guint i = 1; i < t->replies->len; i++)
        any_accepted
            = any_accepted || mk_smtp_session_reply_is_positive (transaction_reply (t, i));
      if (any_accepted && !transaction_command (t, "DATA", "DATA", cancellable, error))
        return FALSE;
    }

  /* Flush the pipeline and judge the envelope, except with PIPELINING and
   * CHUNKING: then the first chunk goes out with the envelope and the
   * envelope is judged as soon as it did (one round trip per message). */
  if (!t->chunking || !t->pipelining)
    {
      if (!transaction_read (t, 0, cancellable, error))
        return FALSE;
      if (!transaction_check_envelope (t, error))
        {
          transaction_abort (t, cancellable);
          return FALSE;
        }
      if (!t->chunking
          && !mk_smtp_session_reply_is (transaction_reply (t, 1 + t->n_recipients), 354))
        {
          mk_smtp_session_set_reply_error (error, MK_SMTP_ERROR_DATA, "DATA",
                                           transaction_reply (t, 1 + t->n_recipients));
          transaction_abort (t, cancellable);
          return FALSE;
        }
    }

  /* The body. A writer that fails, or a cancelled write, ends the session
   * without the terminator, so the server never takes a truncated
   * message. In a pipeline the terminator stays queued: the next
   * transaction's commands go out with it in one write. */
  mk_smtp_session_set_state (self, MK_SMTP_SESSION_DATA);
  mk_smtp_session_trace (self, "data: sending the message");
  if (t->framed != NULL || t->framing_error != NULL)
    {
      gsize length = 0;
      const void *bytes = t->framed != NULL ? g_bytes_get_data (t->framed, &length) : NULL;

      if (t->framing_error != NULL)
        g_propagate_error (&body_error, g_steal_pointer (&t->framing_error));
      else
        t->end_sent
            = g_output_stream_write_all (mk_connection_get_output_stream (priv->connection), bytes,
                                         length, NULL, cancellable, &body_error);
      message_bytes = t->framed_message_bytes;
    }
  else
    {
      t->data_stream = mk_smtp_data_stream_new (mk_connection_get_output_stream (priv->connection),
                                                t->framing);
      mk_smtp_data_stream_set_flush_on_finish (t->data_stream, t->pipeline == NULL);
      body = g_object_new (MK_TYPE_SMTP_BODY_STREAM, "base-stream", t->data_stream,
                           "close-base-stream", FALSE, NULL);
      MK_SMTP_BODY_STREAM (body)->transaction = t;
      MK_SMTP_BODY_STREAM (body)->client = self;
      MK_SMTP_BODY_STREAM (body)->total = t->size >= 0 ? (guint64)t->size : 0;
      t->end_sent = write_body (body, write_body_data, cancellable, &body_error)
                    && mk_smtp_data_stream_finish (t->data_stream, cancellable, &body_error);
      message_bytes = mk_smtp_data_stream_get_message_bytes (t->data_stream);
    }
  if (!t->end_sent
      || (t->data_stream != NULL && !transaction_account_chunks (t, cancellable, &body_error)))
    {
      if (t->envelope_error != NULL)
        {
          /* Pipelined BDAT: the envelope was refused once the first chunk
           * was out; the server refused the chunks too, and RSET ends the
           * transaction. */
          g_propagate_error (error, g_steal_pointer (&t->envelope_error));
          if (!transaction_lost (t) && transaction_read (t, 0, cancellable, NULL))
            mk_smtp_session_safety_rset (self, cancellable);
        }
      else
        {
          mk_smtp_session_close (self);
          g_propagate_error (error, g_steal_pointer (&body_error));
        }
      return FALSE;
    }
  mk_smtp_client_emit_progress (self, message_bytes, t->size >= 0 ? (guint64)t->size : 0);
  return TRUE;
}

static void
transaction_ready (Transaction *t)
{
  MkSmtpClientPrivate *priv = PRIV (t->client);

  if (priv->connection != NULL && priv->state != MK_SMTP_SESSION_READY)
    mk_smtp_session_set_state (t->client, MK_SMTP_SESSION_READY);
}

gboolean
mk_smtp_client_run_transaction (MkSmtpClient *self, const char *from, const char *const *to,
                                const char *const *mail_options, const char *const *rcpt_options,
                                goffset size, MkSmtpBodyWriter write_body, gpointer write_body_data,
                                GHashTable **refused, GCancellable *cancellable, GError **error)
{
  return mk_smtp_client_run_transaction_full (self, from, to, mail_options, rcpt_options, NULL,
                                              size, write_body, write_body_data, refused,
                                              cancellable, error);
}

gboolean
mk_smtp_client_run_transaction_full (MkSmtpClient *self, const char *from, const char *const *to,
                                     const char *const *mail_options,
                                     const char *const *rcpt_options,
                                     const char *const *const *recipient_options, goffset size,
                                     MkSmtpBodyWriter write_body, gpointer write_body_data,
                                     GHashTable **refused, GCancellable *cancellable,
                                     GError **error)
{
  const MkSmtpTransactionRequest request = { from, to, mail_options, rcpt_options,
                                             recipient_options, size };
  MkSmtpClientPrivate *priv;
  g_autoptr (Transaction) t = NULL;
  gboolean ok;

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (from != NULL, FALSE);
  g_return_val_if_fail (write_body != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  priv = PRIV (self);
  if (refused != NULL)
    *refused = NULL;
  t = transaction_new (self, &request, cancellable, error);
  if (t == NULL)
    return FALSE;
  ok = transaction_send (t, write_body, write_body_data, cancellable, error)
       && transaction_end_of_data (t, cancellable, error);

  g_clear_pointer (&priv->refused_keepalive, g_hash_table_unref);
  if (refused != NULL && (ok || g_hash_table_size (t->refused) > 0))
    {
      priv->refused_keepalive = g_hash_table_ref (t->refused);
      *refused = g_steal_pointer (&t->refused);
    }
  transaction_ready (t);
  return ok;
}

/* ---------------------------------------------------------------------- */
/* Transactions in a pipeline: the end of data of one goes out with the
 * next one's commands (RFC 2920 §3.1 lets the final `.` be pipelined with
 * the next MAIL), so a message costs one round trip without CHUNKING too. */

/* The reply that decided @t's result: the final reply on success; the
 * refusal behind a refusal error (for recipients, a temporary one first:
 * it is what a retry could change); none for other errors. */
static MkSmtpReply *
transaction_deciding_reply (Transaction *t, const GError *error)
{
  MkSmtpReply *first = NULL;

  if (error == NULL)
    return transaction_reply (t, t->replies->len - 1);
  if (g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SENDER_REFUSED))
    return transaction_reply (t, 0);
  if (g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_DATA))
    {
      for (guint i = 1 + t->n_recipients; i < t->replies->len; i++)
        {
          MkSmtpReply *reply = transaction_reply (t, i);

          if (!mk_smtp_session_reply_is (reply, 250) && !mk_smtp_session_reply_is (reply, 354))
            return reply;
        }
      return NULL;
    }
  if (!g_error_matches (error, MK_SMTP_ERROR, MK_SMTP_ERROR_RECIPIENTS_REFUSED))
    return NULL;
  /* A 421 that ended the RCPTs. */
  if (t->replies->len > 0 && t->replies->len < 1 + t->n_recipients)
    return transaction_reply (t, t->replies->len - 1);
  for (guint i = 0; i < t->n_recipients; i++)
    {
      MkSmtpReply *reply = g_hash_table_lookup (t->refused, g_ptr_array_index (t->recipients, i));

      if (reply != NULL && mk_smtp_reply_is_transient (reply))
        return reply;
      first = first != NULL ? first : reply;
    }
  return first;
}

/* Hands @t's result to its caller and frees it. */
static void
transaction_done (Transaction *t, const GError *error)
{
  MkSmtpReply *reply = transaction_deciding_reply (t, error);
  MkSmtpOutcome outcome;

  if (error == NULL)
    outcome = g_hash_table_size (t->refused) > 0 ? MK_SMTP_OUTCOME_PARTIAL
                                                 : MK_SMTP_OUTCOME_DELIVERED;
  else if (t->end_sent && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    outcome = MK_SMTP_OUTCOME_UNKNOWN;
  else
    outcome = mk_smtp_outcome_from_error (error, reply);
  t->done (t->done_data, outcome, t->refused, reply, error);
  transaction_free (t);
}

/* Reads the final reply of the transaction left unanswered and reports
 * it. Fails when the connection did not survive it: the transaction that
 * asked cannot go on. */
static gboolean
pipeline_answer (MkSmtpPipeline *pipeline, GCancellable *cancellable, GError **error)
{
  Transaction *t = g_steal_pointer (&pipeline->unanswered);
  g_autoptr (GError) local_error = NULL;

  transaction_end_of_data (t, cancellable, &local_error);
  transaction_done (t, local_error);
  if (PRIV (pipeline->client)->connection != NULL)
    return TRUE;
  if (!g_cancellable_set_error_if_cancelled (cancellable, error))
    g_set_error_literal (error, MK_SMTP_ERROR, MK_SMTP_ERROR_SERVER_DISCONNECTED,
                         "The connection was lost before the server answered");
  return FALSE;
}

MkSmtpPipeline *
mk_smtp_pipeline_new (MkSmtpClient *client, MkSmtpPipelineIdle idle, gpointer idle_data)
{
  MkSmtpPipeline *pipeline = g_new0 (MkSmtpPipeline, 1);

  g_return_val_if_fail (MK_IS_SMTP_CLIENT (client), NULL);
  pipeline->client = client;
  pipeline->idle = idle;
  pipeline->idle_data = idle_data;
  return pipeline;
}

void
mk_smtp_pipeline_add (MkSmtpPipeline *pipeline, const MkSmtpTransactionRequest *request,
                      MkSmtpTransactionDone done, gpointer done_data, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  Transaction *t;

  g_return_if_fail (pipeline != NULL);
  g_return_if_fail (request != NULL && request->from != NULL && request->write_body != NULL);
  g_return_if_fail (done != NULL);

  t = transaction_new (pipeline->client, request, cancellable, &error);
  if (t == NULL)
    {
      g_autoptr (GHashTable) refused = new_refused_table ();

      done (done_data, mk_smtp_outcome_from_error (error, NULL), refused, NULL, error);
      return;
    }
  t->pipeline = pipeline;
  t->done = done;
  t->done_data = done_data;
  if (!transaction_send (t, request->write_body, request->write_body_data, cancellable, &error))
    {
      transaction_ready (t);
      transaction_done (t, error);
      return;
    }
  /* Its reading was the first of this transaction's: whatever was left
   * unanswered has its result. */
  g_assert (pipeline->unanswered == NULL);
  if (t->pipelining)
    {
      t->deferred = TRUE;
      pipeline->unanswered = t;
      return;
    }
  transaction_end_of_data (t, cancellable, &error);
  transaction_ready (t);
  transaction_done (t, error);
}

void
mk_smtp_pipeline_finish (MkSmtpPipeline *pipeline, GCancellable *cancellable)
{
  g_return_if_fail (pipeline != NULL);

  /* No transaction follows the last one: after a refusal it gets its RSET
   * as one on its own would. Cancelled with the connection still open, its
   * end of data is still queued (any write that could have sent it was
   * followed by a read, or failed and closed the connection): it never
   * left, and the message is safe to send again. */
  if (pipeline->unanswered != NULL)
    {
      Transaction *t = pipeline->unanswered;

      t->deferred = FALSE;
      if (g_cancellable_is_cancelled (cancellable) && PRIV (pipeline->client)->connection != NULL)
        t->end_sent = FALSE;
      pipeline_answer (pipeline, cancellable, NULL);
    }
  if (PRIV (pipeline->client)->connection != NULL
      && PRIV (pipeline->client)->state != MK_SMTP_SESSION_READY)
    mk_smtp_session_set_state (pipeline->client, MK_SMTP_SESSION_READY);
  g_free (pipeline);
}
