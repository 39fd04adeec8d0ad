#!/usr/bin/env bash
# The main job, end to end: builds libmailkit and mkmail, starts a real SMTP
# server (aiosmtpd) on loopback with STARTTLS and AUTH under a throw-away CA,
# sends a message with a text body, an HTML body with an inline image and
# two attachments through it with mkmail, and shows what the server got.
# Everything it starts is stopped when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

build=_build/default
[ -f "$build/build.ninja" ] || meson setup "$build" --prefix=/usr -Dtests=true -Ddocs=true >/dev/null
meson compile -C "$build" > "$build/demo-build.log" 2>&1 || { cat "$build/demo-build.log"; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== a test CA and a certificate for localhost"
bash tests/harness/make-test-certs.sh "$work/certs" >/dev/null

echo "== aiosmtpd on 127.0.0.1 with STARTTLS and AUTH (user demo)"
mkdir -p "$work/spool"
coproc SERVER {
  exec /usr/bin/python3 tests/peers/aiosmtpd-peer.py --starttls \
    --cert "$work/certs/server.pem" --key "$work/certs/server-key.pem" \
    --user demo:s3cret-demo --auth-required --smtputf8 --spool "$work/spool"
}
server_pid=$SERVER_PID
read -r ready port <&"${SERVER[0]}"
[ "$ready" = READY ] || { echo "the server did not start" >&2; exit 1; }
echo "   listening on port $port"

printf 's3cret-demo\n' > "$work/password"
chmod 600 "$work/password"

echo "== mkmail sends the message"
set -x
"$build/tools/mkmail/mkmail" \
  --server "127.0.0.1:$port" --cafile "$work/certs/ca.pem" \
  --user demo --password-file "$work/password" \
  -f 'Alice Example <alice@example.org>' -s 'Quarterly report – Q3' \
  --body data/demo/body.txt --html data/demo/body.html --inline data/sample.png \
  -a data/sample.pdf -a 'data/notes.txt;name=notes for Bob.txt' \
  -c carol@example.org -b audit@example.org \
  bob@example.org
set +x

echo "== what the server received"
for envelope in "$work"/spool/*.envelope; do
  /usr/bin/python3 - "$envelope" "${envelope%.envelope}.eml" data <<'PY'
import configparser, email, email.policy, hashlib, os, sys

# The peer writes its envelope as a GLib key file: lists end with ';'.
keyfile = configparser.ConfigParser(interpolation=None)
keyfile.read(sys.argv[1], encoding='utf-8')
envelope = {key: value for key, value in keyfile['envelope'].items()}
envelope['rcpt_tos'] = [r for r in envelope['rcpt_tos'].split(';') if r]
raw = open(sys.argv[2], 'rb').read()
message = email.message_from_bytes(raw, policy=email.policy.default)
print(f"envelope: MAIL FROM:<{envelope['mail_from']}>  RCPT TO: {', '.join(envelope['rcpt_tos'])}")
print(f"          over TLS: {envelope['tls']}, authenticated as: {envelope['auth_user']}")
for name in ('From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID'):
    print(f"{name + ':':12}{message[name]}")
print(f"{'Bcc:':12}{'(not on the wire, as it should be)' if message['Bcc'] is None else message['Bcc']}")
crlf_only = raw.count(b'\n') == raw.count(b'\r\n')
print(f"{len(raw)} bytes, every line ending CRLF: {crlf_only}")
print("structure:")
def show(part, depth):
    extra = ''
    if part.get_filename():
        extra += f' file "{part.get_filename()}"'
    if part['Content-ID']:
        extra += f' Content-ID {part["Content-ID"]}'
    if not part.is_multipart():
        payload = part.get_payload(decode=True)
        extra += f', {len(payload)} bytes'
        source = os.path.join(sys.argv[3], part.get_filename() or '')
        if part.get_filename() == 'notes for Bob.txt':
            source = os.path.join(sys.argv[3], 'notes.txt')
        if os.path.isfile(source):
            same = hashlib.sha256(open(source, 'rb').read()).digest() == hashlib.sha256(payload).digest()
            extra += ', identical to the file' if same else ', DIFFERENT from the file'
    print(f"  {'  ' * depth}{part.get_content_type()}{extra}")
    for sub in part.iter_parts() if part.is_multipart() else ():
        show(sub, depth + 1)
show(message, 0)
PY
done
