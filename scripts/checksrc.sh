#!/bin/sh
# checksrc.sh - refuses calls that are unsafe or not thread-safe in the C
# sources (git's banned.h, curl's checksrc), and copied third-party code.
# Run by `make test`; prints the offending lines and exits 1.
set -u
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.[ch]' 'cli/*.[ch]' 'tests/unit/*.[ch]' 'fuzz/*.c' 2>/dev/null)
[ -n "$files" ] || files=$(find src cli tests/unit fuzz -name '*.[ch]')
status=0
# shellcheck disable=SC2086
hits=$(grep -nHE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|asctime|ctime|localtime|gmtime|tmpnam|strncpy|rand|srand)\s*\(|setenv\s*\(\s*"TZ"' $files || true)
if [ -n "$hits" ]; then
  echo "checksrc: banned calls (use snprintf, strtok_r, gmtime_r, rand_bytes, memcpy):"
  echo "$hits"
  status=1
fi
# shellcheck disable=SC2086
# (The pattern is split so that this script does not match itself.)
spdx="SPDX-""License-Identifier"
foreign=$(grep -lE "Copyright \\(c\\)|$spdx" $files || true)
if [ -n "$foreign" ]; then
  echo "checksrc: foreign copyright headers (no third-party source in the tree):"
  echo "$foreign"
  status=1
fi
[ $status -eq 0 ] && echo "checksrc: $(echo "$files" | wc -w) files clean"
exit $status
