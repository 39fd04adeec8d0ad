/* bench-raw-pipeline.c: the floor for many small messages over one connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * No library, no MIME, no checks beyond the reply codes: the bytes of
 * FILE are dot-stuffed once, and every message is those bytes. Each write
 * carries one message's data, its final dot and the next message's MAIL,
 * RCPT and DATA, as libmailkit's send_messages() does, so a message costs
 * one round trip and almost no client work (FILE holds CRLF lines). What this reaches against a
 * server is what the machine and the server allow any pipelining client;
 * run-benchmarks.py prints it beside libmailkit.
 *
 *   bench-raw-pipeline HOST PORT COUNT FILE
 *
 * Prints one line of key=value figures, as bench-send-many does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Enough for any run of the benchmark; a typo must not run for hours. */
#define RAW_MAX_COUNT 1000000
#define ENVELOPE "MAIL FROM:<bench@example.org>\r\nRCPT TO:<rcpt1@example.net>\r\nDATA\r\n"

static char replies[65536];
static size_t reply_start, reply_end;

static void
die (const char *what)
{
  fprintf (stderr, "bench-raw-pipeline: %s\n", what);
  exit (1);
}

/* Reads one whole reply (its last line) and checks its code. */
static void
expect (int fd, const char *code)
{
  for (;;)
    {
      char *lf = memchr (replies + reply_start, '\n', reply_end - reply_start);
      ssize_t n;

      if (lf != NULL)
        {
          char *line = replies + reply_start;

          reply_start = (size_t)(lf - replies) + 1;
          if (strncmp (line, code, 3) != 0)
            die ("unexpected reply");
          if (line[3] == '-')
            continue;
          return;
        }
      memmove (replies, replies + reply_start, reply_end - reply_start);
      reply_end -= reply_start;
      reply_start = 0;
      if (reply_end == sizeof replies)
        die ("reply line too long");
      n = recv (fd, replies + reply_end, sizeof replies - reply_end, 0);
      if (n <= 0)
        die ("connection lost");
      reply_end += (size_t)n;
    }
}

static void
send_all (int fd, const char *data, size_t length)
{
  while (length > 0)
    {
      ssize_t n = send (fd, data, length, MSG_NOSIGNAL);

      if (n <= 0)
        die ("write failed");
      data += n;
      length -= (size_t)n;
    }
}

/* The message as DATA carries it: CRLF lines, a leading dot doubled. */
static char *
read_message (const char *path, size_t *length)
{
  FILE *file = fopen (path, "rb");
  char *data;
  size_t used = 0, size = 4096;
  int c, at_line_start = 1;

  if (file == NULL)
    die ("cannot open the message file");
  data = malloc (size);
  while ((c = getc (file)) != EOF)
    {
      if (used + 2 >= size && (data = realloc (data, size *= 2)) == NULL)
        die ("out of memory");
      if (at_line_start && c == '.')
        data[used++] = '.';
      data[used++] = (char)c;
      at_line_start = c == '\n';
    }
  fclose (file);
  if (!at_line_start)
    die ("the message file must end with a line break");
  *length = used;
  return data;
}

static double
seconds (const struct timeval *tv)
{
  return tv->tv_sec + tv->tv_usec / 1e6;
}

int
main (int argc, char **argv)
{
  struct sockaddr_in address = { .sin_family = AF_INET };
  struct rusage before, after;
  struct timespec start, end;
  size_t message_length, batch_length;
  char *message, *batch;
  long count;
  int fd, one = 1;

  if (argc != 5)
    {
      fprintf (stderr, "usage: bench-raw-pipeline HOST PORT COUNT FILE\n");
      return 64;
    }
  count = strtol (argv[3], NULL, 10);
  if (count <= 0 || count > RAW_MAX_COUNT || inet_pton (AF_INET, argv[1], &address.sin_addr) != 1)
    die ("HOST is an IPv4 address, COUNT 1…1000000");
  address.sin_port = htons ((unsigned short)atoi (argv[2]));
  message = read_message (argv[4], &message_length);
  /* One message's data and dot, then the next envelope (or QUIT). */
  batch = malloc (message_length + sizeof ".\r\n" ENVELOPE);
  memcpy (batch, message, message_length);
  memcpy (batch + message_length, ".\r\n" ENVELOPE, sizeof ".\r\n" ENVELOPE);
  batch_length = message_length + strlen (".\r\n" ENVELOPE);

  getrusage (RUSAGE_SELF, &before);
  clock_gettime (CLOCK_MONOTONIC, &start);
  fd = socket (AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *)&address, sizeof address) != 0)
    die ("cannot connect");
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  expect (fd, "220");
  /* EHLO ends a group of pipelined commands (RFC 2920 §3.1). */
  send_all (fd, "EHLO bench.example\r\n", strlen ("EHLO bench.example\r\n"));
  expect (fd, "250");
  send_all (fd, ENVELOPE, strlen (ENVELOPE));
  for (long i = 0; i < count; i++)
    {
      if (i > 0)
        expect (fd, "250"); /* the previous message's final dot */
      expect (fd, "250");
      expect (fd, "250");
      expect (fd, "354");
      if (i + 1 < count)
        send_all (fd, batch, batch_length);
      else
        {
          send_all (fd, message, message_length);
          send_all (fd, ".\r\nQUIT\r\n", strlen (".\r\nQUIT\r\n"));
        }
    }
  expect (fd, "250");
  expect (fd, "221");
  clock_gettime (CLOCK_MONOTONIC, &end);
  getrusage (RUSAGE_SELF, &after);
  close (fd);
  printf ("messages=%ld recipients=1 wall_s=%.4f user_s=%.4f sys_s=%.4f\n", count,
          (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9,
          seconds (&after.ru_utime) - seconds (&before.ru_utime),
          seconds (&after.ru_stime) - seconds (&before.ru_stime));
  free (batch);
  free (message);
  return 0;
}
