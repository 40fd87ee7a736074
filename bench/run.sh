#!/bin/sh
# bench/run.sh - `make bench`: the API, run and recovery benchmarks (bench/README.md).
#   bench/run.sh               all three
#   bench/run.sh api ...       bench/run.py (jobs API against nginx and SQLite)
#   bench/run.sh runs ...      bench/runs.py (run-now to exec, trivial runs/s)
#   bench/run.sh recovery ...  bench/recovery.py (durable run-now/s against SQLite,
#                              recovery after kill -9)
set -eu
cd "$(dirname "$0")/.."
case "${1:-all}" in
  api) shift; exec /usr/bin/python3 bench/run.py "$@" ;;
  runs) shift; exec /usr/bin/python3 bench/runs.py "$@" ;;
  recovery) shift; exec /usr/bin/python3 bench/recovery.py "$@" ;;
  *) /usr/bin/python3 bench/run.py; /usr/bin/python3 bench/runs.py
     exec /usr/bin/python3 bench/recovery.py ;;
esac
