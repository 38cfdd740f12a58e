#!/usr/bin/env bash
# Builds the npm package's module: cargo (wasm32, release profile) →
# wasm-bindgen (pinned to Cargo.lock) → wasm-opt (npm binaryen) → pkg/.
#   EDGEREC_WASM_OPT=0   skip wasm-opt (quick day-to-day builds)
#   --if-stale           do nothing when pkg/ is newer than every source
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${EDGEREC_CACHE:-$HOME/.cache/edgerec}"

if [ "${1:-}" = "--if-stale" ] && [ -f pkg/edgerec_bg.wasm ] &&
   [ -z "$(find src Cargo.toml Cargo.lock .cargo -newer pkg/edgerec_bg.wasm -print -quit)" ]; then
  exit 0
fi
bash scripts/setup.sh wasm node

cargo build --release --lib --target wasm32-unknown-unknown
v=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
"$CACHE/wasm-bindgen-$v/bin/wasm-bindgen" --target web --out-dir pkg --out-name edgerec \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/edgerec.wasm"

if [ "${EDGEREC_WASM_OPT:-1}" != 0 ]; then
  # Speed-first optimisation: the ranking kernel must stay fast (RUNTIMES.md).
  node_modules/.bin/wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue \
    pkg/edgerec_bg.wasm -o pkg/edgerec_bg.opt.wasm
  mv pkg/edgerec_bg.opt.wasm pkg/edgerec_bg.wasm
fi
rm -f pkg/.gitignore pkg/package.json
ls -l pkg/edgerec_bg.wasm
