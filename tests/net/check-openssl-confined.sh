#!/bin/sh
# OpenSSL stays inside net/ (and the one-time init): no OpenSSL header in a
# public header, nor anywhere in the layers above net/ or in the tools, and
# net/'s one private header that carries OpenSSL types is used by net/ only.
set -eu
root=${1:?usage: check-openssl-confined.sh SOURCE_ROOT}
cd "$root"
status=0

above=$(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]openssl/' \
          libmailkit/smtp libmailkit/mime libmailkit/send tools 2>/dev/null || true)
public=$(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]openssl/' \
           libmailkit/*.h $(ls libmailkit/*/*.h | grep -v -- '-private\.h$') 2>/dev/null || true)
private=$(grep -rlE 'mk-tls-policy-private\.h' libmailkit tools 2>/dev/null \
            | grep -v '^libmailkit/net/' || true)

for file in $above $public $private; do
  echo "not ok: $file reaches OpenSSL outside net/"
  status=1
done
[ $status -eq 0 ] && echo "ok: OpenSSL is confined to net/"
exit $status
