#!/bin/sh
# run-tests.sh - runs every test and prints the counts; called by `make test`.
#
#   scripts/run-tests.sh               unit + Quartz differential + integration + SDK + fuzz smoke
#   scripts/run-tests.sh --unit-only   unit tests of BUILD (default build/asan)
#
# Unit tests and the integration suite run against the sanitizer build
# (build/asan: ASan + UBSan), so a memory error on any request path fails.
# Exit status is non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."

BUILD=build/asan
UNIT_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --unit-only) UNIT_ONLY=1 ;;
    BUILD=*) BUILD=${arg#BUILD=} ;;
  esac
done

PY=/usr/bin/python3
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=99"
# Symbolized stack traces in sanitizer reports (llvm-14, installed by --test).
[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ] &&
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
summary=""

# --- source checks: banned calls, foreign code -----------------------------------
if [ $UNIT_ONLY -eq 0 ]; then
  scripts/checksrc.sh || failed=1
fi

# --- unit tests (cmocka) ------------------------------------------------------
# The executor tests start real supervisors: the one of the build under test.
export JOBSD_TEST_SUPERVISOR="$PWD/$BUILD/jobsd-supervisor"
unit_pass=0
unit_fail=0
for t in $(find "$BUILD/tests" -type f -name '*_test' 2>/dev/null | sort); do
  out=$("$t" 2>&1)
  rc=$?
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
  unit_pass=$((unit_pass + ${p:-0}))
  unit_fail=$((unit_fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    printf '%s\n' "$out" | grep -v '^\[ \(RUN\|       OK\) ' >&2
    echo "unit: $t failed (exit $rc)" >&2
    [ "${f:-0}" -eq 0 ] && unit_fail=$((unit_fail + 1))
    failed=1
  fi
done
summary="unit tests: $unit_pass passed, $unit_fail failed"
if [ $UNIT_ONLY -eq 1 ]; then
  echo "$summary"
  exit $failed
fi

# --- Quartz differential test: cron_next() against Quartz 2.3.2 itself (tests/quartz) ---
if tests/quartz/run.sh "$BUILD" >build/quartz.log 2>&1; then
  grep '^expected differences' build/quartz.log
else
  failed=1
  head -n 120 build/quartz.log >&2
fi
qline=$(grep -E '^quartz differential:' build/quartz.log | tail -n 1)
summary="$summary
${qline:-quartz differential: no result (see build/quartz.log)}"

# --- integration tests (pytest against a real jobsd; runtime tests of the Python side) --
export JOBSD_BIN="$PWD/$BUILD/jobsd" JOBCTL_BIN="$PWD/$BUILD/jobctl"
"$PY" -m pytest tests/runtime tests/integration -q -p no:cacheprovider -rfE 2>&1 | tee build/pytest.log
[ "$(tail -n 1 build/pytest.log | grep -c 'failed\|error')" -eq 0 ] || failed=1
pyline=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' build/pytest.log | tail -n 1 |
  sed 's/=//g; s/^ *//; s/ *$//')
summary="$summary
integration tests: ${pyline:-no result (see build/pytest.log)}"

# --- the official JavaScript SDK against jobsd --------------------------------------
if (cd tests/js && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1); then
  if node tests/js/sdk_test.mjs 2>&1 | tee build/js.log; then :; else failed=1; fi
  jsline=$(grep -E '^sdk tests:' build/js.log | tail -n 1)
else
  failed=1
  jsline="sdk tests: npm ci failed in tests/js"
fi
summary="$summary
${jsline:-sdk tests: no result (see build/js.log)}"

# --- fuzz targets: a short run each (longer: make fuzz) -------------------------------
if fuzz/run.sh --seconds 5 >build/fuzz.log 2>&1; then
  fz=$(grep -c '^fuzz: .* ok' build/fuzz.log)
  summary="$summary
fuzz smoke: $fz targets ran clean"
else
  failed=1
  tail -n 40 build/fuzz.log >&2
  summary="$summary
fuzz smoke: FAILED (see build/fuzz.log)"
fi

echo
echo "$summary"
[ $failed -eq 0 ] && echo "all tests passed" || echo "SOME TESTS FAILED"
exit $failed
