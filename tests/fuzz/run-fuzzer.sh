#!/bin/sh
# run-fuzzer.sh FUZZER DICT SEEDS WORKDIR SECONDS: runs a libFuzzer target for
# a bounded time. New inputs go to WORKDIR (in the build tree), never into the
# seed corpus in the source tree.
set -eu
fuzzer=$1 dict=$2 seeds=$3 workdir=$4 seconds=$5
mkdir -p "$workdir"
exec "$fuzzer" -max_total_time="$seconds" -dict="$dict" -print_final_stats=1 "$workdir" "$seeds"
