/* bench-send-many.c: throughput of many small messages over one connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Connects once, sends the message in FILE COUNT times to RECIPIENTS
 * recipients (rcpt1@example.net, rcpt2@… or --domain's) and quits, the way
 * smtp-source -d and smtplib do in run-benchmarks.py, and prints one line
 * of key=value figures: the messages sent, wall and CPU seconds from
 * connect to the reply to QUIT, and the extensions the session used.
 *
 * With --send-message the file is parsed once into a GMimeMessage and sent
 * with mk_smtp_client_send_message(), so each message is serialized again
 * from the MIME tree; --send-messages sends the COUNT messages with one
 * call of mk_smtp_client_send_messages() (one round trip per message with
 * PIPELINING alone); otherwise its bytes go to mk_smtp_client_sendmail()
 * as they are (smtp-source and smtplib.sendmail() send bytes too).
 *
 *   bench-send-many [--send-message|--send-messages] [--no-chunking]
 *                   [--no-pipelining] [--domain DOMAIN]
 *                   HOST PORT COUNT RECIPIENTS FILE
 */
#include "config.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <libmailkit/mailkit.h>

#include "libmailkit/mime/mk-gmime-autocleanups-private.h"

/* RFC 5321 §4.5.3.1.8 lets a server refuse more than 100 recipients. */
#define BENCH_MAX_RECIPIENTS 100
/* Enough for any run of the benchmark; a typo must not run for hours. */
#define BENCH_MAX_COUNT 1000000

static gboolean send_message_mode;
static gboolean send_messages_mode;
static gboolean no_chunking;
static gboolean no_pipelining;
static char *domain;

static const GOptionEntry entries[] = {
  { "send-message", 0, 0, G_OPTION_ARG_NONE, &send_message_mode,
    "Parse FILE once and send it with send_message()", NULL },
  { "send-messages", 0, 0, G_OPTION_ARG_NONE, &send_messages_mode,
    "Parse FILE once and send it COUNT times with one send_messages()", NULL },
  { "no-chunking", 0, 0, G_OPTION_ARG_NONE, &no_chunking, "Do not use CHUNKING/BDAT", NULL },
  { "no-pipelining", 0, 0, G_OPTION_ARG_NONE, &no_pipelining, "Do not use PIPELINING", NULL },
  { "domain", 0, 0, G_OPTION_ARG_STRING, &domain, "Recipients' domain (example.net)", "DOMAIN" },
  { NULL },
};

static double
seconds (const struct timeval *tv)
{
  return tv->tv_sec + tv->tv_usec / 1e6;
}

static GMimeMessage *
parse_message (GBytes *bytes, GError **error)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (data, size);
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  if (message == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The message file does not parse");
  return message;
}

/* One call for all: every message has the same envelope. */
static gboolean
send_batch (MkSmtpClient *client, GMimeMessage *message, const char *const *to, guint count,
            GError **error)
{
  g_autoptr (GPtrArray) messages = g_ptr_array_new ();
  g_autoptr (GPtrArray) envelopes = g_ptr_array_new ();
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (MkEnvelope) envelope = mk_envelope_new ("bench@example.org", error);

  if (envelope == NULL)
    return FALSE;
  for (gsize i = 0; to[i] != NULL; i++)
    if (!mk_envelope_add_recipient (envelope, to[i], error))
      return FALSE;
  for (guint i = 0; i < count; i++)
    {
      g_ptr_array_add (messages, message);
      g_ptr_array_add (envelopes, envelope);
    }
  results = mk_smtp_client_send_messages (client, messages, envelopes, NULL, error);
  if (results == NULL)
    return FALSE;
  for (guint i = 0; i < results->len; i++)
    {
      MkSendResult *result = g_ptr_array_index (results, i);

      if (mk_send_result_get_outcome (result) != MK_SMTP_OUTCOME_DELIVERED)
        {
          const GError *failure = mk_send_result_get_error (result);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Message %u: %s", i + 1,
                       failure != NULL ? failure->message : "some recipients refused");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
send_all (MkSmtpClient *client, GBytes *bytes, GMimeMessage *message, const char *const *to,
          guint count, GError **error)
{
  for (guint i = 0; i < count; i++)
    {
      g_autoptr (GHashTable) refused = NULL;
      gboolean ok;

      if (message != NULL)
        ok = mk_smtp_client_send_message (client, message, "bench@example.org", to, NULL, NULL,
                                          &refused, NULL, error);
      else
        ok = mk_smtp_client_sendmail (client, "bench@example.org", to, bytes, NULL, NULL, &refused,
                                      NULL, error);
      if (!ok)
        return FALSE;
      if (refused != NULL && g_hash_table_size (refused) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Message %u: %u recipients refused",
                       i + 1, g_hash_table_size (refused));
          return FALSE;
        }
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("HOST PORT COUNT RECIPIENTS FILE");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (MkSmtpClient) client = NULL;
  g_autoptr (MkSmtpReply) greeting = NULL;
  g_autoptr (MkSmtpReply) bye = NULL;
  g_autoptr (GPtrArray) to = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *contents = NULL;
  struct rusage before, after;
  gboolean pipelining, chunking;
  gsize length;
  guint count, recipients;
  gint64 start, end;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 6)
    {
      g_printerr ("%s\n", error != NULL ? error->message
                                        : "usage: bench-send-many [OPTION…] HOST PORT COUNT "
                                          "RECIPIENTS FILE");
      return 64;
    }
  count = (guint)g_ascii_strtoull (argv[3], NULL, 10);
  recipients = (guint)g_ascii_strtoull (argv[4], NULL, 10);
  if (count == 0 || count > BENCH_MAX_COUNT || recipients == 0 || recipients > BENCH_MAX_RECIPIENTS)
    {
      g_printerr ("bench-send-many: COUNT 1…%d, RECIPIENTS 1…%d\n", BENCH_MAX_COUNT,
                  BENCH_MAX_RECIPIENTS);
      return 64;
    }
  mk_init ();
  if (!g_file_get_contents (argv[5], &contents, &length, &error))
    {
      g_printerr ("bench-send-many: %s\n", error->message);
      return 66;
    }
  bytes = g_bytes_new_take (g_steal_pointer (&contents), length);
  if ((send_message_mode || send_messages_mode)
      && (message = parse_message (bytes, &error)) == NULL)
    {
      g_printerr ("bench-send-many: %s\n", error->message);
      return 65;
    }
  for (guint i = 1; i <= recipients; i++)
    g_ptr_array_add (to, g_strdup_printf ("rcpt%u@%s", i, domain != NULL ? domain : "example.net"));
  g_ptr_array_add (to, NULL);

  client = mk_smtp_client_new ();
  g_object_set (client, "use-chunking", !no_chunking, "use-pipelining", !no_pipelining, NULL);
  getrusage (RUSAGE_SELF, &before);
  start = g_get_monotonic_time ();
  greeting = mk_smtp_client_connect (client, argv[1], (guint16)atoi (argv[2]), NULL, &error);
  if (greeting == NULL
      || !(send_messages_mode
               ? send_batch (client, message, (const char *const *)to->pdata, count, &error)
               : send_all (client, bytes, message, (const char *const *)to->pdata, count,
                           &error)))
    {
      g_printerr ("bench-send-many: %s\n", error->message);
      return 1;
    }
  /* What the session used, asked before QUIT forgets the capabilities. */
  pipelining = !no_pipelining && mk_smtp_client_has_extn (client, "PIPELINING");
  chunking = !no_chunking && mk_smtp_client_has_extn (client, "CHUNKING");
  bye = mk_smtp_client_quit (client, NULL, &error);
  if (bye == NULL)
    {
      g_printerr ("bench-send-many: %s\n", error->message);
      return 1;
    }
  end = g_get_monotonic_time ();
  getrusage (RUSAGE_SELF, &after);
  g_print ("messages=%u recipients=%u wall_s=%.4f user_s=%.4f sys_s=%.4f"
           " pipelining=%d chunking=%d\n",
           count, recipients, (end - start) / 1e6,
           seconds (&after.ru_utime) - seconds (&before.ru_utime),
           seconds (&after.ru_stime) - seconds (&before.ru_stime), pipelining, chunking);
  return 0;
}
