/* smtplib-port.c: the smtplib example of the Python documentation, in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Python's smtplib documentation ends with this program (each Python line
 * is quoted above the C that does the same):
 *
 *     import smtplib
 *
 *     def prompt(title):
 *         return input(title).strip()
 *
 *     from_addr = prompt("From: ")
 *     to_addrs  = prompt("To: ").split()
 *     print("Enter message, end with ^D (Unix) or ^Z (Windows):")
 *
 *     # Add the From: and To: headers at the start!
 *     lines = [f"From: {from_addr}", f"To: {', '.join(to_addrs)}", ""]
 *     while True:
 *         try:
 *             line = input()
 *         except EOFError:
 *             break
 *         else:
 *             lines.append(line)
 *
 *     msg = "\r\n".join(lines)
 *     print("Message length is", len(msg))
 *
 *     server = smtplib.SMTP("localhost")
 *     server.set_debuglevel(1)
 *     server.sendmail(from_addr, to_addrs, msg)
 *     server.quit()
 *
 * Build: cc smtplib-port.c $(pkg-config --cflags --libs mailkit-1.0)
 * Run:   ./smtplib-port [SERVER[:PORT]]   (default: localhost)
 */
#include <stdio.h>
#include <string.h>

#include <libmailkit/mailkit.h>

/* def prompt(title): return input(title).strip() */
static char *
prompt (const char *title)
{
  char line[1024];

  fputs (title, stdout);
  fflush (stdout);
  if (fgets (line, sizeof line, stdin) == NULL)
    return g_strdup ("");
  return g_strstrip (g_strdup (line));
}

int
main (int argc, char **argv)
{
  const char *host = argc > 1 ? argv[1] : "localhost";
  g_autoptr (GError) error = NULL;
  char line[4096];

  /* from_addr = prompt("From: ") */
  g_autofree char *from_addr = prompt ("From: ");
  /* to_addrs = prompt("To: ").split() */
  g_autofree char *to_line = prompt ("To: ");
  g_auto (GStrv) to_addrs = g_regex_split_simple ("\\s+", to_line, 0, 0);
  /* print("Enter message, end with ^D (Unix) or ^Z (Windows):") */
  printf ("Enter message, end with ^D (Unix) or ^Z (Windows):\n");

  /* lines = [f"From: {from_addr}", f"To: {', '.join(to_addrs)}", ""] */
  g_autoptr (GPtrArray) lines = g_ptr_array_new_null_terminated (16, g_free, TRUE);
  g_autofree char *to_joined = g_strjoinv (", ", to_addrs);
  g_ptr_array_add (lines, g_strdup_printf ("From: %s", from_addr));
  g_ptr_array_add (lines, g_strdup_printf ("To: %s", to_joined));
  g_ptr_array_add (lines, g_strdup (""));
  /* while True: line = input() … except EOFError: break … lines.append(line) */
  while (fgets (line, sizeof line, stdin) != NULL)
    {
      line[strcspn (line, "\r\n")] = '\0';
      g_ptr_array_add (lines, g_strdup (line));
    }

  /* msg = "\r\n".join(lines) */
  g_autofree char *msg = g_strjoinv ("\r\n", (char **) lines->pdata);
  /* print("Message length is", len(msg)) */
  printf ("Message length is %zu\n", strlen (msg));

  /* server = smtplib.SMTP("localhost") */
  g_autoptr (MkSmtpClient) server = mk_smtp_client_new ();
  g_autoptr (MkSmtpReply) greeting = mk_smtp_client_connect (server, host, 0, NULL, &error);
  if (greeting == NULL)
    {
      fprintf (stderr, "connect: %s\n", error->message);
      return 1;
    }
  /* server.set_debuglevel(1) */
  mk_smtp_client_set_debuglevel (server, 1);
  /* server.sendmail(from_addr, to_addrs, msg) */
  g_autoptr (GBytes) message = g_bytes_new (msg, strlen (msg));
  g_autoptr (GHashTable) refused = NULL;
  if (!mk_smtp_client_sendmail (server, from_addr, (const char *const *) to_addrs, message, NULL,
                                NULL, &refused, NULL, &error))
    {
      fprintf (stderr, "sendmail: %s\n", error->message);
      return 1;
    }
  /* server.quit() */
  g_autoptr (MkSmtpReply) bye = mk_smtp_client_quit (server, NULL, &error);
  if (bye == NULL)
    {
      fprintf (stderr, "quit: %s\n", error->message);
      return 1;
    }
  return 0;
}
