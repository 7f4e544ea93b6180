#!/usr/bin/env bash
# The scale benchmark: a generated practice (`trellis loadgen`), then the
# caseload and a couple's page for a therapist with 40 couples and for one
# with 3, measured with wrk in the same run against the same server.
#
#   bash benches/scale/run.sh sqlite   COUPLES WEEKS
#   bash benches/scale/run.sh postgres COUPLES WEEKS   # TRELLIS_DATABASE_URL: an empty database
#
# SCALE_DATA=DIR keeps the generated practice in DIR; when DIR already holds
# one (a previous run's), generation is skipped and the same data measured
# again (with the same TRELLIS_DATABASE_URL on PostgreSQL).
# Prints one markdown row per page and caseload, and the 40:3 ratios.
# Needs wrk (Debian: apt-get install wrk), curl and python3.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ENGINE="${1:?sqlite or postgres}"
COUPLES="${2:?number of couples}"
WEEKS="${3:?weeks of history}"
SECONDS_EACH="${SCALE_SECONDS:-10}"
CONNECTIONS="${SCALE_CONNECTIONS:-1}"
PORT="${SCALE_PORT:-18480}"
PASSWORD="scale benchmark password 2026"
DATA="${SCALE_DATA:-$(mktemp -d /tmp/trellis-scale.XXXXXX)}"
mkdir -p "$DATA"
case "$ENGINE" in
  sqlite) unset TRELLIS_DATABASE_URL ;;
  postgres) : "${TRELLIS_DATABASE_URL:?set TRELLIS_DATABASE_URL to an empty PostgreSQL database}" ;;
  *) echo "engine: sqlite or postgres" >&2; exit 2 ;;
esac

source "$ROOT/benches/common.sh"
trellis_build

if [ -f "$DATA/generation-seconds" ]; then
  echo "measuring the practice already generated in $DATA" >&2
else
  echo "generating $COUPLES couples x $WEEKS weeks on $ENGINE in $DATA" >&2
  GEN_START=$(date +%s.%N)
  TRELLIS_LOG=warn "$BIN" loadgen --couples "$COUPLES" --weeks "$WEEKS" --password "$PASSWORD" --data-dir "$DATA" >&2
  python3 -c "print(f'{$(date +%s.%N) - $GEN_START:.0f}')" > "$DATA/generation-seconds"
fi
GEN_SECONDS=$(cat "$DATA/generation-seconds")

trap 'kill ${SERVER:-} 2>/dev/null || true' EXIT
trellis_serve "$DATA" "$PORT"

# A signed-in browser session for EMAIL: prints the Cookie header value.
session_cookie() {
  local jar="$DATA/jar-$1"
  local csrf
  csrf=$(curl -fs -c "$jar" "$BASE/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fs -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf=$csrf" \
    --data-urlencode "email=$1" --data-urlencode "password=$PASSWORD" "$BASE/login"
  awk '!/^#/ || /^#HttpOnly_/ { if (NF >= 7) printf "%s=%s; ", $6, $7 }' "$jar"
}

# The first couple of EMAIL's caseload (the one most in need).
first_couple() {
  local token
  token=$(api_token "$1" "$PASSWORD")
  curl -fs -H "authorization: Bearer $token" "$BASE/api/v1/caseload" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["couples"][0]["id"])'
}

measure() { # COOKIE PATH -> "p50 p95 requests errors"
  wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" -H "Cookie: $1" \
    -s "$ROOT/benches/scale/percentiles.lua" "$BASE$2" |
    sed -n 's/^requests=\([0-9]*\) errors=\([0-9]*\) p50_ms=\([0-9.]*\) p95_ms=\([0-9.]*\).*/\3 \4 \1 \2/p'
}

declare -A RESULT
for who in full small; do
  if [ "$who" = full ]; then email=loadgen-therapist-1@example.com; else email=loadgen-therapist-small@example.com; fi
  cookie=$(session_cookie "$email")
  couple=$(first_couple "$email")
  # warm up once, then measure
  curl -fs -o /dev/null -H "Cookie: $cookie" "$BASE/caseload"
  RESULT[$who-caseload]=$(measure "$cookie" /caseload)
  RESULT[$who-couple]=$(measure "$cookie" "/caseload/couples/$couple")
done

echo
echo "| engine | couples x weeks | generation | page | 40 couples p50 / p95 | 3 couples p50 / p95 | p95 ratio 40:3 | requests (errors) |"
echo "|---|---|---|---|---|---|---|---|"
for page in caseload couple; do
  read -r f50 f95 freq ferr <<< "${RESULT[full-$page]}"
  read -r s50 s95 sreq serr <<< "${RESULT[small-$page]}"
  ratio=$(python3 -c "print(f'{$f95 / $s95:.2f}')")
  echo "| $ENGINE | $COUPLES x $WEEKS | ${GEN_SECONDS} s | $page | $f50 / $f95 ms | $s50 / $s95 ms | ${ratio}x | $freq ($ferr), $sreq ($serr) |"
done
