#!/usr/bin/env bash
#! Build the browser app into dist/ with trunk. `--release` for an optimised build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/versions.sh"
QIAO_TOOLS="${QIAO_TOOLS:-$HOME/.cache/qiao-tools}"
export PATH="$QIAO_TOOLS/bin:$PATH"
bash "$root/scripts/check-versions.sh"
# From app/, so that cargo and rustup see app/.cargo/config.toml and app/rust-toolchain.toml.
cd "$root/app"
# One build at a time: trunk stages into dist/ and two at once fail on each other's files.
mkdir -p "$root/target"
exec 9>"$root/target/.build-app.lock"
flock 9
trunk build --offline --config "$root/Trunk.toml" "$@"
echo "built $(du -sh "$root/dist" | cut -f1) into dist/" >&2
