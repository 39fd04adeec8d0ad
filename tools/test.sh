#!/usr/bin/env bash
# Installs what is needed, builds libmailkit and its API reference (gi-docgen
# warnings are fatal) and runs every test: the whole
# suite in a normal build, the C tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer and under valgrind memcheck.
#
#   tools/test.sh            everything
#   MK_TEST_QUICK=1 tools/test.sh    the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

jobs=$(nproc)
build=_build/default
asan=_build/asan

step() { printf '\n==== %s ====\n' "$*"; }

step "build and test ($build)"
[ -f "$build/build.ninja" ] || meson setup "$build" --prefix=/usr -Dtests=true -Ddocs=true
meson compile -C "$build" -j "$jobs"
meson test -C "$build" --print-errorlogs --num-processes "$jobs"

[ -n "${MK_TEST_QUICK:-}" ] && exit 0

# Python cannot load an ASan-built library (the runtime must come first), so
# the sanitizer build runs the C tests; the normal build ran the Python ones.
step "C tests under ASan + UBSan ($asan)"
[ -f "$asan/build.ninja" ] || meson setup "$asan" --buildtype=debug \
  -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=disabled \
  -Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all
meson compile -C "$asan" -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C "$asan" --print-errorlogs --num-processes "$jobs" --no-suite python --no-suite docs

# Only the C test programs: scripts (suites python, script, install, docs)
# would put an interpreter under valgrind.
step "C tests under valgrind memcheck ($build)"
meson test -C "$build" --setup valgrind --print-errorlogs --num-processes "$jobs" \
  --no-suite python --no-suite script --no-suite install --no-suite docs
