#!/usr/bin/env bash
# Builds the module with each candidate profile and prints size and speed
# side by side (how the shipped profile was chosen; README "Build profile").
# EDGEREC_WASM_OPT=0 compares the builds before wasm-opt (minutes faster).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${EDGEREC_CACHE:-$HOME/.cache/edgerec}"
T="${CARGO_TARGET_DIR:-target}"
bash scripts/setup.sh wasm node
v=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
for profile in release wasm-z wasm-o3; do
  cargo build --profile "$profile" --lib --target wasm32-unknown-unknown
  out="$T/profiles/$profile"
  "$CACHE/wasm-bindgen-$v/bin/wasm-bindgen" --target web --out-dir "$out" --out-name edgerec \
    "$T/wasm32-unknown-unknown/$profile/edgerec.wasm"
  [ "${EDGEREC_WASM_OPT:-1}" = 0 ] && continue
  node_modules/.bin/wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue \
    "$out/edgerec_bg.wasm" -o "$out/edgerec_bg.wasm"
done
node benches/profiles.mjs "$T/profiles/release" "$T/profiles/wasm-z" "$T/profiles/wasm-o3"
