#!/usr/bin/env bash
#! Fail loudly when a pinned tool version and its users disagree.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/versions.sh"
lock=$(awk '/^name = "wasm-bindgen"$/{getline; print $3}' "$root/Cargo.lock" | tr -d '"')
if [ -n "$lock" ] && [ "$lock" != "$WASM_BINDGEN_VERSION" ]; then
  echo "Cargo.lock has wasm-bindgen $lock but scripts/versions.sh pins $WASM_BINDGEN_VERSION" >&2; exit 1
fi
if ! grep -q "wasm_bindgen = \"$WASM_BINDGEN_VERSION\"" "$root/Trunk.toml"; then
  echo "Trunk.toml [tools] wasm_bindgen differs from scripts/versions.sh ($WASM_BINDGEN_VERSION)" >&2; exit 1
fi
