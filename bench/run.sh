#!/bin/sh
# bench/run.sh - `make bench`: the API and run benchmarks (bench/README.md).
#   bench/run.sh            both
#   bench/run.sh api ...    bench/run.py (jobs API against nginx and SQLite)
#   bench/run.sh runs ...   bench/runs.py (run-now to exec, trivial runs/s)
set -eu
cd "$(dirname "$0")/.."
case "${1:-all}" in
  api) shift; exec /usr/bin/python3 bench/run.py "$@" ;;
  runs) shift; exec /usr/bin/python3 bench/runs.py "$@" ;;
  *) /usr/bin/python3 bench/run.py; exec /usr/bin/python3 bench/runs.py ;;
esac
