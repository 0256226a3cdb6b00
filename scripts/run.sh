#!/usr/bin/env bash
#! Install what is missing, build the relay and the app (release), and run Qiao on
#! http://127.0.0.1:8080 with everything (SQLite database, files) under ./data.
#! First start prints the super admin's password once. Set QIAO_ADDR / QIAO_DATA_DIR to change.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tools="$(bash scripts/setup.sh | tail -n 1)"
export PATH="$tools:$PATH"
cargo build --release -p qiao-server
bash scripts/build-app.sh --release
exec target/release/qiao-server serve \
  --addr "${QIAO_ADDR:-127.0.0.1:8080}" --data-dir "${QIAO_DATA_DIR:-$root/data}" --dist-dir "$root/dist"
