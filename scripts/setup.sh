#!/usr/bin/env bash
#! Installs what building and testing Qiao needs, and nothing twice.
#!
#! Picks the WebAssembly route: `rustup target add wasm32-unknown-unknown` where rustup can fetch
#! it, otherwise Debian's `rustc-web` + `rust-web-src` linked as the rustup toolchain
#! `debian-web` and used with `-Zbuild-std` (see ../shared/TOOLCHAIN.md). Tools go into
#! `$QIAO_TOOLS` (default ~/.cache/qiao-tools) and are skipped when the pinned version is there.
#! Every pinned version lives in scripts/versions.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

want_browser=0
for a in "$@"; do
  case "$a" in
    --browser) want_browser=1 ;;
  esac
done

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- the wasm route -------------------------------------------------------------------------
# QIAO_WASM_ROUTE=debian|rustup forces a route (to test the other one on a machine that has both).
wasm_route="${QIAO_WASM_ROUTE:-}"
if [ -n "$wasm_route" ]; then
  :
elif rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  wasm_route=rustup
elif rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
  wasm_route=rustup
else
  wasm_route=debian
fi

if [ $wasm_route = debian ]; then
  apt_install rustc-web cargo-web rust-web-src rust-web-llvm
  if ! rustup toolchain list | grep -q '^debian-web'; then
    log "rustup toolchain link debian-web /usr"
    rustup toolchain link debian-web /usr
  fi
  # app/ builds with the linked toolchain and build-std; the files are written here, not
  # committed, because on the rustup route they must not exist.
  mkdir -p "$root/app/.cargo"
  cat >"$root/app/rust-toolchain.toml" <<'EOF'
# written by scripts/setup.sh (Debian rustc-web route); do not commit
[toolchain]
channel = "debian-web"
EOF
  cat >"$root/app/.cargo/config.toml" <<'EOF'
# written by scripts/setup.sh (Debian rustc-web route); do not commit
[build]
target = "wasm32-unknown-unknown"
[unstable]
build-std = ["std", "panic_abort"]
[env]
RUSTC_BOOTSTRAP = "1"
[target.wasm32-unknown-unknown]
runner = "wasm-bindgen-test-runner"
EOF
else
  rm -f "$root/app/rust-toolchain.toml"
  mkdir -p "$root/app/.cargo"
  cat >"$root/app/.cargo/config.toml" <<'EOF'
# written by scripts/setup.sh (rustup route); do not commit
[build]
target = "wasm32-unknown-unknown"
[target.wasm32-unknown-unknown]
runner = "wasm-bindgen-test-runner"
EOF
fi

# --- tools from crates.io -------------------------------------------------------------------
QIAO_TOOLS="${QIAO_TOOLS:-$HOME/.cache/qiao-tools}"
mkdir -p "$QIAO_TOOLS/bin"
export PATH="$QIAO_TOOLS/bin:$PATH"

if ! "$QIAO_TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # No --locked: its lockfile pins a crate version the registry here lacks (TOOLCHAIN.md).
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$QIAO_TOOLS"
fi
if ! "$QIAO_TOOLS/bin/trunk" --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
  log "cargo install trunk $TRUNK_VERSION"
  cargo install -q trunk --version "$TRUNK_VERSION" --locked --root "$QIAO_TOOLS"
fi
if ! "$QIAO_TOOLS/bin/cargo-nextest" --version >/dev/null 2>&1 && ! command -v cargo-nextest >/dev/null; then
  log "cargo install cargo-nextest"
  cargo install -q cargo-nextest --locked --root "$QIAO_TOOLS"
fi
if ! "$QIAO_TOOLS/bin/cargo-fuzz" --version >/dev/null 2>&1 && ! command -v cargo-fuzz >/dev/null; then
  log "cargo install cargo-fuzz"
  cargo install -q cargo-fuzz --locked --root "$QIAO_TOOLS"
fi

# --- browser tests --------------------------------------------------------------------------
if [ $want_browser = 1 ]; then
  # CJK and emoji fonts: without them Chinese and emoji render as boxes, and screenshots and
  # layout checks lie.
  apt_install chromium fonts-noto-cjk fonts-noto-color-emoji
  if [ ! -d "$root/tests/e2e/node_modules/playwright-core" ] || [ "$root/tests/e2e/package-lock.json" -nt "$root/tests/e2e/node_modules/.package-lock.json" ]; then
    log "npm ci in tests/e2e"
    (cd "$root/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

echo "$QIAO_TOOLS/bin"
