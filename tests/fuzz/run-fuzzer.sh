#!/bin/sh
# run-fuzzer.sh FUZZER DICT SEEDS WORKDIR SECONDS: runs a libFuzzer target for
# a bounded time. New inputs go to WORKDIR (in the build tree), never into the
# seed corpus in the source tree. A file beside the dictionary with the same
# name and the suffix .options (headers.options) holds libFuzzer flags that
# target always runs with, such as its -max_len.
set -eu
fuzzer=$1 dict=$2 seeds=$3 workdir=$4 seconds=$5
options=${dict%.dict}.options
flags=
[ -f "$options" ] && flags=$(grep -v '^#' "$options")
mkdir -p "$workdir"
# $flags is split into words on purpose: one flag per word.
# shellcheck disable=SC2086
exec "$fuzzer" -max_total_time="$seconds" -dict="$dict" -print_final_stats=1 $flags \
  "$workdir" "$seeds"
