#!/usr/bin/env bash
# The chat benchmarks of issue 4, each beside a peer measured in the same run:
#
# 1. search over 100,000 local messages, mixed Chinese and English (`qiao-bench chat-search`):
#    the app's search index built from segment documents, p50/p95/max query time, against a
#    lowercased linear scan of the same messages; no server, about 30 s;
# 2. relay fan-out to a 10,000-member channel with 1,000 members online, each its own session and
#    websocket (`qiao-bench chat-fan-out`): p50/p99/p99.9 delivery latency, relay RSS and CPU,
#    against the stock automerge-repo sync server (bench/peer) with 1,000 sockets on one
#    document; about 5 minutes.
#
#   bash scripts/bench-chat.sh                 # both
#   bash scripts/bench-chat.sh search          # only 1
#   bash scripts/bench-chat.sh fan-out         # only 2
#   bash scripts/bench-chat.sh fan-out --online 500 --senders 10
#
# Arguments after the first go to that subcommand (`target/release/qiao-bench chat-search
# --help`, `... chat-fan-out --help`). Builds qiao-server and qiao-bench in release, installs the
# peer's npm packages (npm ci) for the fan-out, raises the open-files limit, and runs the benches;
# the fan-out starts and stops both servers itself on 127.0.0.1, one at a time, and ends on its
# own (bounded sockets, a time budget; servers are killed when it ends). Tables go to stdout,
# progress to stderr. Not part of CI: run it by hand.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
t0=$SECONDS

which="${1:-all}"
[ $# -gt 0 ] && shift
case "$which" in
  all | search | fan-out) ;;
  *) echo "bench-chat.sh: first argument is all, search or fan-out (got '$which')" >&2; exit 2 ;;
esac
if [ "$which" = all ] && [ $# -gt 0 ]; then
  echo "bench-chat.sh: extra arguments need 'search' or 'fan-out' first" >&2
  exit 2
fi

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "bench-chat.sh: $tool is required" >&2; exit 1; }
done

printf '\n== building qiao-server and qiao-bench (release)\n' >&2
cargo build --release -p qiao-server -p qiao-bench

status=0
if [ "$which" != fan-out ]; then
  printf '# Chat search — %s, %s cores, load average at start %s\n\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  target/release/qiao-bench --budget-secs 600 chat-search "$@" || status=$?
fi
if [ "$which" != search ]; then
  printf '\n== installing the peer'"'"'s npm packages (bench/peer, npm ci)\n' >&2
  (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
  # One descriptor per socket in the bench and in the server under test.
  hard=$(ulimit -Hn)
  if [ "$hard" = "unlimited" ]; then ulimit -n 65536 || true; else ulimit -n "$hard" || true; fi
  echo "open-files limit: $(ulimit -n) (hard $hard)" >&2
  timeout -k 30 1500 target/release/qiao-bench \
    --relay-bin target/release/qiao-server \
    --node "$(command -v node)" \
    --peer-script bench/peer/server.mjs \
    --budget-secs 1400 \
    chat-fan-out "$@" || status=$?
fi
echo "bench-chat.sh: done in $(( SECONDS - t0 )) s (exit $status)" >&2
exit "$status"
