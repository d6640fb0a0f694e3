#!/usr/bin/env bash
# `make run`: install what is missing, build, then serve http://127.0.0.1:9000 with nginx in
# front of the Idem responder. Ctrl-C stops both. State (store, ledger) stays in .run/state.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-9000}
scripts/install-deps.sh
swift build -c release --product idem
bin=$(swift build -c release --show-bin-path)

if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
  echo "idem: 127.0.0.1:$port is already in use; stop what listens there or run: make run PORT=9100" >&2
  exit 1
fi

state="${STATE_DIR:-$PWD/.run/state}"
mkdir -p "$state"
# The socket lives in a short, world-traversable directory: nginx workers run as another user.
runtime=$(mktemp -d /tmp/idem-run.XXXXXX)
chmod 755 "$runtime"
socket="$runtime/idem.sock"
scripts/nginx-conf.sh "$runtime/nginx" "$port" "unix:$socket"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$runtime"
  echo "idem: stopped" >&2
}
trap cleanup INT TERM EXIT

"$bin/idem" --config config --listen "unix:$socket" --socket-mode 0666 --state-dir "$state" &
pids+=($!)
for _ in $(seq 1 100); do [[ -S "$socket" ]] && break; sleep 0.05; done
[[ -S "$socket" ]] || { echo "idem: the responder did not start (see above)" >&2; exit 1; }

nginx -p "$runtime/nginx" -c "$runtime/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.3
echo "idem: serving http://127.0.0.1:$port  (store and ledger in $state; Ctrl-C stops)" >&2
wait -n "${pids[@]}" || true
