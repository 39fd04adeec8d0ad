#!/usr/bin/env bash
# Installs every Debian package libmailkit's build, tests, demo and benchmark
# need. Idempotent: quiet, and without touching apt, when all are present.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libgmime-3.0-dev libssl-dev libgsasl-dev
  gobject-introspection libgirepository1.0-dev gir1.2-gmime-3.0
  python3 python3-gi python3-aiosmtpd
  postfix dovecot-core dovecot-lmtpd
  openssl valgrind clang libclang-rt-14-dev
  gi-docgen gnuplot-nox procps pandoc
  iproute2
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure the system mailer: the tests run their own
# instances and need no system daemon.
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
