#!/usr/bin/env bash
# Profiles the release idem under valgrind callgrind behind the bench's nginx (see
# bench/profile.py). Usage: bench/profile.sh [SCENARIO ...]; PROFILE_SECONDS (8) per scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "profile: install valgrind (apt-get install valgrind)" >&2; exit 1; }
swift build -c release --product idem >&2
IDEM_BIN="$(swift build -c release --show-bin-path)/idem" exec python3 bench/profile.py "$@"
