# Shared by the build scripts: where the pinned wasm-bindgen lives, and the
# one wasm-opt invocation (npm binaryen; Debian's 108 emits broken modules).
CACHE="${EDGEREC_CACHE:-$HOME/.cache/edgerec}"

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

# The shipped module is built with a pinned nightly: Rust's standard library
# rebuilt for size, with panics that trap at once instead of formatting a
# message nobody reads (docs/contributing.md "Build profile": −0.05 MB brotli).
WASM_TOOLCHAIN=nightly-2026-10-29

# cargo_wasm_module ARGS...: the browser / Worker module, size-first.
cargo_wasm_module() {
  cargo "+$WASM_TOOLCHAIN" build -Zbuild-std=std,panic_abort \
    --config 'target.wasm32-unknown-unknown.rustflags = ["-Zunstable-options", "-Cpanic=immediate-abort"]' \
    --target wasm32-unknown-unknown --lib --no-default-features "$@"
}

wasm_bindgen_bin() {
  echo "$CACHE/wasm-bindgen-$(wasm_bindgen_version)/bin/wasm-bindgen"
}

# optimize_wasm FILE: size-first, in place (measured: -Oz keeps the scoring
# kernel as fast as -O3; --converge repeats the passes until nothing changes,
# −4 KB brotli for ~1.5 min of build, docs/contributing.md "Build profile").
optimize_wasm() {
  node_modules/.bin/wasm-opt -Oz --converge --enable-simd --enable-bulk-memory --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue \
    "$1" -o "$1.opt" && mv "$1.opt" "$1"
}

# wrangler (Cloudflare's CLI, for `wrangler dev` / `deploy` in the tests)
# needs Node >= 22; this machine's Node is 20, so Node 22 comes from the npm
# registry (notes/RUNTIMES.md), both into the cache.
WRANGLER_VERSION=4.164.0
NODE22_VERSION=22.23.3
node22_bin() {
  echo "$CACHE/node-$NODE22_VERSION/bin/node"
}
wrangler_js() {
  echo "$CACHE/wrangler-$WRANGLER_VERSION/node_modules/wrangler/bin/wrangler.js"
}

VICEROY_VERSION=0.22.0
viceroy_bin() {
  echo "$CACHE/viceroy-$VICEROY_VERSION/bin/viceroy"
}

# The Fastly Compute app, built for wasm32-wasip1 (edge/fastly).
fastly_wasm() {
  echo "${CARGO_TARGET_DIR:-$PWD/edge/fastly/target}/wasm32-wasip1/release/edgerec-fastly.wasm"
}

build_fastly() {
  (cd edge/fastly && cargo build --release --target wasm32-wasip1)
}
