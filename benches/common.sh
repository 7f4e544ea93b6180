# Shared by the benchmark scripts: source it after setting ROOT.
#   trellis_build            builds the release binary, sets BIN
#   trellis_serve DIR PORT   serves DIR on PORT in the background, sets SERVER
#                            and BASE, waits until /healthz answers (extra
#                            environment passes through, e.g. TRELLIS_*)
#   api_token EMAIL PASSWORD prints a bearer token
trellis_build() {
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
  BIN="$CARGO_TARGET_DIR/release/trellis"
  (cd "$ROOT" && cargo build --release --quiet -p trellis)
}

trellis_serve() { # DIR PORT [COMMAND ARGS…] (default: serve)
  local dir="$1" port="$2"
  shift 2
  TRELLIS_LOG=warn "$BIN" "${@:-serve}" --data-dir "$dir" --bind "127.0.0.1:$port" > "$dir/serve.log" 2>&1 &
  SERVER=$!
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 240); do
    curl -fs "$BASE/healthz" > /dev/null && return 0
    sleep 0.5
  done
  echo "the server did not start; see $dir/serve.log" >&2
  return 1
}

api_token() { # EMAIL PASSWORD
  curl -fs -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" "$BASE/api/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
