/* mk-test-fault-server.c: a scripted SMTP server that misbehaves on cue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One thread per server runs the connections' scripts in turn over
 * non-blocking sockets; every wait is a poll() on the socket and on a wake-up
 * pipe, so mk_fault_server_free() can stop it at any point.
 */
#include "config.h"

/* accept4() and POLLRDHUP */
#define _GNU_SOURCE

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mk-test-fault-server.h"
#include "mk-test-utils.h"

/* Collected sends go out in one write up to this size, so a REPEAT of
 * 100 MiB streams instead of sitting in memory. */
#define SEND_BATCH_MAX (256 * 1024)
/* A client line longer than this is reported instead of buffered on. */
#define CLIENT_LINE_MAX (1024 * 1024)
/* Failure messages quote at most this much of the client's bytes. */
#define QUOTE_MAX 200
/* The plaintext of one TLS record at most (RFC 8446 §5.1). */
#define READ_CHUNK 16384
/* Long enough for any client under test on a loaded machine, short enough
 * that a broken test fails in seconds (scaled by mk_test_time_scale()). */
#define DEFAULT_TIMEOUT_MS 10000
/* Clients connect one after another; a few queued are plenty. */
#define LISTEN_BACKLOG 16

typedef enum
{
  STEP_SEND,
  STEP_FLUSH,
  STEP_SPLIT,
  STEP_CORK,
  STEP_DELAY,
  STEP_SLEEP,
  STEP_EXPECT_LINE,
  STEP_DATA_UNTIL_DOT,
  STEP_EXPECT_BYTES,
  STEP_QUIET,
  STEP_EOF,
  STEP_DRAIN,
  STEP_TLS,
  STEP_TLS_REFUSED,
  STEP_CLOSE,
  STEP_CLOSE_NO_NOTIFY,
  STEP_RESET,
  STEP_STALL,
} StepKind;

typedef struct
{
  StepKind kind;
  guint line;    /* in the script text, for messages */
  char *source;  /* the line as written, for messages */
  GBytes *bytes; /* SEND payload, EXPECT_LINE pattern (without the star) */
  gboolean wildcard;
  guint64 number; /* SPLIT, DELAY, SLEEP, QUIET, C-BYTES */
  guint64 repeat;
} Step;

/* What the client did on one connection; shared with the test's thread. */
typedef struct
{
  GByteArray *transcript;
  /* The transcript's length after each read (gsize): the client's bytes
   * as they arrived, read by read. */
  GArray *read_ends;
  GByteArray *data;
  char *sni;
  char *client_subject;
  char *tls_error;
} Record;

typedef enum
{
  IO_OK,
  IO_EOF,
  IO_TIMEOUT,
  IO_STOPPED,
  IO_ERROR,
} IoStatus;

/* The server thread's view of the connection being served. */
typedef struct
{
  int fd;
  SSL *ssl;
  GByteArray *in;  /* received, not yet consumed by a step */
  GByteArray *out; /* collected sends */
  guint64 split;
  guint64 delay_ms;
  gboolean cork;
  gboolean peer_gone; /* a write failed: the client is gone */
  char *io_error;     /* why the last IO_ERROR happened */
  Record *record;
} Conn;

struct _MkFaultServer
{
  GPtrArray *scripts; /* of GArray of Step, one per connection */
  SSL_CTX *ssl_ctx;
  gint64 timeout_us;
  int listen_fd;
  int wake_fds[2];
  char *address;
  guint16 port;
  char *unix_dir;
  GSocketAddress *socket_address;
  GThread *thread;

  /* pthread rather than GMutex, whose futexes ThreadSanitizer cannot see. */
  pthread_mutex_t lock; /* guards everything below */
  pthread_cond_t cond;
  GPtrArray *records; /* of Record, one per accepted connection */
  GString *failure;
  gboolean scripts_done;
  guint current_conn;
  guint current_step;
  GPtrArray *snapshots; /* of GBytes handed out by accessors */

  guint64 current_repeat; /* the server thread's alone */
};

/* ---- script ---------------------------------------------------------- */

static void
step_clear (Step *step)
{
  g_free (step->source);
  g_clear_pointer (&step->bytes, g_bytes_unref);
}

static G_GNUC_NORETURN void
script_error (guint line, const char *text, const char *why)
{
  g_error ("fault server script, line %u (`%s`): %s", line, text, why);
}

static int
hex_value (char c)
{
  return g_ascii_isxdigit (c) ? g_ascii_xdigit_value (c) : -1;
}

/* The payload escapes: `\` followed by a name stands for the byte below it
 * (the arrays hold a NUL inside, so they are indexed, not searched past). */
static const char escape_names[] = "rnt0\\*";
static const char escape_bytes[] = "\r\n\t\0\\*";

/* Undoes the escapes of a payload; *ends_in_star says whether it ended in an
 * unescaped star (a C: wildcard), which is then left out. */
static GBytes *
unescape (const char *text, guint line, const char *source, gboolean *ends_in_star)
{
  GByteArray *out = g_byte_array_new ();
  gboolean star = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      guint8 c = (guint8) *p;
      const char *name;

      star = c == '*';
      if (c == '\\' && p[1] == 'x')
        {
          if (hex_value (p[2]) < 0 || hex_value (p[3]) < 0)
            script_error (line, source, "\\x needs two hex digits");
          c = (guint8) (hex_value (p[2]) * 16 + hex_value (p[3]));
          p += 3;
        }
      else if (c == '\\')
        {
          p++;
          if (*p == '\0' || (name = strchr (escape_names, *p)) == NULL)
            script_error (line, source, "unknown escape (\\r \\n \\t \\0 \\\\ \\* \\xHH)");
          c = (guint8) escape_bytes[name - escape_names];
        }
      g_byte_array_append (out, &c, 1);
    }
  if (ends_in_star != NULL)
    {
      *ends_in_star = star;
      if (star)
        g_byte_array_set_size (out, out->len - 1);
    }
  return g_byte_array_free_to_bytes (out);
}

static guint64
parse_number (const char *text, guint line, const char *source)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    script_error (line, source, "expected a decimal number");
  return value;
}

static const struct
{
  const char *name;
  StepKind kind;
  enum
  {
    ARG_NONE,
    ARG_NUMBER,
    ARG_PAYLOAD
  } arg;
} step_names[] = {
  { "S:", STEP_SEND, ARG_PAYLOAD },
  { "R:", STEP_SEND, ARG_PAYLOAD },
  { "C:", STEP_EXPECT_LINE, ARG_PAYLOAD },
  { "C-BYTES:", STEP_EXPECT_BYTES, ARG_NUMBER },
  { "FLUSH", STEP_FLUSH, ARG_NONE },
  { "SPLIT", STEP_SPLIT, ARG_NUMBER },
  { "CORK", STEP_CORK, ARG_NONE },
  { "DELAY", STEP_DELAY, ARG_NUMBER },
  { "SLEEP", STEP_SLEEP, ARG_NUMBER },
  { "DATA-UNTIL-DOT", STEP_DATA_UNTIL_DOT, ARG_NONE },
  { "QUIET", STEP_QUIET, ARG_NUMBER },
  { "EOF", STEP_EOF, ARG_NONE },
  { "DRAIN", STEP_DRAIN, ARG_NONE },
  { "TLS", STEP_TLS, ARG_NONE },
  { "STARTTLS", STEP_TLS, ARG_NONE },
  { "TLS-REFUSED", STEP_TLS_REFUSED, ARG_NONE },
  { "CLOSE", STEP_CLOSE, ARG_NONE },
  { "CLOSE-NO-NOTIFY", STEP_CLOSE_NO_NOTIFY, ARG_NONE },
  { "RESET", STEP_RESET, ARG_NONE },
  { "STALL", STEP_STALL, ARG_NONE },
};

static gboolean
step_ends_connection (StepKind kind)
{
  return kind == STEP_TLS_REFUSED || kind == STEP_CLOSE || kind == STEP_CLOSE_NO_NOTIFY
         || kind == STEP_RESET || kind == STEP_STALL;
}

static void
parse_step (Step *step, const char *text, guint line)
{
  const char *source = text;
  gsize name_len;

  step->line = line;
  step->source = g_strdup (text);
  step->repeat = 1;
  if (g_str_has_prefix (text, "REPEAT "))
    {
      g_autofree char *count = NULL;
      const char *end = strchr (text + 7, ' ');

      if (end == NULL)
        script_error (line, source, "REPEAT n needs a step after the count");
      count = g_strndup (text + 7, end - (text + 7));
      step->repeat = parse_number (count, line, source);
      text = end + 1;
    }

  for (guint i = 0; i < G_N_ELEMENTS (step_names); i++)
    {
      const char *arg;

      name_len = strlen (step_names[i].name);
      if (strncmp (text, step_names[i].name, name_len) != 0)
        continue;
      arg = text + name_len;
      if (step_names[i].arg == ARG_NONE && *arg != '\0')
        continue; /* a longer name, e.g. TLS-REFUSED for TLS */
      if (step_names[i].arg == ARG_NUMBER && *arg != ' ' && arg[-1] != ':')
        continue; /* SPLIT needs its space; after a colon it is optional */
      step->kind = step_names[i].kind;
      if (*arg == ' ')
        arg++;
      if (step_names[i].arg == ARG_NUMBER)
        step->number = parse_number (arg, line, source);
      else if (step_names[i].arg == ARG_PAYLOAD && step->kind == STEP_EXPECT_LINE)
        step->bytes = unescape (arg, line, source, &step->wildcard);
      else if (step_names[i].arg == ARG_PAYLOAD)
        {
          g_autoptr (GBytes) payload = unescape (arg, line, source, NULL);

          if (text[0] == 'S')
            {
              GByteArray *with_crlf = g_bytes_unref_to_array (g_steal_pointer (&payload));
              g_byte_array_append (with_crlf, (const guint8 *) "\r\n", 2);
              payload = g_byte_array_free_to_bytes (with_crlf);
            }
          step->bytes = g_steal_pointer (&payload);
        }
      if (step->kind == STEP_SPLIT && step->number == 0)
        step->number = G_MAXUINT64;
      return;
    }
  script_error (line, source, "unknown step (see mk-test-fault-server.h)");
}

static GArray *
new_script (void)
{
  GArray *steps = g_array_new (FALSE, TRUE, sizeof (Step));

  g_array_set_clear_func (steps, (GDestroyNotify) step_clear);
  return steps;
}

/* One script per connection, split at `---` lines; a text without any step
 * (not even a `---`) expects no connection at all. Also says whether any
 * step needs TLS, which then needs a certificate. */
static GPtrArray *
parse_script (const char *script, gboolean *uses_tls)
{
  g_auto (GStrv) lines = g_strsplit (script, "\n", -1);
  GPtrArray *scripts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  GArray *steps = new_script ();
  gboolean any = FALSE;

  g_ptr_array_add (scripts, steps);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *text = lines[i];
      Step step = { 0 };

      while (*text == ' ' || *text == '\t')
        text++;
      if (*text == '\0' || *text == '#')
        continue;
      any = TRUE;
      if (strcmp (text, "---") == 0)
        {
          steps = new_script ();
          g_ptr_array_add (scripts, steps);
          continue;
        }
      if (steps->len > 0 && step_ends_connection (g_array_index (steps, Step, steps->len - 1).kind))
        script_error (i + 1, text, "no step may follow one that ends the connection");
      parse_step (&step, text, i + 1);
      *uses_tls |= step.kind == STEP_TLS || step.kind == STEP_TLS_REFUSED;
      g_array_append_val (steps, step);
    }
  if (!any)
    g_ptr_array_set_size (scripts, 0);
  return scripts;
}

char *
mk_fault_server_escape (const void *bytes, gsize length)
{
  const guint8 *p = bytes;
  GString *out = g_string_sized_new (length);

  g_return_val_if_fail (bytes != NULL || length == 0, NULL);
  for (gsize i = 0; i < length; i++)
    {
      const char *byte = memchr (escape_bytes, p[i], sizeof escape_bytes - 1);

      if (byte != NULL)
        g_string_append_printf (out, "\\%c", escape_names[byte - escape_bytes]);
      else if (p[i] >= 0x20 && p[i] < 0x7f)
        g_string_append_c (out, (char) p[i]);
      else
        g_string_append_printf (out, "\\x%02x", p[i]);
    }
  return g_string_free (out, FALSE);
}

/* Client bytes quoted for a failure message: escaped and shortened. */
static char *
quote (const guint8 *bytes, gsize length)
{
  g_autofree char *escaped = mk_fault_server_escape (bytes, MIN (length, QUOTE_MAX));

  if (length > QUOTE_MAX)
    return g_strdup_printf ("\"%s\"… (%" G_GSIZE_FORMAT " bytes)", escaped, length);
  return g_strdup_printf ("\"%s\"", escaped);
}

/* ---- shared state ---------------------------------------------------- */

static void
record_free (Record *record)
{
  g_byte_array_unref (record->transcript);
  g_array_unref (record->read_ends);
  g_byte_array_unref (record->data);
  g_free (record->sni);
  g_free (record->client_subject);
  g_free (record->tls_error);
  g_free (record);
}

static void add_failure (MkFaultServer *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
add_failure (MkFaultServer *self, const char *format, ...)
{
  va_list args;

  pthread_mutex_lock (&self->lock);
  if (self->failure == NULL)
    self->failure = g_string_new (NULL);
  else
    g_string_append_c (self->failure, '\n');
  va_start (args, format);
  g_string_append_vprintf (self->failure, format, args);
  va_end (args);
  pthread_mutex_unlock (&self->lock);
}

/* The implicit last step: the client must close without sending more. */
static const Step end_of_script = {
  .kind = STEP_EOF,
  .source = (char *) "end of script",
  .repeat = 1,
};

static void
step_failure (MkFaultServer *self, const Step *step, const char *what)
{
  g_autofree char *repetition = NULL;

  if (step->repeat > 1)
    repetition = g_strdup_printf (", repetition %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT,
                                  self->current_repeat + 1, step->repeat);
  if (step == &end_of_script)
    add_failure (self, "connection %u, end of script: %s", self->current_conn, what);
  else
    add_failure (self, "connection %u, step %u (line %u: `%s`%s): %s", self->current_conn,
                 self->current_step + 1, step->line, step->source,
                 repetition != NULL ? repetition : "", what);
}

static void
record_bytes (MkFaultServer *self, GByteArray *into, const guint8 *bytes, gsize length)
{
  pthread_mutex_lock (&self->lock);
  g_byte_array_append (into, bytes, length);
  pthread_mutex_unlock (&self->lock);
}

static void
record_read (MkFaultServer *self, Record *record, const guint8 *bytes, gsize length)
{
  gsize end;

  pthread_mutex_lock (&self->lock);
  g_byte_array_append (record->transcript, bytes, length);
  end = record->transcript->len;
  g_array_append_val (record->read_ends, end);
  pthread_mutex_unlock (&self->lock);
}

static void
record_string (MkFaultServer *self, char **into, char *value)
{
  pthread_mutex_lock (&self->lock);
  g_free (*into);
  *into = value;
  pthread_mutex_unlock (&self->lock);
}

/* ---- waiting and I/O ------------------------------------------------- */

static gint64
deadline_from_now (MkFaultServer *self)
{
  return g_get_monotonic_time () + self->timeout_us;
}

/* Waits for @events on @fd (or only for the deadline when @fd is -1) until
 * @deadline (-1: none), returning early with IO_STOPPED when the server is
 * being freed. */
static IoStatus
wait_fd (MkFaultServer *self, int fd, short events, gint64 deadline)
{
  for (;;)
    {
      struct pollfd fds[2] = {
        { .fd = self->wake_fds[0], .events = POLLIN },
        { .fd = fd, .events = events },
      };
      int timeout_ms = -1;
      int n;

      if (deadline >= 0)
        {
          gint64 left = deadline - g_get_monotonic_time ();
          if (left <= 0)
            return IO_TIMEOUT;
          timeout_ms = (int) MIN ((left + 999) / 1000, G_MAXINT);
        }
      n = poll (fds, fd >= 0 ? 2 : 1, timeout_ms);
      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >=, 0);
      if (fds[0].revents != 0)
        return IO_STOPPED;
      if (n > 0)
        return IO_OK;
    }
}

static IoStatus
sleep_ms (MkFaultServer *self, guint64 ms)
{
  IoStatus status = wait_fd (self, -1, 0, g_get_monotonic_time () + (gint64) ms * 1000);

  return status == IO_TIMEOUT ? IO_OK : status;
}

/* Keeps OpenSSL's reason for the failure that just happened, else errno's. */
static void
set_io_error (Conn *conn)
{
  int saved_errno = errno;
  unsigned long code = ERR_peek_error ();
  const char *reason = code != 0 ? ERR_reason_error_string (code) : NULL;

  g_free (conn->io_error);
  conn->io_error = g_strdup (reason != NULL ? reason : g_strerror (saved_errno));
  ERR_clear_error ();
}

/* What the next poll() must wait for after an SSL call returned @ret. */
static IoStatus
ssl_status (Conn *conn, int ret, short *events)
{
  switch (SSL_get_error (conn->ssl, ret))
    {
    case SSL_ERROR_WANT_READ:
      *events = POLLIN;
      return IO_OK;
    case SSL_ERROR_WANT_WRITE:
      *events = POLLOUT;
      return IO_OK;
    case SSL_ERROR_ZERO_RETURN:
      return IO_EOF;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error () == 0 && (errno == 0 || errno == ECONNRESET || errno == EPIPE))
        return IO_EOF;
      set_io_error (conn);
      return IO_ERROR;
    default:
      set_io_error (conn);
      return IO_ERROR;
    }
}

/* Reads what the client sent next into conn->in and the transcript. */
static IoStatus
conn_fill (MkFaultServer *self, Conn *conn, gint64 deadline)
{
  guint8 buffer[READ_CHUNK];

  for (;;)
    {
      short events = POLLIN;
      gssize n;
      IoStatus status;

      if (conn->ssl != NULL)
        {
          n = SSL_read (conn->ssl, buffer, sizeof buffer);
          if (n <= 0 && (status = ssl_status (conn, (int) n, &events)) != IO_OK)
            return status;
        }
      else
        {
          n = recv (conn->fd, buffer, sizeof buffer, 0);
          if (n == 0 || (n < 0 && errno == ECONNRESET))
            return IO_EOF;
          if (n < 0 && errno != EAGAIN && errno != EINTR)
            {
              set_io_error (conn);
              return IO_ERROR;
            }
        }
      if (n > 0)
        {
          g_byte_array_append (conn->in, buffer, (guint) n);
          record_read (self, conn->record, buffer, (gsize) n);
          return IO_OK;
        }
      if ((status = wait_fd (self, conn->fd, events, deadline)) != IO_OK)
        return status;
    }
}

static IoStatus
conn_write (MkFaultServer *self, Conn *conn, const guint8 *bytes, gsize length)
{
  gint64 deadline = deadline_from_now (self);

  while (length > 0)
    {
      short events = POLLOUT;
      gssize n;
      IoStatus status;

      if (conn->ssl != NULL)
        {
          n = SSL_write (conn->ssl, bytes, (int) MIN (length, G_MAXINT));
          if (n <= 0 && (status = ssl_status (conn, (int) n, &events)) != IO_OK)
            return status;
        }
      else
        {
          n = send (conn->fd, bytes, length, MSG_NOSIGNAL);
          if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            return IO_EOF;
          if (n < 0 && errno != EAGAIN && errno != EINTR)
            {
              set_io_error (conn);
              return IO_ERROR;
            }
        }
      if (n > 0)
        {
          bytes += n;
          length -= (gsize) n;
          deadline = deadline_from_now (self);
          continue;
        }
      if ((status = wait_fd (self, conn->fd, events, deadline)) != IO_OK)
        return status;
    }
  return IO_OK;
}

/* Writes the collected sends, in pieces of conn->split bytes with the delay
 * before each. A client that went away ends the sending quietly: the next
 * step that expects something of it reports that. */
static IoStatus
conn_flush (MkFaultServer *self, Conn *conn)
{
  IoStatus status = IO_OK;
  int cork = 1;

  if (conn->cork)
    setsockopt (conn->fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof cork);
  for (gsize done = 0; done < conn->out->len && !conn->peer_gone && status == IO_OK;)
    {
      gsize piece = MIN (conn->split, conn->out->len - done);

      if (conn->delay_ms > 0 && (status = sleep_ms (self, conn->delay_ms)) != IO_OK)
        break;
      status = conn_write (self, conn, conn->out->data + done, piece);
      done += piece;
      if (status == IO_EOF)
        {
          conn->peer_gone = TRUE;
          status = IO_OK;
        }
    }
  /* Uncorking sends what the cork held, all together. */
  cork = 0;
  if (conn->cork)
    setsockopt (conn->fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof cork);
  g_byte_array_set_size (conn->out, 0);
  return status;
}

/* ---- steps ------------------------------------------------------------ */

/* Reports why the client's bytes did not arrive; FALSE for the caller to
 * return. */
static gboolean
input_failure (MkFaultServer *self, Conn *conn, const Step *step, IoStatus status,
               const char *expected)
{
  g_autofree char *got = quote (conn->in->data, conn->in->len);
  g_autofree char *timed_out = NULL;
  g_autofree char *what = NULL;
  const char *why = conn->io_error;

  if (status == IO_STOPPED)
    return FALSE; /* the server is being freed: no failure of the client */
  g_assert (status != IO_OK);
  if (status == IO_EOF)
    why = "the client closed the connection";
  else if (status == IO_TIMEOUT)
    why = timed_out
        = g_strdup_printf ("timed out after %" G_GINT64_FORMAT " ms", self->timeout_us / 1000);
  what = g_strdup_printf ("%s; expected %s, got %s", why, expected, got);
  step_failure (self, step, what);
  return FALSE;
}

static void
consume_input (Conn *conn, gsize length)
{
  g_byte_array_remove_range (conn->in, 0, (guint) length);
}

/* A C: step's line as the script would write it, quoted. */
static char *
expected_line (const Step *step)
{
  gsize length;
  const guint8 *pattern = g_bytes_get_data (step->bytes, &length);
  g_autofree char *escaped = mk_fault_server_escape (pattern, length);

  return g_strdup_printf ("\"%s%s\\r\\n\"", escaped, step->wildcard ? "*" : "");
}

static gboolean
run_expect_line (MkFaultServer *self, Conn *conn, const Step *step)
{
  gsize pattern_len;
  const guint8 *pattern = g_bytes_get_data (step->bytes, &pattern_len);
  g_autofree char *expected = expected_line (step);
  const guint8 *lf = NULL;
  gsize line_len;
  gboolean match;
  IoStatus status;

  while (conn->in->len == 0 || (lf = memchr (conn->in->data, '\n', conn->in->len)) == NULL)
    {
      if (conn->in->len > CLIENT_LINE_MAX)
        {
          g_autofree char *got = quote (conn->in->data, conn->in->len);
          g_autofree char *what = g_strdup_printf (
              "expected %s, got a line of more than %d bytes: %s", expected, CLIENT_LINE_MAX, got);
          step_failure (self, step, what);
          return FALSE;
        }
      if ((status = conn_fill (self, conn, deadline_from_now (self))) != IO_OK)
        return input_failure (self, conn, step, status, expected);
    }
  line_len = (gsize) (lf - conn->in->data) + 1;
  match = line_len >= pattern_len + 2
          && (pattern_len == 0 || memcmp (conn->in->data, pattern, pattern_len) == 0)
          && conn->in->data[line_len - 2] == '\r'
          && (step->wildcard || line_len == pattern_len + 2);
  if (!match)
    {
      g_autofree char *got = quote (conn->in->data, line_len);
      g_autofree char *what = g_strdup_printf ("expected %s, got %s", expected, got);
      step_failure (self, step, what);
      return FALSE;
    }
  consume_input (conn, line_len);
  return TRUE;
}

/* Where the data's terminating ".\r\n" ends, or 0 while it has not come;
 * the search resumes at @from. The data starts at a line start, so the
 * terminator may be its first line. */
static gsize
find_data_end (const GByteArray *in, gsize from)
{
  if (from == 0 && in->len >= 3 && memcmp (in->data, ".\r\n", 3) == 0)
    return 3;
  for (gsize i = from; i + 5 <= in->len; i++)
    if (memcmp (in->data + i, "\r\n.\r\n", 5) == 0)
      return i + 5;
  return 0;
}

static gboolean
run_read_data (MkFaultServer *self, Conn *conn, const Step *step)
{
  gboolean by_count = step->kind == STEP_EXPECT_BYTES;
  gsize length = by_count ? step->number : 0;
  IoStatus status;

  for (gsize scanned = 0;;)
    {
      if (by_count ? conn->in->len >= step->number
                   : (length = find_data_end (conn->in, scanned)) > 0)
        break;
      /* Searched up to here, but a terminator may straddle the next read. */
      scanned = conn->in->len >= 4 ? conn->in->len - 4 : 0;
      if ((status = conn_fill (self, conn, deadline_from_now (self))) != IO_OK)
        {
          g_autofree char *expected
              = by_count ? g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", step->number)
                         : g_strdup ("data ending in \"\\r\\n.\\r\\n\"");
          return input_failure (self, conn, step, status, expected);
        }
    }
  record_bytes (self, conn->record->data, conn->in->data, length);
  consume_input (conn, length);
  return TRUE;
}

/* The client must send nothing for the step's time: it waits for a reply
 * (lock-step without PIPELINING, nothing after an injected STARTTLS 220). */
static gboolean
run_quiet (MkFaultServer *self, Conn *conn, const Step *step)
{
  IoStatus status = IO_OK;

  if (conn->in->len == 0)
    status = conn_fill (self, conn, g_get_monotonic_time () + (gint64) step->number * 1000);
  if (status == IO_TIMEOUT)
    return TRUE;
  if (status == IO_OK)
    {
      g_autofree char *got = quote (conn->in->data, conn->in->len);
      g_autofree char *what = g_strdup_printf ("expected the client to wait, got %s", got);
      step_failure (self, step, what);
      return FALSE;
    }
  return input_failure (self, conn, step, status, "the client to wait");
}

/* Reads until the client closes. With @strict, any byte is a failure. */
static gboolean
run_until_eof (MkFaultServer *self, Conn *conn, const Step *step, gboolean strict)
{
  for (;;)
    {
      IoStatus status;

      if (strict && conn->in->len > 0)
        {
          g_autofree char *got = quote (conn->in->data, conn->in->len);
          g_autofree char *what = g_strdup_printf ("expected the client to close, got %s", got);
          step_failure (self, step, what);
          return FALSE;
        }
      g_byte_array_set_size (conn->in, 0);
      status = conn_fill (self, conn, deadline_from_now (self));
      if (status == IO_EOF)
        return TRUE;
      if (status != IO_OK)
        return input_failure (self, conn, step, status, "the client to close");
    }
}

static gboolean
run_tls (MkFaultServer *self, Conn *conn, const Step *step)
{
  gint64 deadline = deadline_from_now (self);
  gboolean expect_refusal = step->kind == STEP_TLS_REFUSED;
  g_autofree char *reason = NULL;

  if (conn->in->len > 0)
    {
      g_autofree char *got = quote (conn->in->data, conn->in->len);
      g_autofree char *what
          = g_strdup_printf ("the client sent bytes before the handshake: %s", got);
      step_failure (self, step, what);
      return FALSE;
    }
  g_assert_nonnull (self->ssl_ctx);
  g_assert_null (conn->ssl);
  conn->ssl = SSL_new (self->ssl_ctx);
  SSL_set_fd (conn->ssl, conn->fd);
  ERR_clear_error ();
  for (;;)
    {
      int ret = SSL_accept (conn->ssl);
      short events = POLLIN;
      IoStatus status;

      if (ret == 1)
        break;
      status = ssl_status (conn, ret, &events);
      if (status == IO_OK)
        status = wait_fd (self, conn->fd, events, deadline);
      if (status == IO_OK)
        continue;
      if (status == IO_STOPPED)
        return FALSE;
      if (status == IO_TIMEOUT)
        reason = g_strdup_printf ("the handshake timed out after %" G_GINT64_FORMAT " ms",
                                  self->timeout_us / 1000);
      else
        reason = g_strdup (status == IO_EOF ? "the client closed the connection" : conn->io_error);
      break;
    }

  if (reason == NULL)
    {
      const char *sni = SSL_get_servername (conn->ssl, TLSEXT_NAMETYPE_host_name);
      X509 *peer = SSL_get0_peer_certificate (conn->ssl);

      record_string (self, &conn->record->sni, g_strdup (sni));
      if (peer != NULL)
        {
          char *subject = X509_NAME_oneline (X509_get_subject_name (peer), NULL, 0);
          record_string (self, &conn->record->client_subject, g_strdup (subject));
          OPENSSL_free (subject);
        }
      if (expect_refusal)
        step_failure (self, step, "the handshake succeeded, but the script expected it to fail");
      return !expect_refusal;
    }

  record_string (self, &conn->record->tls_error, g_strdup (reason));
  /* The session is dead: nothing more may be sent over it. */
  g_clear_pointer (&conn->ssl, SSL_free);
  if (!expect_refusal)
    {
      g_autofree char *what = g_strdup_printf ("the TLS handshake failed: %s", reason);
      step_failure (self, step, what);
    }
  return FALSE;
}

/* Closes our side (with close_notify if @notify and TLS is up), then records
 * what the client still sends until it closes too. */
static void
run_close (MkFaultServer *self, Conn *conn, gboolean notify)
{
  if (conn->ssl != NULL && notify && !conn->peer_gone)
    SSL_shutdown (conn->ssl);
  shutdown (conn->fd, SHUT_WR);
  for (;;)
    {
      IoStatus status;

      g_byte_array_set_size (conn->in, 0);
      status = conn_fill (self, conn, deadline_from_now (self));
      if (status != IO_OK)
        break;
    }
}

static void
run_reset (Conn *conn)
{
  struct linger linger = { .l_onoff = 1, .l_linger = 0 };

  setsockopt (conn->fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
}

static void
run_stall (MkFaultServer *self, Conn *conn)
{
  /* Neither reading nor writing, so the client's writes fill the TCP window;
   * POLLRDHUP still tells when it has closed. */
  wait_fd (self, conn->fd, POLLRDHUP, -1);
}

/* conn_flush(), reporting a write that failed; FALSE to end the
 * connection. */
static gboolean
flush_sends (MkFaultServer *self, Conn *conn, const Step *step)
{
  g_autofree char *what = NULL;

  switch (conn_flush (self, conn))
    {
    case IO_OK:
      return TRUE;
    case IO_TIMEOUT:
      what = g_strdup_printf ("a write blocked for %" G_GINT64_FORMAT " ms: the client stopped "
                              "reading",
                              self->timeout_us / 1000);
      step_failure (self, step, what);
      return FALSE;
    case IO_ERROR:
      what = g_strdup_printf ("write failed: %s", conn->io_error);
      step_failure (self, step, what);
      return FALSE;
    default:
      return FALSE;
    }
}

/* Collects a send step's payload, all its repetitions, writing whenever a
 * batch is full. The copies are made by doubling, so REPEAT 104857600 R: x
 * costs a few memcpy() per batch, not one call per byte. */
static gboolean
run_send (MkFaultServer *self, Conn *conn, const Step *step)
{
  gsize length;
  const guint8 *payload = g_bytes_get_data (step->bytes, &length);

  for (self->current_repeat = 0; self->current_repeat < step->repeat && !conn->peer_gone;)
    {
      guint64 copies = MIN (
          step->repeat - self->current_repeat,
          MAX (1, (SEND_BATCH_MAX - MIN (conn->out->len, SEND_BATCH_MAX)) / MAX (length, 1)));
      gsize start = conn->out->len;
      gsize total = (gsize) copies * length;

      g_byte_array_set_size (conn->out, (guint) (start + total));
      if (length > 0)
        memcpy (conn->out->data + start, payload, length);
      for (gsize done = length; done < total; done *= 2)
        memcpy (conn->out->data + start + done, conn->out->data + start, MIN (done, total - done));
      /* A failed write names the first repetition of its batch. */
      if (conn->out->len >= SEND_BATCH_MAX && !flush_sends (self, conn, step))
        return FALSE;
      self->current_repeat += copies;
    }
  return TRUE;
}

/* Runs one step other than a send; FALSE when the connection is over. */
static gboolean
run_step (MkFaultServer *self, Conn *conn, const Step *step)
{
  /* It first writes what the sends collected. */
  if (!flush_sends (self, conn, step))
    return FALSE;

  switch (step->kind)
    {
    case STEP_FLUSH:
      return TRUE;
    case STEP_SPLIT:
      conn->split = step->number;
      return TRUE;
    case STEP_CORK:
      conn->cork = TRUE;
      return TRUE;
    case STEP_DELAY:
      conn->delay_ms = step->number;
      return TRUE;
    case STEP_SLEEP:
      return sleep_ms (self, step->number) == IO_OK;
    case STEP_EXPECT_LINE:
      return run_expect_line (self, conn, step);
    case STEP_DATA_UNTIL_DOT:
    case STEP_EXPECT_BYTES:
      return run_read_data (self, conn, step);
    case STEP_QUIET:
      return run_quiet (self, conn, step);
    case STEP_EOF:
    case STEP_DRAIN:
      return run_until_eof (self, conn, step, step->kind == STEP_EOF);
    case STEP_TLS:
    case STEP_TLS_REFUSED:
      return run_tls (self, conn, step) && step->kind == STEP_TLS;
    case STEP_CLOSE:
    case STEP_CLOSE_NO_NOTIFY:
      run_close (self, conn, step->kind == STEP_CLOSE);
      return FALSE;
    case STEP_RESET:
      run_reset (conn);
      return FALSE;
    case STEP_STALL:
      run_stall (self, conn);
      return FALSE;
    case STEP_SEND: /* run_send() */
    default:
      g_assert_not_reached ();
    }
}

/* Runs @steps over @conn; FALSE if an expectation failed (which ends the
 * whole server) or the server is being freed. */
static gboolean
run_script (MkFaultServer *self, Conn *conn, GArray *steps)
{
  gboolean running = TRUE;
  gboolean failed;

  for (guint i = 0; i <= steps->len && running; i++)
    {
      const Step *step = i < steps->len ? &g_array_index (steps, Step, i) : &end_of_script;

      pthread_mutex_lock (&self->lock);
      self->current_step = i;
      pthread_mutex_unlock (&self->lock);
      if (step->kind == STEP_SEND)
        running = run_send (self, conn, step);
      for (self->current_repeat = 0;
           step->kind != STEP_SEND && self->current_repeat < step->repeat && running;
           self->current_repeat++)
        running = run_step (self, conn, step);
    }

  pthread_mutex_lock (&self->lock);
  failed = self->failure != NULL;
  pthread_mutex_unlock (&self->lock);
  return !failed;
}

/* ---- the thread -------------------------------------------------------- */

static int
accept_client (MkFaultServer *self, gint64 deadline)
{
  for (;;)
    {
      int fd = accept4 (self->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      IoStatus status;

      if (fd >= 0)
        return fd;
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        g_error ("fault server: accept failed: %s", g_strerror (errno));
      status = wait_fd (self, self->listen_fd, POLLIN, deadline);
      if (status == IO_TIMEOUT)
        add_failure (self, "connection %u: no client connected within %" G_GINT64_FORMAT " ms",
                     self->current_conn, self->timeout_us / 1000);
      if (status != IO_OK)
        return -1;
    }
}

static void
conn_close (Conn *conn)
{
  g_clear_pointer (&conn->ssl, SSL_free);
  close (conn->fd);
  g_byte_array_unref (conn->in);
  g_byte_array_unref (conn->out);
  g_free (conn->io_error);
}

static gpointer
server_thread (gpointer data)
{
  MkFaultServer *self = data;
  sigset_t sigpipe;
  gboolean ok = TRUE;

  /* OpenSSL writes to the socket with write(): a client that has gone must
   * give EPIPE, not kill the test program. */
  sigemptyset (&sigpipe);
  sigaddset (&sigpipe, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &sigpipe, NULL);

  for (guint i = 0; i < self->scripts->len && ok; i++)
    {
      Conn conn = { .split = G_MAXUINT64 };
      int one = 1;

      pthread_mutex_lock (&self->lock);
      self->current_conn = i;
      self->current_step = 0;
      pthread_mutex_unlock (&self->lock);
      conn.fd = accept_client (self, deadline_from_now (self));
      if (conn.fd < 0)
        break;
      /* Each write is its own segment, so SPLIT and FLUSH reach the client
       * as pieces. */
      setsockopt (conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conn.in = g_byte_array_new ();
      conn.out = g_byte_array_new ();
      conn.record = g_new0 (Record, 1);
      conn.record->transcript = g_byte_array_new ();
      conn.record->read_ends = g_array_new (FALSE, FALSE, sizeof (gsize));
      conn.record->data = g_byte_array_new ();
      pthread_mutex_lock (&self->lock);
      g_ptr_array_add (self->records, conn.record);
      pthread_mutex_unlock (&self->lock);

      ok = run_script (self, &conn, g_ptr_array_index (self->scripts, i));
      conn_close (&conn);
    }

  pthread_mutex_lock (&self->lock);
  self->scripts_done = TRUE;
  pthread_cond_broadcast (&self->cond);
  pthread_mutex_unlock (&self->lock);

  /* A client connecting more often than the script allows is a failure too;
   * after a failure the listening socket is closed instead, so the client
   * is refused rather than left waiting. */
  while (ok)
    {
      int fd = accept_client (self, -1);

      if (fd < 0)
        break;
      add_failure (self, "connection %u: unexpected, the script has %u connection(s)",
                   self->records->len, self->scripts->len);
      close (fd);
      ok = FALSE;
    }
  close (self->listen_fd);
  self->listen_fd = -1;
  return NULL;
}

/* ---- setting up -------------------------------------------------------- */

static void G_GNUC_NORETURN
ssl_setup_error (const char *what, const char *path)
{
  char reason[256] = "";

  ERR_error_string_n (ERR_get_error (), reason, sizeof reason);
  g_error ("fault server: %s %s: %s", what, path != NULL ? path : "", reason);
}

static SSL_CTX *
new_ssl_ctx (const MkFaultServerOptions *options)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());
  const char *cert = options->cert_file;
  const char *key = options->key_file;
  MkFaultServerTlsVersion min = options->min_tls_version;
  MkFaultServerTlsVersion max = options->max_tls_version;

  if (cert == NULL)
    {
      cert = mk_test_certs_get ()->server_cert;
      key = mk_test_certs_get ()->server_key;
    }
  if (SSL_CTX_use_certificate_chain_file (ctx, cert) != 1)
    ssl_setup_error ("cannot load the certificate", cert);
  if (SSL_CTX_use_PrivateKey_file (ctx, key != NULL ? key : cert, SSL_FILETYPE_PEM) != 1)
    ssl_setup_error ("cannot load the key", key);
  /* OpenSSL 3 refuses the SHA-1 signatures of TLS 1.0 and 1.1 from security
   * level 1 up: an old-protocol server needs level 0. */
  if ((min != 0 && min < MK_FAULT_SERVER_TLS_1_2) || (max != 0 && max < MK_FAULT_SERVER_TLS_1_2))
    SSL_CTX_set_security_level (ctx, 0);
  if (min != 0 && SSL_CTX_set_min_proto_version (ctx, (int) min) != 1)
    ssl_setup_error ("bad min_tls_version", NULL);
  if (max != 0 && SSL_CTX_set_max_proto_version (ctx, (int) max) != 1)
    ssl_setup_error ("bad max_tls_version", NULL);
  if (options->cipher_list != NULL && SSL_CTX_set_cipher_list (ctx, options->cipher_list) != 1)
    ssl_setup_error ("bad cipher_list", options->cipher_list);
  if (options->client_cert != MK_FAULT_SERVER_CLIENT_CERT_NONE)
    {
      const char *ca = options->client_ca_file != NULL ? options->client_ca_file
                                                       : mk_test_certs_get ()->ca_file;
      int mode = SSL_VERIFY_PEER;

      if (options->client_cert == MK_FAULT_SERVER_CLIENT_CERT_REQUIRE)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      if (SSL_CTX_load_verify_locations (ctx, ca, NULL) != 1)
        ssl_setup_error ("cannot load the client CA", ca);
      SSL_CTX_set_client_CA_list (ctx, SSL_load_client_CA_file (ca));
      SSL_CTX_set_verify (ctx, mode, NULL);
    }
  /* A client that closes without close_notify has closed: the truncation
   * matters to the client under test, not to the script. */
  SSL_CTX_set_options (ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  /* No TLS 1.3 session tickets unless asked for: they would be unread
   * bytes at the client's close, and the RST that follows could eat the
   * last reply. */
  if (!options->tls_session_tickets)
    SSL_CTX_set_num_tickets (ctx, 0);
  return ctx;
}

static void
start_listening (MkFaultServer *self, MkFaultServerListen listen_on, const char *listen_address)
{
  struct sockaddr_storage native;
  socklen_t native_len = sizeof native;
  g_autoptr (GSocketAddress) wanted = NULL;
  g_autoptr (GError) error = NULL;

  if (listen_on == MK_FAULT_SERVER_LISTEN_UNIX)
    {
      self->unix_dir = mk_test_make_subdir ("fault-server");
      self->address = g_build_filename (self->unix_dir, "smtp.sock", NULL);
      wanted = g_unix_socket_address_new (self->address);
    }
  else
    {
      if (listen_address != NULL)
        self->address = g_strdup (listen_address);
      else
        self->address
            = g_strdup (listen_on == MK_FAULT_SERVER_LISTEN_IPV6 ? "::1" : "127.0.0.1");
      wanted = g_inet_socket_address_new_from_string (self->address, 0);
    }
  if (!g_socket_address_to_native (wanted, &native, sizeof native, &error))
    g_error ("fault server: %s: %s", self->address, error->message);
  self->listen_fd = socket (native.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (self->listen_fd < 0
      || bind (self->listen_fd, (struct sockaddr *) &native,
               (socklen_t) g_socket_address_get_native_size (wanted))
             < 0
      || listen (self->listen_fd, LISTEN_BACKLOG) < 0)
    g_error ("fault server: cannot listen on %s: %s (IPv6 tests need ::1 on the loopback "
             "interface)",
             self->address, g_strerror (errno));
  /* Where it listens, with the free port the kernel chose. */
  g_assert_cmpint (getsockname (self->listen_fd, (struct sockaddr *) &native, &native_len), ==, 0);
  self->socket_address = g_socket_address_new_from_native (&native, native_len);
  if (G_IS_INET_SOCKET_ADDRESS (self->socket_address))
    self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (self->socket_address));
}

MkFaultServer *
mk_fault_server_new (const char *script, const MkFaultServerOptions *options)
{
  static const MkFaultServerOptions defaults = { 0 };
  pthread_condattr_t cond_attr;
  gboolean uses_tls = FALSE;
  MkFaultServer *self;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (script != NULL, NULL);
  if (options == NULL)
    options = &defaults;

  self = g_new0 (MkFaultServer, 1);
  pthread_mutex_init (&self->lock, NULL);
  pthread_condattr_init (&cond_attr);
  pthread_condattr_setclock (&cond_attr, CLOCK_MONOTONIC);
  pthread_cond_init (&self->cond, &cond_attr);
  pthread_condattr_destroy (&cond_attr);
  self->scripts = parse_script (script, &uses_tls);
  self->records = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
  self->snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->timeout_us
      = (gint64) (options->timeout_ms != 0 ? options->timeout_ms
                                           : DEFAULT_TIMEOUT_MS * mk_test_time_scale ())
        * 1000;
  if (uses_tls)
    self->ssl_ctx = new_ssl_ctx (options);
  if (!g_unix_open_pipe (self->wake_fds, FD_CLOEXEC, &error))
    g_error ("fault server: %s", error->message);
  start_listening (self, options->listen, options->listen_address);
  self->thread = g_thread_new ("fault-server", server_thread, self);
  return self;
}

void
mk_fault_server_free (MkFaultServer *server)
{
  g_return_if_fail (server != NULL);

  /* The thread polls this pipe in every wait. */
  g_assert_cmpint (write (server->wake_fds[1], "x", 1), ==, 1);
  g_thread_join (server->thread);
  close (server->wake_fds[0]);
  close (server->wake_fds[1]);
  if (server->unix_dir != NULL)
    {
      g_unlink (server->address);
      g_rmdir (server->unix_dir);
      g_free (server->unix_dir);
    }
  g_clear_pointer (&server->ssl_ctx, SSL_CTX_free);
  g_object_unref (server->socket_address);
  g_ptr_array_unref (server->scripts);
  g_ptr_array_unref (server->records);
  g_ptr_array_unref (server->snapshots);
  if (server->failure != NULL)
    g_string_free (server->failure, TRUE);
  g_free (server->address);
  pthread_mutex_destroy (&server->lock);
  pthread_cond_destroy (&server->cond);
  g_free (server);
}

const char *
mk_fault_server_get_address (MkFaultServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);
  return server->address;
}

guint16
mk_fault_server_get_port (MkFaultServer *server)
{
  g_return_val_if_fail (server != NULL, 0);
  return server->port;
}

GSocketAddress *
mk_fault_server_get_socket_address (MkFaultServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);
  return server->socket_address;
}

gboolean
mk_fault_server_wait (MkFaultServer *server, guint timeout_ms)
{
  gint64 deadline;
  struct timespec until;
  gboolean done;

  g_return_val_if_fail (server != NULL, FALSE);
  /* By default longer than one step's timeout, so that the step's own,
   * more precise failure is the one reported. g_get_monotonic_time() is
   * CLOCK_MONOTONIC, the condition's clock. */
  deadline = g_get_monotonic_time ()
             + (timeout_ms != 0 ? (gint64) timeout_ms * 1000 : 2 * server->timeout_us);
  until.tv_sec = deadline / G_USEC_PER_SEC;
  until.tv_nsec = (deadline % G_USEC_PER_SEC) * 1000;
  pthread_mutex_lock (&server->lock);
  while (!server->scripts_done
         && pthread_cond_timedwait (&server->cond, &server->lock, &until) != ETIMEDOUT)
    ;
  done = server->scripts_done;
  pthread_mutex_unlock (&server->lock);

  if (!done)
    {
      guint conn, step_index;
      gboolean connected;
      GArray *steps;
      g_autofree char *where = NULL;

      pthread_mutex_lock (&server->lock);
      conn = server->current_conn;
      step_index = server->current_step;
      connected = conn < server->records->len;
      pthread_mutex_unlock (&server->lock);
      steps = g_ptr_array_index (server->scripts, conn);
      if (!connected)
        where = g_strdup ("is waiting for the client to connect");
      else if (step_index >= steps->len)
        where = g_strdup ("is at the end of its script, waiting for the client to close");
      else
        where = g_strdup_printf ("is at step %u (line %u: `%s`)", step_index + 1,
                                 g_array_index (steps, Step, step_index).line,
                                 g_array_index (steps, Step, step_index).source);
      add_failure (server, "the scripts did not finish in time: connection %u %s", conn, where);
    }
  return done;
}

const char *
mk_fault_server_get_failure (MkFaultServer *server)
{
  const char *failure = NULL;

  g_return_val_if_fail (server != NULL, NULL);
  pthread_mutex_lock (&server->lock);
  if (server->failure != NULL)
    {
      GBytes *copy = g_bytes_new (server->failure->str, server->failure->len + 1);
      g_ptr_array_add (server->snapshots, copy);
      failure = g_bytes_get_data (copy, NULL);
    }
  pthread_mutex_unlock (&server->lock);
  return failure;
}

typedef enum
{
  FIELD_TRANSCRIPT,
  FIELD_DATA,
} Field;

/* A copy of what was recorded so far, kept until the server is freed, with
 * a NUL after its end so it is also a string. */
static GBytes *
snapshot (MkFaultServer *server, guint index, Field field)
{
  GByteArray *copy;
  GBytes *whole, *slice;
  guint size;

  g_return_val_if_fail (index < server->scripts->len, NULL);
  copy = g_byte_array_new ();
  pthread_mutex_lock (&server->lock);
  if (index < server->records->len)
    {
      Record *record = g_ptr_array_index (server->records, index);
      GByteArray *from = field == FIELD_TRANSCRIPT ? record->transcript : record->data;
      g_byte_array_append (copy, from->data, from->len);
    }
  size = copy->len;
  g_byte_array_append (copy, (const guint8 *) "", 1);
  whole = g_byte_array_free_to_bytes (copy);
  slice = g_bytes_new_from_bytes (whole, 0, size);
  g_bytes_unref (whole);
  g_ptr_array_add (server->snapshots, slice);
  pthread_mutex_unlock (&server->lock);
  return slice;
}

static const char *
snapshot_string (MkFaultServer *server, guint index, Field field)
{
  GBytes *bytes = snapshot (server, index, field);
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);
  const char *nul = length > 0 ? memchr (data, '\0', length) : NULL;

  if (nul != NULL)
    g_error ("the %s of connection %u holds a NUL byte at offset %" G_GSIZE_FORMAT
             ": compare the bytes instead",
             field == FIELD_TRANSCRIPT ? "transcript" : "data", index, (gsize) (nul - data));
  /* The slice ends where the NUL snapshot() appended begins. */
  return data != NULL ? data : "";
}

const char *
mk_fault_server_get_transcript (MkFaultServer *server, guint index)
{
  g_return_val_if_fail (server != NULL, NULL);
  return snapshot_string (server, index, FIELD_TRANSCRIPT);
}

GBytes *
mk_fault_server_get_transcript_bytes (MkFaultServer *server, guint index)
{
  g_return_val_if_fail (server != NULL, NULL);
  return snapshot (server, index, FIELD_TRANSCRIPT);
}

gboolean
mk_fault_server_in_one_read (MkFaultServer *server, guint index, gsize offset, gsize length)
{
  gboolean one = FALSE;

  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (index < server->scripts->len, FALSE);
  pthread_mutex_lock (&server->lock);
  if (index < server->records->len)
    {
      Record *record = g_ptr_array_index (server->records, index);

      one = offset + length <= record->transcript->len;
      for (guint i = 0; one && i < record->read_ends->len; i++)
        {
          gsize end = g_array_index (record->read_ends, gsize, i);

          one = end <= offset || end >= offset + length;
        }
    }
  pthread_mutex_unlock (&server->lock);
  return one;
}

GBytes *
mk_fault_server_get_data (MkFaultServer *server, guint index)
{
  g_return_val_if_fail (server != NULL, NULL);
  return snapshot (server, index, FIELD_DATA);
}

const char *
mk_fault_server_get_data_string (MkFaultServer *server, guint index)
{
  g_return_val_if_fail (server != NULL, NULL);
  return snapshot_string (server, index, FIELD_DATA);
}

static const char *
tls_fact (MkFaultServer *server, guint index, gsize offset)
{
  const char *fact = NULL;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (index < server->scripts->len, NULL);
  pthread_mutex_lock (&server->lock);
  if (index < server->records->len)
    {
      const char *value
          = G_STRUCT_MEMBER (char *, g_ptr_array_index (server->records, index), offset);
      if (value != NULL)
        {
          GBytes *copy = g_bytes_new (value, strlen (value) + 1);
          g_ptr_array_add (server->snapshots, copy);
          fact = g_bytes_get_data (copy, NULL);
        }
    }
  pthread_mutex_unlock (&server->lock);
  return fact;
}

const char *
mk_fault_server_get_sni (MkFaultServer *server, guint index)
{
  return tls_fact (server, index, G_STRUCT_OFFSET (Record, sni));
}

const char *
mk_fault_server_get_client_cert_subject (MkFaultServer *server, guint index)
{
  return tls_fact (server, index, G_STRUCT_OFFSET (Record, client_subject));
}

const char *
mk_fault_server_get_tls_error (MkFaultServer *server, guint index)
{
  return tls_fact (server, index, G_STRUCT_OFFSET (Record, tls_error));
}
