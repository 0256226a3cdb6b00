#!/usr/bin/env bash
# The chat-open benchmark (issue 4: "open a channel with 10,000 messages from IndexedDB: time
# until the latest 50 are rendered"): a channel of 10,000 messages and a fresh one of 50, written
# through the relay by four people, opened in the browser cold (from the relay), warm (from
# IndexedDB, online and with the websocket refused), after a reload and in memory; timed inside
# the page until the newest 50 messages are painted, beside a peer measured in the same page and
# run (the same 50 messages read from an IndexedDB store of plain objects and built as raw DOM).
# One table on stdout; progress on stderr.
#
#   bash scripts/bench-chat-open.sh              # about 6 minutes after the builds
#   bash scripts/bench-chat-open.sh --profile    # also a CPU profile of an offline open,
#                                                # summarised under the table
#
# Further arguments go to bench/chat-open/run.mjs: --reps 5, --messages 10000, --fresh 50,
# --profile, --keep. Not part of CI: run it by hand.
#
# Builds qiao-server and qiao-bench in release, and the app with `scripts/build-app.sh
# --release` into target/bench-chat-open/dist (dist/ is left alone for the browser tests); uses
# Debian's /usr/bin/chromium through tests/e2e's playwright-core (installed with `npm ci` there
# only when it is missing). The run starts its own relay on a free 127.0.0.1 port with a
# temporary data dir, seeds it (`qiao-bench chat-open seed`), measures, and stops everything
# itself: the run has a time budget, and the relay, the browser and any child are killed when it
# ends, however it ends.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\n== %s\n' "$*" >&2; }
t0=$SECONDS

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "bench-chat-open.sh: $tool is required" >&2; exit 1; }
done
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM_PATH" ] || { echo "bench-chat-open.sh: no Chromium at $CHROMIUM_PATH (scripts/setup.sh --browser)" >&2; exit 1; }

log "building qiao-server and qiao-bench (release)"
cargo build --release -p qiao-server -p qiao-bench

dist="$ROOT/target/bench-chat-open/dist"
log "building the app (release) into ${dist#"$ROOT"/}"
# Its progress goes to stderr: stdout is the table's.
bash scripts/build-app.sh --release --dist "$dist" >&2
wasm=$(find "$dist" -maxdepth 1 -name '*_bg.wasm' | head -n 1)
[ -n "$wasm" ] || { echo "bench-chat-open.sh: no .wasm in $dist" >&2; exit 1; }
# app/index.html says whether trunk runs wasm-opt (data-wasm-opt="0": it does not).
wasm_opt=$(grep -o 'data-wasm-opt="[^"]*"' app/index.html | head -n 1 | cut -d'"' -f2 || true)
case "$wasm_opt" in
  0) wasm_opt="no wasm-opt" ;;
  "") wasm_opt="trunk's default wasm-opt" ;;
  *) wasm_opt="wasm-opt -O$wasm_opt" ;;
esac
build="trunk --release (cargo release profile, $wasm_opt), $(( $(stat -c %s "$wasm") / 1024 )) KiB of wasm"

if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  log "installing playwright-core for tests/e2e (npm ci)"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

log "running the chat-open bench ($(( SECONDS - t0 )) s of setup so far)"
status=0
CHROMIUM_PATH="$CHROMIUM_PATH" timeout -k 30 1500 node bench/chat-open/run.mjs \
  --server-bin target/release/qiao-server \
  --bench-bin target/release/qiao-bench \
  --dist "$dist" \
  --build "$build" \
  "$@" || status=$?
echo "bench-chat-open.sh: done in $(( SECONDS - t0 )) s (exit $status)" >&2
exit "$status"
