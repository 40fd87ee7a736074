#!/bin/sh
# fuzz/run.sh - builds every libFuzzer target (fuzz/*_fuzz.c) against the
# whole server library compiled with clang, ASan and UBSan, replays its
# checked-in corpus (fuzz/corpus/<name>/), then fuzzes it for a while.
#
#   fuzz/run.sh [--seconds N]    N seconds of fuzzing per target (default 10)
#
# New inputs go to build/fuzz/corpus/<name>/ (not the checked-in corpus);
# a crash leaves its input in build/fuzz/artifacts/ and fails the run.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=10
[ "${1:-}" = "--seconds" ] && SECONDS_PER_TARGET=$2

OUT=build/fuzz
make --no-print-directory -s BUILD=$OUT CC=clang SANITIZE=1 OPT=-O1 \
  CFLAGS=-fsanitize=fuzzer-no-link $OUT/libjobsd.a
LIBS="$(pkg-config --libs libmicrohttpd jansson sqlite3 libcrypto) -lpthread"
mkdir -p $OUT/artifacts
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
# Symbolized stack traces in sanitizer reports (llvm-14, installed by --test).
[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ] &&
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
status=0
for src in fuzz/*_fuzz.c; do
  name=$(basename "$src" .c)
  corpus=fuzz/corpus/${name%_fuzz}
  work=$OUT/corpus/${name%_fuzz}
  mkdir -p "$work"
  # shellcheck disable=SC2086
  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc "$src" $OUT/libjobsd.a $LIBS \
    -o $OUT/$name
  dict=""
  [ -f "fuzz/${name%_fuzz}.dict" ] && dict="-dict=fuzz/${name%_fuzz}.dict"
  # shellcheck disable=SC2086
  if $OUT/$name $dict -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=$OUT/artifacts/$name- -print_final_stats=0 "$work" "$corpus" \
       >$OUT/$name.log 2>&1; then
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$OUT/$name.log" | tail -n 1)
    echo "fuzz: $name ok (${runs:-?} inputs in ${SECONDS_PER_TARGET}s, corpus replayed)"
  else
    echo "fuzz: $name FAILED; see $OUT/$name.log and $OUT/artifacts/"
    tail -n 30 $OUT/$name.log
    status=1
  fi
done
exit $status
