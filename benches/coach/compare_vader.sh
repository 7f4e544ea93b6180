#!/usr/bin/env bash
# Compare the Trellis coach with VADER on the coach's in-repo test split:
# throughput (messages/s, single thread) and harsh-message F1.
#
#   bash benches/coach/compare_vader.sh [FILE.jsonl]
#
# VADER is installed into a venv under /tmp; VADER "harsh" = compound < -0.05.
# The Rust side runs crates/coach/examples/throughput.rs in release mode.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="${1:-$ROOT/crates/coach/data/test.jsonl}"
VENV="${VADER_VENV:-/tmp/trellis-vader-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -f "$DATA" ]; then
  echo "labelled messages not found: $DATA" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import vaderSentiment' 2>/dev/null ||
  "$VENV/bin/pip" install --quiet vaderSentiment

VADER_OUT="$("$VENV/bin/python" - "$DATA" <<'PY'
import json, sys, time
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
texts = [r["text"] for r in rows]
harsh_labels = {"criticism", "contempt", "defensiveness", "stonewalling"}
gold = [bool(harsh_labels & set(r.get("labels", []))) for r in rows]
sia = SentimentIntensityAnalyzer()
for t in texts:  # warm up
    sia.polarity_scores(t)
n, start = 0, time.perf_counter()
while True:
    for t in texts:
        sia.polarity_scores(t)
    n += len(texts)
    el = time.perf_counter() - start
    if el >= 1.0:
        break
pred = [sia.polarity_scores(t)["compound"] < -0.05 for t in texts]
tp = sum(g and p for g, p in zip(gold, pred))
p = tp / max(1, sum(pred)); r = tp / max(1, sum(gold))
f1 = 0.0 if p + r == 0 else 2 * p * r / (p + r)
print(f"vader_msgs_per_sec={n/el:.0f}")
print(f"vader_harsh_precision={p:.3f} vader_harsh_recall={r:.3f} vader_harsh_f1={f1:.3f}")
PY
)"

(cd "$ROOT" && cargo build --release --quiet -p trellis-coach --example throughput)
RUST_OUT="$("$CARGO_TARGET_DIR/release/examples/throughput" "$DATA" 2)"

echo "$VADER_OUT"
echo "$RUST_OUT"
vader=$(echo "$VADER_OUT" | sed -n 's/^vader_msgs_per_sec=\([0-9.]*\).*/\1/p')
rust=$(echo "$RUST_OUT" | sed -n 's/^rust_msgs_per_sec=\([0-9.]*\).*/\1/p')
rust_labels=$(echo "$RUST_OUT" | sed -n 's/^rust_labels_msgs_per_sec=\([0-9.]*\).*/\1/p')
python3 -c "print(f'ratio analyze/vader = {$rust/$vader:.1f}x   ratio labels/vader = {$rust_labels/$vader:.1f}x')"
