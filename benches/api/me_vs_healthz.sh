#!/usr/bin/env bash
# GET /api/v1/me (a signed-in API call: the bearer token is looked up, the
# person loaded) against the bare GET /healthz of the same server, under
# the same wrk load, in the same run; prints both rates and their ratio.
#
#   bash benches/api/me_vs_healthz.sh            # wrk -t2 -c32, 10 s each
#   ME_SECONDS=20 ME_CONNECTIONS=64 bash benches/api/me_vs_healthz.sh
#
# Runs the demo practice on an embedded SQLite file in a temporary folder.
# Needs wrk (Debian: apt-get install wrk), curl and python3.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_EACH="${ME_SECONDS:-10}"
CONNECTIONS="${ME_CONNECTIONS:-32}"
PORT="${ME_PORT:-18490}"
PASSWORD="me benchmark password 2026"
DATA="$(mktemp -d /tmp/trellis-me.XXXXXX)"
source "$ROOT/benches/common.sh"
trellis_build
trap 'kill ${SERVER:-} 2>/dev/null || true; rm -rf "$DATA"' EXIT
trellis_serve "$DATA" "$PORT" demo --password "$PASSWORD"
TOKEN=$(api_token alex@example.com "$PASSWORD")

rate() { # PATH [HEADER] -> requests per second
  local args=(-t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s")
  if [ -n "${2:-}" ]; then args+=(-H "$2"); fi
  wrk "${args[@]}" "$BASE$1" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
}

HEALTHZ=$(rate /healthz)
ME=$(rate /api/v1/me "Authorization: Bearer $TOKEN")
python3 - "$HEALTHZ" "$ME" "$CONNECTIONS" <<'PY'
import sys
healthz, me, connections = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print(f"| wrk -t2 -c{connections} | /healthz {healthz:,.0f} req/s | /api/v1/me {me:,.0f} req/s | ratio {me / healthz:.2f} |")
PY
