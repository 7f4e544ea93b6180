#!/usr/bin/env bash
# The mixed load: 200 connections at once, as a practice's day looks —
# partners reading /api/v1/me (60), listing their entries (60) and writing
# (20), therapists reading a couple's progress (60) — each kind measured by
# its own wrk process, all running together. The baseline, in the same run
# against the same server and data: each kind alone on one connection.
# Prints a markdown row per kind: alone p50, mixed p50/p95/p99, errors, and
# the mixed p50 as a multiple of the alone p50.
#
#   bash benches/mixed/run.sh                 # SQLite, 200 couples x 12 weeks
#   MIXED_COUPLES=2000 MIXED_WEEKS=26 bash benches/mixed/run.sh
#   TRELLIS_DATABASE_URL=postgres://… bash benches/mixed/run.sh   # an empty database
#
# Needs wrk (Debian: apt-get install wrk), curl and python3.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/benches/mixed"
COUPLES="${MIXED_COUPLES:-200}"
WEEKS="${MIXED_WEEKS:-12}"
SECONDS_EACH="${MIXED_SECONDS:-20}"
PORT="${MIXED_PORT:-18495}"
PASSWORD="mixed benchmark password 2026"
DATA="$(mktemp -d /tmp/trellis-mixed.XXXXXX)"
source "$ROOT/benches/common.sh"
trellis_build

TRELLIS_LOG=warn "$BIN" loadgen --couples "$COUPLES" --weeks "$WEEKS" --password "$PASSWORD" --data-dir "$DATA" >&2
trap 'kill ${SERVER:-} 2>/dev/null || true; rm -rf "$DATA"' EXIT
# many people at once: the connection cap must not be what is measured
TRELLIS_MAX_CONNECTIONS=1024 trellis_serve "$DATA" "$PORT"
token() { api_token "$1" "$PASSWORD"; }

# 40 partners of different couples, and each therapist with their couples
: > "$DATA/partners"
for n in $(seq 1 40); do
  token "loadgen-partner-$n-1@example.com" >> "$DATA/partners"
done
: > "$DATA/therapists"
THERAPISTS=$(( COUPLES / 40 < 5 ? COUPLES / 40 : 5 ))
for t in $(seq 1 "$THERAPISTS"); do
  TOKEN=$(token "loadgen-therapist-$t@example.com")
  curl -fs -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/caseload" |
    python3 -c 'import json,sys; [print(sys.argv[1], c["id"]) for c in json.load(sys.stdin)["couples"]]' "$TOKEN" \
    >> "$DATA/therapists"
done

measure() { # MODE CALLERS CONNECTIONS SECONDS -> one line of figures
  MIXED_MODE="$1" MIXED_CALLERS="$2" wrk -t1 -c"$3" -d"$4s" --timeout 10s \
    -s "$HERE/mixed.lua" "$BASE" | grep '^mode='
}

# alone, one connection each
ALONE="$DATA/alone"
: > "$ALONE"
for kind in "me partners" "list partners" "write partners" "progress therapists"; do
  set -- $kind
  measure "$1" "$DATA/$2" 1 5 >> "$ALONE"
done

# together: 200 connections
MIXED="$DATA/mixed"
measure me "$DATA/partners" 60 "$SECONDS_EACH" > "$MIXED.me" &
measure list "$DATA/partners" 60 "$SECONDS_EACH" > "$MIXED.list" &
measure write "$DATA/partners" 20 "$SECONDS_EACH" > "$MIXED.write" &
measure progress "$DATA/therapists" 60 "$SECONDS_EACH" > "$MIXED.progress" &
wait %2 %3 %4 %5 2>/dev/null || wait
cat "$MIXED".me "$MIXED".list "$MIXED".write "$MIXED".progress > "$MIXED"

ENGINE=$([ -n "${TRELLIS_DATABASE_URL:-}" ] && echo postgresql || echo sqlite)
python3 - "$ALONE" "$MIXED" "$ENGINE" "$COUPLES" "$WEEKS" "$SECONDS_EACH" <<'PY'
import sys
def read(path):
    rows = {}
    for line in open(path):
        fields = dict(part.split("=") for part in line.split())
        rows[fields["mode"]] = fields
    return rows
alone, mixed = read(sys.argv[1]), read(sys.argv[2])
engine, couples, weeks, seconds = sys.argv[3:7]
names = {"me": "GET /api/v1/me", "list": "GET /api/v1/entries?limit=50",
         "write": "POST /api/v1/entries", "progress": "GET /api/v1/couples/{id}/progress"}
conns = {"me": 60, "list": 60, "write": 20, "progress": 60}
print(f"{engine}, {couples} couples x {weeks} weeks, 200 connections for {seconds} s")
print("| request | connections | alone p50 | mixed p50 | mixed p95 | mixed p99 | requests | errors | mixed p50 / alone p50 |")
print("|---|---|---|---|---|---|---|---|---|")
for mode in ["me", "list", "write", "progress"]:
    a, m = alone[mode], mixed[mode]
    ratio = float(m["p50_ms"]) / max(float(a["p50_ms"]), 0.01)
    print(f"| {names[mode]} | {conns[mode]} | {a['p50_ms']} ms | {m['p50_ms']} ms | {m['p95_ms']} ms | "
          f"{m['p99_ms']} ms | {m['requests']} | {m['errors']} | {ratio:.1f}x |")
PY
