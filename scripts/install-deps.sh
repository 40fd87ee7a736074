#!/bin/sh
# install-deps.sh - install the Debian packages jobsd needs, and nothing else.
#
#   scripts/install-deps.sh           what `make` and `make run` need
#   scripts/install-deps.sh --test    plus what `make test` needs
#   scripts/install-deps.sh --bench   plus what `make bench` needs
#
# Idempotent: when every package is already installed it only asks dpkg and
# returns. Uses sudo when not run as root. Debian 12 (bookworm) is the target.
set -eu

BUILD_PKGS="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev
  libssl-dev libcurl4-openssl-dev tzdata ca-certificates python3"
TEST_PKGS="libcmocka-dev python3 python3-pytest python3-requests openssl sqlite3 clang
  libclang-rt-14-dev llvm-14 strace procps git python3-nbclient python3-nbformat
  python3-ipykernel openjdk-17-jdk-headless libquartz2-java"
BENCH_PKGS="wrk nginx-light"

pkgs=$BUILD_PKGS
for arg in "$@"; do
  case "$arg" in
    --test) pkgs="$pkgs $TEST_PKGS" ;;
    --bench) pkgs="$pkgs $TEST_PKGS $BENCH_PKGS" ;;
    *) echo "install-deps: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

# Node.js and npm run the SDK compatibility test; only install Debian's when the
# machine has no node at all (a newer one may already be there).
case " $* " in
  *" --test "*|*" --bench "*) command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
      || pkgs="$pkgs nodejs npm" ;;
esac

missing=""
for p in $pkgs; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-deps: need root or sudo to install:$missing" >&2
  exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts nginx when it installs it; the benchmark starts its own.
if echo "$missing" | grep -q nginx; then
  $SUDO service nginx stop >/dev/null 2>&1 || true
fi
