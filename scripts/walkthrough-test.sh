#!/usr/bin/env bash
# The README's front door, tested as a user runs it: start `make run` (scripts/run-local.sh),
# then send the seed's three curl commands and check what the README promises.
set -uo pipefail
cd "$(dirname "$0")/.."
port=9000
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then port=$((20000 + RANDOM % 20000)); fi
state=$(mktemp -d /tmp/idem-walkthrough.XXXXXX)
log="$state/run.log"
PORT=$port STATE_DIR="$state/state" scripts/run-local.sh >"$log" 2>&1 &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 1 600); do
  curl -s -o /dev/null "http://localhost:$port/payments" && break
  kill -0 $runner 2>/dev/null || break
  sleep 0.5
done

passed=0 failed=0
check() { # name, condition result (0 = ok)
  if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); echo "ok   - $1"; else failed=$((failed + 1)); echo "FAIL - $1"; fi
}

first=$(curl -X POST http://localhost:$port/payments \
  -H "Content-Type: application/json" \
  -H "Idempotency-Key: payment-abc-123" \
  -d '{"amount": 100, "currency": "USD"}' \
  -i -s)
second=$(curl -X POST http://localhost:$port/payments \
  -H "Content-Type: application/json" \
  -H "Idempotency-Key: payment-abc-123" \
  -d '{"amount": 100, "currency": "USD"}' \
  -i -s)
third=$(curl -X POST http://localhost:$port/payments \
  -H "Content-Type: application/json" \
  -d '{"amount": 100, "currency": "USD"}' -s)

body() { printf '%s' "$1" | tr -d '\r' | sed '1,/^$/d'; }
grep -q "^HTTP/1.1 201" <<<"$first"; check "first keyed POST answers 201 Created" $?
! grep -qi "^X-Idempotent-Replay" <<<"$first"; check "first keyed POST is not a replay" $?
grep -q "^HTTP/1.1 201" <<<"$second"; check "retry answers the same status" $?
grep -qi "^X-Idempotent-Replay: true" <<<"$second"; check "retry carries X-Idempotent-Replay: true" $?
[[ "$(body "$first")" == "$(body "$second")" && -n "$(body "$first")" ]]; check "retry body is byte-identical" $?
grep -q '"amount":100' <<<"$third"; check "unkeyed POST creates a payment" $?
count=$(curl -s http://localhost:$port/payments | grep -o '"count":[0-9]*' | cut -d: -f2)
[[ "$count" == 2 ]]; check "GET /payments counts 2 payments (got ${count:-none})" $?

if ((failed > 0)); then echo "--- make run output ---"; cat "$log"; fi
echo "walkthrough: $passed passed, $failed failed"
((failed == 0))
