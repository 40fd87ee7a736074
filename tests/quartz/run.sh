#!/bin/sh
# run.sh - the Quartz differential test: jobsd's cron_next() against Quartz 2.3.2 itself.
#
#   tests/quartz/run.sh [BUILD]            BUILD defaults to build/asan
#   QUARTZ_DIFF_COUNT=200000 tests/quartz/run.sh build     the long version
#
# Asks both sides the same questions: gen.py's generated lines (seed fixed, QUARTZ_DIFF_COUNT
# of them, default 10000) and handpicked.txt, each "zone<TAB>from_ms<TAB>n<TAB>expr". The
# oracle is org.quartz.CronExpression from Debian's libquartz2-java on OpenJDK 17
# (QuartzNext.java); the jobsd side is $BUILD/tests/cron_diff (built by `make unit-bins`;
# this script builds nothing of jobsd). compare.py prints every mismatch and the summary line;
# the exit status is 1 on any mismatch, 2 when something is missing.
set -eu
cd "$(dirname "$0")/../.."

BUILD=${1:-build/asan}
COUNT=${QUARTZ_DIFF_COUNT:-10000}
SEED=${QUARTZ_DIFF_SEED:-20261121}
JDK=/usr/lib/jvm/java-17-openjdk-amd64
CP=/usr/share/java/quartz2.jar
PY=/usr/bin/python3
DIR=tests/quartz
OUT=$BUILD/quartz

for f in "$JDK/bin/java" "$JDK/bin/javac" /usr/share/java/quartz2.jar "$BUILD/tests/cron_diff"; do
  if [ ! -e "$f" ]; then
    echo "quartz differential: $f is missing (scripts/install-deps.sh --test;" \
      "make BUILD=$BUILD unit-bins)" >&2
    exit 2
  fi
done
mkdir -p "$OUT/classes"

# The oracle, compiled when its source is newer than its class.
if [ ! -f "$OUT/classes/QuartzNext.class" ] ||
  [ -n "$(find "$DIR/QuartzNext.java" -newer "$OUT/classes/QuartzNext.class")" ]; then
  "$JDK/bin/javac" -nowarn -d "$OUT/classes" -cp "$CP" "$DIR/QuartzNext.java"
fi
oracle=$("$JDK/bin/java" -cp "$CP:$OUT/classes" QuartzNext --version)

"$PY" "$DIR/gen.py" --seed "$SEED" --count "$COUNT" >"$OUT/input.txt"
grep -v -e '^#' -e '^[[:space:]]*$' "$DIR/handpicked.txt" >>"$OUT/input.txt"

# Both sides at once (two cores). Java's default locale and time zone play no part: every
# question names its zone, and QuartzNext prints epoch milliseconds.
"$JDK/bin/java" -Xshare:auto -XX:+UseSerialGC -cp "$CP:$OUT/classes" QuartzNext \
  <"$OUT/input.txt" >"$OUT/quartz.out" &
qpid=$!
jrc=0
"$BUILD/tests/cron_diff" <"$OUT/input.txt" >"$OUT/jobsd.out" || jrc=$?
qrc=0
wait $qpid || qrc=$?
if [ $qrc -ne 0 ] || [ $jrc -ne 0 ]; then
  echo "quartz differential: QuartzNext exited $qrc, cron_diff exited $jrc" >&2
  exit 2
fi

exec "$PY" "$DIR/compare.py" "$OUT/input.txt" "$OUT/quartz.out" "$OUT/jobsd.out" "$oracle"
