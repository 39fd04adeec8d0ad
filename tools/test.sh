#!/usr/bin/env bash
# Installs what is needed, builds libmailkit and its API reference (gi-docgen
# warnings are fatal) and runs every test: the whole
# suite in a normal build, the C tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer and under valgrind memcheck, then each libFuzzer
# target for a short, bounded time (docs/fuzzing.md says how to run longer).
#
#   tools/test.sh                      everything
#   MK_TEST_QUICK=1 tools/test.sh      the normal build only
#   MK_FUZZ_SECONDS=N tools/test.sh    N seconds per fuzz target (default 60, about
#                                      6 minutes for the six targets)
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

# The fuzz targets replay their seed corpus as tests, then each explores for
# a bounded time; a crash, a leak or a broken invariant fails the run.
fuzz=_build/fuzz
step "fuzz targets, ${MK_FUZZ_SECONDS:-60} s each ($fuzz)"
[ -f "$fuzz/build.ninja" ] || CC=clang meson setup "$fuzz" --buildtype=debugoptimized \
  -Dfuzzing=true -Db_lundef=false -Dintrospection=disabled -Dtools=false
meson compile -C "$fuzz" -j "$jobs"
meson test -C "$fuzz" --print-errorlogs --suite fuzz
for target in reply-parser:reply capabilities:capabilities command:command \
              data-stream:data-stream headers:headers session:session; do
  name=fuzz-${target%%:*} corpus=${target#*:}
  sh tests/fuzz/run-fuzzer.sh "$fuzz/tests/fuzz/$name" "tests/fuzz/$corpus.dict" \
    "tests/fuzz/corpus/$corpus" "$fuzz/tests/fuzz/$name-corpus" "${MK_FUZZ_SECONDS:-60}" \
    > "$fuzz/$name.log" 2>&1 || { tail -n 60 "$fuzz/$name.log"; exit 1; }
  printf '%s: %s executions, no finding\n' "$name" \
    "$(sed -n 's/^stat::number_of_executed_units: *//p' "$fuzz/$name.log")"
done
