#!/usr/bin/env bash
# The C example of README.md, compiled against the build tree and run against a real SMTP server (aiosmtpd on loopback): the
# message must arrive with its attachment, byte for byte.
set -euo pipefail
srcdir=${1:?usage: check-readme-example.sh SRCDIR BUILDDIR PYTHON}
builddir=${2:?}
python=${3:?}

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The first ```c block after "## In C".
awk '/^## In C/ { inside = 1 } inside && /^```c$/ { code = 1; next } code && /^```$/ { exit } code { print }' \
  "$srcdir/README.md" > "$work/app.c"
grep -q mk_smtp_client_send_message "$work/app.c" || { echo "not ok: no C example found in README.md"; exit 1; }

coproc SERVER { exec "$python" "$srcdir/tests/peers/aiosmtpd-peer.py" --spool "$work/spool"; }
server_pid=$SERVER_PID
read -r ready port <&"${SERVER[0]}"
[ "$ready" = READY ] || { echo "not ok: aiosmtpd did not start (Debian package python3-aiosmtpd)"; exit 1; }

# The example talks to localhost:25; this server listens on a free port.
sed -i "s/\"localhost\", 25,/\"127.0.0.1\", $port,/" "$work/app.c"
grep -q "\"127.0.0.1\", $port," "$work/app.c" || { echo "not ok: the example no longer connects to \"localhost\", 25"; exit 1; }

# Against the build tree (tests/install checks pkg-config on an install).
flags="-I$srcdir -I$builddir $(pkg-config --cflags --libs gio-2.0 gmime-3.0) -L$builddir/libmailkit -lmailkit-1.0"
# shellcheck disable=SC2086
cc -Wall -Werror -o "$work/app" "$work/app.c" $flags
head -c 3000 /dev/urandom > "$work/report.pdf"
(cd "$work" && LD_LIBRARY_PATH="$builddir/libmailkit" ./app)

"$python" - "$work" <<'PY'
import email, email.policy, glob, os, sys
work = sys.argv[1]
messages = sorted(glob.glob(os.path.join(work, 'spool', '*.eml')))
assert len(messages) == 1, messages
message = email.message_from_bytes(open(messages[0], 'rb').read(), policy=email.policy.default)
assert message['Subject'] == 'The report', message['Subject']
attachment = next(message.iter_attachments())
assert attachment.get_filename() == 'report.pdf'
assert attachment.get_content() == open(os.path.join(work, 'report.pdf'), 'rb').read()
print('ok: the README example sends its message and attachment')
PY
