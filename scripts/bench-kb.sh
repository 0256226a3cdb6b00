#!/usr/bin/env bash
# The knowledge-base benchmark (issue 5: "typing latency in a 50-page document; load time of a
# page with 10,000 edits of history; merge time of two replicas that diverged by 1,000 edits
# each"): the page model's own work, natively in release, beside a peer without a CRDT measured
# in the same run (the page as plain blocks and HTML; as JSON; as Markdown merged with diff3).
# One Markdown table on stdout; progress on stderr.
#
#   bash scripts/bench-kb.sh             # about 20 seconds after the build
#   bash scripts/bench-kb.sh --browser   # keystroke → painted in the app (about 2 minutes after the builds)
#
# Further arguments go to `qiao-bench kb`: --keystrokes 60, --page-chars 100000, --history 10000,
# --via-write-edit 10000 (of the history's edits, how many go through write_edit as in the app,
# timed; the rest as operations at the caret), --diverge 1000, --reps 20, --seed 2026. Not part
# of CI: run it by hand. KB_TRACE=1 logs every slow write_edit edit, or one writing more than
# four operations (KB_TRACE=ops: with its operations).
#
# Builds qiao-bench in release and runs it: no server, no browser, no network; it runs in one
# process with a time budget and leaves nothing behind. --browser measures the browser half
# instead (see below).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
t0=$SECONDS

command -v cargo >/dev/null || { echo "bench-kb.sh: cargo is required" >&2; exit 1; }

if [ "${1:-}" = "--browser" ]; then
  # The browser half: keydown → painted in the app's editor on a 50-page page, beside a plain
  # contenteditable with the same content in the same page and run (bench/kb/run.mjs). Builds
  # qiao-server in release and the app with `scripts/build-app.sh --release` into
  # target/bench-kb/dist (dist/ is left alone for the browser tests); starts its own relay on a
  # free 127.0.0.1 port with a temporary data dir and stops everything itself. Further
  # arguments go to run.mjs: --keys 60, --chars 100000.
  shift
  for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "bench-kb.sh: $tool is required" >&2; exit 1; }
  done
  CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$CHROMIUM_PATH" ] || { echo "bench-kb.sh: no Chromium at $CHROMIUM_PATH (scripts/setup.sh --browser)" >&2; exit 1; }
  printf '\n== building qiao-server (release)\n' >&2
  cargo build --release -p qiao-server
  dist="$ROOT/target/bench-kb/dist"
  printf '\n== building the app (release) into %s\n' "${dist#"$ROOT"/}" >&2
  bash scripts/build-app.sh --release --dist "$dist" >&2
  wasm=$(find "$dist" -maxdepth 1 -name '*_bg.wasm' | head -n 1)
  [ -n "$wasm" ] || { echo "bench-kb.sh: no .wasm in $dist" >&2; exit 1; }
  build="trunk --release, $(( $(stat -c %s "$wasm") / 1024 )) KiB of wasm"
  if [ ! -d tests/e2e/node_modules/playwright-core ]; then
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
  status=0
  CHROMIUM_PATH="$CHROMIUM_PATH" timeout -k 30 900 node bench/kb/run.mjs \
    --server-bin target/release/qiao-server --dist "$dist" --build "$build" "$@" || status=$?
  echo "bench-kb.sh --browser: done in $(( SECONDS - t0 )) s (exit $status)" >&2
  exit "$status"
fi

printf '\n== building qiao-bench (release)\n' >&2
cargo build --release -p qiao-bench

load=$(cut -d' ' -f1-3 /proc/loadavg)
printf '# Knowledge base — %s, %s cores, load average at start %s\n\n' \
  "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$load"
status=0
target/release/qiao-bench --budget-secs 900 kb "$@" || status=$?
echo "bench-kb.sh: done in $(( SECONDS - t0 )) s (exit $status)" >&2
exit "$status"
