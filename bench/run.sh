#!/usr/bin/env bash
# `make bench`: release build, the C baselines, then bench/bench.py (nginx + the C limit +
# idem on loopback, every scenario through wrk, interleaved and repeated; then the store
# microbenchmark). Results: bench/results/<timestamp>/results.md and chart.png.
#
# Knobs (environment): ROUNDS (3), DURATION seconds per run (5), THREADS (2) and
# CONNECTIONS (32) for wrk, WORKERS (16) per responder, KEEPALIVE (4) kept FastCGI connections
# per upstream, NGINX_WORKERS (1), ONLY (comma-separated scenarios), BIG_KEYS (1000000 records
# in the large store). About 5 minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

missing=()
for tool in wrk nginx cc python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[[ -f /usr/include/fcgiapp.h ]] || missing+=(libfcgi-dev)
[[ -f /usr/include/lmdb.h ]] || missing+=(liblmdb-dev)
if ((${#missing[@]})); then
  pkgs=()
  for m in "${missing[@]}"; do
    case $m in cc) pkgs+=(gcc) ;; python3) pkgs+=(python3 python3-venv) ;; *) pkgs+=("$m") ;; esac
  done
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "bench: installing ${pkgs[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2
  else
    echo "bench: missing ${missing[*]}; run: sudo apt-get install ${pkgs[*]}" >&2
    exit 1
  fi
fi

echo "bench: release build" >&2
swift build -c release --product idem >&2
swift build -c release --product idem-store-probe >&2
bin=$(swift build -c release --show-bin-path)

out=$root/.build/bench
mkdir -p "$out"
cc -O2 -Wall -o "$out/limit" bench/limit.c -lfcgi -lpthread
cc -O2 -Wall -o "$out/lmdb_raw" bench/lmdb_raw.c -llmdb
# matplotlib for the chart, in a private venv (bench/.venv, git-ignored).
py=bench/.venv/bin/python
if ! "$py" -c 'import matplotlib' 2>/dev/null; then
  echo "bench: installing matplotlib into bench/.venv" >&2
  python3 -m venv bench/.venv >&2
  "$py" -m pip install -q matplotlib >&2 || echo "bench: matplotlib could not be installed; no chart" >&2
fi
[[ -x $py ]] || py=python3

exec "$py" bench/bench.py --idem "$bin/idem" --probe "$bin/idem-store-probe" --limit "$out/limit" \
  --lmdb-raw "$out/lmdb_raw" "$@"
