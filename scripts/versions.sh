# The one place where tool versions are pinned. wasm-bindgen-cli must equal the wasm-bindgen
# crate in Cargo.lock (scripts/check-versions.sh and the build fail loudly when they drift);
# Trunk.toml [tools] repeats these for trunk's own lookup and is checked against this file.
WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14
