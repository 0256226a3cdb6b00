#!/usr/bin/env bash
# The knowledge-base benchmark (issue 5: "typing latency in a 50-page document; load time of a
# page with 10,000 edits of history; merge time of two replicas that diverged by 1,000 edits
# each"): the page model's own work, natively in release, beside a peer without a CRDT measured
# in the same run (the page as plain blocks and HTML; as JSON; as Markdown merged with diff3).
# One Markdown table on stdout; progress on stderr.
#
#   bash scripts/bench-kb.sh      # about 20 seconds after the build
#
# Further arguments go to `qiao-bench kb`: --keystrokes 60, --page-chars 100000, --history 10000,
# --via-write-edit 10000 (of the history's edits, how many go through write_edit as in the app,
# timed; the rest as operations at the caret), --diverge 1000, --reps 20, --seed 2026. Not part
# of CI: run it by hand. KB_TRACE=1 logs every slow write_edit edit, or one writing more than
# four operations (KB_TRACE=ops: with its operations).
#
# Builds qiao-bench in release and runs it: no server, no browser, no network; it runs in one
# process with a time budget and leaves nothing behind. The browser half (keystroke to painted
# character in the app's editor) is not measured yet.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
t0=$SECONDS

command -v cargo >/dev/null || { echo "bench-kb.sh: cargo is required" >&2; exit 1; }

printf '\n== building qiao-bench (release)\n' >&2
cargo build --release -p qiao-bench

load=$(cut -d' ' -f1-3 /proc/loadavg)
printf '# Knowledge base — %s, %s cores, load average at start %s\n\n' \
  "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$load"
status=0
target/release/qiao-bench --budget-secs 900 kb "$@" || status=$?
echo "bench-kb.sh: done in $(( SECONDS - t0 )) s (exit $status)" >&2
exit "$status"
