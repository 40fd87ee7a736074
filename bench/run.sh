#!/bin/sh
# bench/run.sh - `make bench`: the API benchmarks (bench/README.md).
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/run.py "$@"
