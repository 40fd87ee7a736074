#!/bin/sh
# bench/run.sh - `make bench`: the API, run and recovery benchmarks (bench/README.md).
#   bench/run.sh               all three
#   bench/run.sh api ...       bench/run.py (jobs API against nginx and SQLite)
#   bench/run.sh runs ...      bench/runs.py (run-now to exec, trivial runs/s)
#   bench/run.sh recovery ...  bench/recovery.py (durable run-now/s against SQLite,
#                              recovery after kill -9)
#   bench/run.sh sched ...     bench/sched.py (100,000 schedules: memory, start-up,
#                              cron_next cost, firing lateness)
set -eu
cd "$(dirname "$0")/.."
case "${1:-all}" in
  api) shift; exec /usr/bin/python3 bench/run.py "$@" ;;
  runs) shift; exec /usr/bin/python3 bench/runs.py "$@" ;;
  recovery) shift; exec /usr/bin/python3 bench/recovery.py "$@" ;;
  sched) shift; exec /usr/bin/python3 bench/sched.py "$@" ;;
  *) /usr/bin/python3 bench/run.py; /usr/bin/python3 bench/runs.py
     exec /usr/bin/python3 bench/recovery.py ;;
esac
