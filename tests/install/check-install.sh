#!/usr/bin/env bash
# Installs the build into a temporary root and checks what an application
# developer relies on: `pkg-config --cflags --libs mailkit-1.0` builds and
# links a program against the installed headers and library, and the typelib
# loads from Debian's Python with gi.require_version('Mailkit', '1.0').
set -euo pipefail
build=${1:?usage: check-install.sh BUILD_DIR PYTHON}
python=${2:?usage: check-install.sh BUILD_DIR PYTHON}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

meson install -C "$build" --destdir "$root" --no-rebuild --quiet >/dev/null
pcdir=$(dirname "$(find "$root" -name mailkit-1.0.pc -print -quit)")
[ -n "$pcdir" ] || { echo "not ok: mailkit-1.0.pc was not installed"; exit 1; }
libdir=$(dirname "$(find "$root" -name 'libmailkit-1.0.so' -print -quit)")
# The installed file names the final prefix; point it into the staging root.
sed -i "s|^prefix=|prefix=$root|" "$pcdir/mailkit-1.0.pc"

cat > "$root/app.c" <<'C'
#include <libmailkit/mailkit.h>
#include <stdio.h>

int
main (void)
{
  g_autoptr (GError) error = g_error_new_literal (MK_SMTP_ERROR, MK_SMTP_ERROR_DATA, "x");
  mk_init ();
  printf ("%s %s\n", mk_get_version (), g_quark_to_string (error->domain));
  return g_strcmp0 (mk_get_version (), MK_VERSION_S) != 0;
}
C
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs mailkit-1.0)
# shellcheck disable=SC2086
cc -o "$root/app" "$root/app.c" $flags
LD_LIBRARY_PATH="$libdir" "$root/app"
echo "ok: pkg-config --cflags --libs mailkit-1.0 builds and links against the install tree"

typelib=$(find "$root" -name 'Mailkit-1.0.typelib' -print -quit)
[ -n "$typelib" ] || { echo "not ok: Mailkit-1.0.typelib was not installed"; exit 1; }
GI_TYPELIB_PATH=$(dirname "$typelib") LD_LIBRARY_PATH="$libdir" "$python" - <<'PY'
import gi
gi.require_version('Mailkit', '1.0')
from gi.repository import GLib, Mailkit
Mailkit.init()
assert Mailkit.get_version().count('.') == 2, Mailkit.get_version()
assert GLib.quark_to_string(Mailkit.SmtpError.quark()) == 'mk-smtp-error-quark'
print('ok: Mailkit-1.0.typelib loads with gi.require_version')
PY
