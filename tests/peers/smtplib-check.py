#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks a peer's TLS and AUTH with Python's smtplib, the reference client.

Connects with STARTTLS or implicit TLS, verifying the certificate against
--cafile and the host, authenticates with the given mechanism, optionally
sends one message, and prints `OK <cipher> <tls-version>` on success. Any
failure is a Python exception and a non-zero exit.
"""

import argparse
import smtplib
import ssl


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls", choices=["starttls", "implicit"], required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--mechanism", default="PLAIN", choices=["PLAIN", "LOGIN"])
    ap.add_argument("--mail-from")
    ap.add_argument("--rcpt-to")
    ap.add_argument("--subject", default="smtplib check")
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    if args.tls == "implicit":
        client = smtplib.SMTP_SSL(args.host, args.port, context=context, timeout=args.timeout)
    else:
        client = smtplib.SMTP(args.host, args.port, timeout=args.timeout)
        client.ehlo()
        if not client.has_extn("starttls"):
            raise SystemExit("STARTTLS not offered")
        client.starttls(context=context)
    client.ehlo()
    client.user, client.password = args.user, args.password
    method = client.auth_plain if args.mechanism == "PLAIN" else client.auth_login
    code, reply = client.auth(args.mechanism, method)
    if code != 235:
        raise SystemExit(f"AUTH {args.mechanism}: {code} {reply!r}")
    if args.rcpt_to:
        message = (f"From: <{args.mail_from}>\r\nTo: <{args.rcpt_to}>\r\n"
                   f"Subject: {args.subject}\r\n\r\nSent by smtplib-check.py\r\n")
        refused = client.sendmail(args.mail_from, [args.rcpt_to], message.encode())
        if refused:
            raise SystemExit(f"refused: {refused!r}")
    cipher = client.sock.cipher()
    client.quit()
    print(f"OK {cipher[0]} {cipher[1]}")


if __name__ == "__main__":
    main()
