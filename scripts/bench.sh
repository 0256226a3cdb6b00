#!/usr/bin/env bash
# Benchmarks: Qiao's relay against a stock automerge-repo sync server (bench/peer), same machine,
# same Rust client workload, one table with both figures, their ratio, the goals and whether
# Qiao meets them.
#
#   bash scripts/bench.sh            # full: (b) with 10,000 sockets; about 4 minutes plus builds
#   bash scripts/bench.sh --quick    # (b) scaled down to 1,000 sockets; about 2 minutes
#
# Any further arguments go to qiao-bench (`target/release/qiao-bench --help`), e.g.
# `--only a,c`, `--sockets 5000`, or `--relay-frames-per-sec 0` to keep the relay's default
# per-connection frame budget. Builds qiao-server and qiao-bench in release, installs the peer's
# npm packages (npm ci), raises the open-files limit for the 10,000-socket run, and runs the
# bench, which starts and stops both servers itself on 127.0.0.1 (one at a time) and ends on
# its own: every workload is bounded, the whole run has a time budget, and the servers are
# killed when it ends. The table goes to stdout; progress to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\n== %s\n' "$*" >&2; }
t0=$SECONDS

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required" >&2; exit 1; }
done

log "building qiao-server and qiao-bench (release)"
cargo build --release -p qiao-server -p qiao-bench

log "installing the peer's npm packages (bench/peer, npm ci)"
(cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)

# One descriptor per socket in the bench and in the server under test: 10,000 sockets need more
# than the usual soft limit of 1,024. Raise the soft limit as far as the hard limit allows; the
# bench scales workload (b) down and says why if that is still not enough.
hard=$(ulimit -Hn)
if [ "$hard" = "unlimited" ]; then ulimit -n 65536 || true; else ulimit -n "$hard" || true; fi
echo "open-files limit: $(ulimit -n) (hard $hard)" >&2

log "running the bench ($(( SECONDS - t0 )) s of setup so far)"
status=0
timeout -k 30 1800 target/release/qiao-bench \
  --relay-bin target/release/qiao-server \
  --node "$(command -v node)" \
  --peer-script bench/peer/server.mjs \
  "$@" || status=$?
echo "bench.sh: done in $(( SECONDS - t0 )) s (exit $status)" >&2
exit "$status"
