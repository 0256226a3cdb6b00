#!/usr/bin/env bash
#! Every test Qiao has, from a fresh machine: installs what is missing, builds the relay and the
#! app, then runs the Rust tests (nextest), the automerge-repo interop test and the browser tests.
#! The last line is the total: `N passed, N failed`. Exit status 0 only if everything passed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

step "setup"
tools="$(bash scripts/setup.sh --browser | tail -n 1)" || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
export PATH="$tools:$PATH"

step "format check"
fmt_failed=0
if ! unformatted="$(cargo fmt --all -- --check -l 2>&1)"; then
  echo "cargo fmt --check: files need formatting (run cargo fmt):"
  echo "$unformatted" | sed 's/^/  /'
  fmt_failed=1
fi

step "build relay, benchmarks and app"
# The benchmarks run by hand, not here; building them keeps them in step with the model (a new
# block kind once broke them unseen).
cargo build -p qiao-server -p qiao-bench || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/build-app.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=$fmt_failed
count() { # parse "N passed, N failed" from the last line of a suite's output
  local line; line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)"
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + $(echo "$line" | awk '{print $1}')))
  failed=$((failed + $(echo "$line" | awk '{print $3}')))
}
log=$(mktemp -d)

step "locales"
if node -e '
  const fs = require("fs");
  const load = suffix => Object.assign({}, ...fs.readdirSync("app/locales").filter(f => f.endsWith(suffix)).map(f => require("./app/locales/" + f)));
  const zh = load("zh-CN.json"), en = load("en.json");
  const missing = [...Object.keys(zh).filter(k => !(k in en)).map(k => "en lacks " + k), ...Object.keys(en).filter(k => !(k in zh)).map(k => "zh-CN lacks " + k)];
  if (missing.length) { console.error(missing.join("\n")); process.exit(1); }
  console.log(Object.keys(zh).length + " keys in both languages");'; then
  passed=$((passed + 1)); else failed=$((failed + 1)); fi

step "automerge-repo interop (stock JS client through the relay)"
(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error >/dev/null) && \
  QIAO_BIN="$root/target/debug/qiao-server" node tests/interop/run.mjs 2>&1 | tee "$log/interop"
count "$log/interop"

step "browser tests (Chromium)"
QIAO_BIN="$root/target/debug/qiao-server" node tests/e2e/run.mjs 2>&1 | tee "$log/e2e"
count "$log/e2e"

step "Rust tests (cargo nextest)"
cargo nextest run --no-fail-fast 2>&1 | tee "$log/nextest"
line="$(grep -E 'Summary \[' "$log/nextest" | tail -n 1)"
if [ -n "$line" ]; then
  passed=$((passed + $(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
  f=$(echo "$line" | grep -oE '[0-9]+ failed' | awk '{print $1}'); failed=$((failed + ${f:-0}))
else
  failed=$((failed + 1))
fi

step "fuzzing (cargo-fuzz, libFuzzer on stable with -s none)"
# Every decoder the relay exposes to clients, and the markdown sanitiser: QIAO_FUZZ_SECS seconds
# each (120; 600 with QIAO_LONG), 0 crashes. A crash leaves its input in fuzz/artifacts/<target>/:
# turn it into a regression test in fuzz/src/lib.rs or next to the code it broke.
fuzz_secs="${QIAO_FUZZ_SECS:-$([ -n "${QIAO_LONG:-}" ] && echo 600 || echo 120)}"
for target in fuzz/fuzz_targets/*.rs; do
  target="$(basename "$target" .rs)"
  mkdir -p "fuzz/corpus/$target"
  if (cd fuzz && cargo fuzz run -s none -O "$target" -- -max_total_time="$fuzz_secs" -rss_limit_mb=2048) \
      >"$log/fuzz-$target" 2>&1; then
    echo "$target: $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log/fuzz-$target" | tail -n 1)s, 0 crashes"
    passed=$((passed + 1))
  else
    tail -n 30 "$log/fuzz-$target"; echo "$target: FAILED (input in fuzz/artifacts/$target/)"
    failed=$((failed + 1))
  fi
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
