#!/bin/bash
# run-send-memory.sh: peak resident memory while sending one message with a
# huge attachment (a sparse file) to Postfix's smtp-sink on loopback.
#
#   tests/bench/run-send-memory.sh BUILD_DIR [ATTACHMENT_MIB]
#
# ATTACHMENT_MIB defaults to 1024 (1 GiB). Prints the figures of
# bench-send-memory and whether the peak stays under the bound.
set -eu

build=${1:?usage: run-send-memory.sh BUILD_DIR [ATTACHMENT_MIB]}
mib=${2:-1024}
# The bound for streaming: what a client holds must not grow with the
# attachment (Python's smtplib needs several times the message size).
limit_kib=$((32 * 1024))
bench="$build/tests/bench/bench-send-memory"
sink=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)

[ -x "$bench" ] || { echo "no $bench: build first (ninja -C $build)" >&2; exit 1; }
[ -x "$sink" ] || { echo "smtp-sink not found: install the Debian package postfix" >&2; exit 1; }

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_option=()
[ "$(id -u)" = 0 ] && user_option=(-u nobody)
"$sink" "${user_option[@]}" "127.0.0.1:$port" 16 &
sink_pid=$!
trap 'kill "$sink_pid" 2>/dev/null || true' EXIT

for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

figures=$("$bench" 127.0.0.1 "$port" "$mib")
echo "$figures"
peak=$(echo "$figures" | sed -n 's/.*peak_rss_kib=\([0-9]*\).*/\1/p')
if [ "$peak" -lt "$limit_kib" ]; then
  echo "peak RSS $((peak / 1024)) MiB < $((limit_kib / 1024)) MiB: met"
else
  echo "peak RSS $((peak / 1024)) MiB >= $((limit_kib / 1024)) MiB: NOT met"
  exit 1
fi
