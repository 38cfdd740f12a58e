#!/usr/bin/env bash
# Builds the npm package's module: cargo (wasm32, the size-first `wasm` profile) →
# wasm-bindgen (pinned to Cargo.lock) → wasm-opt (npm binaryen) → pkg/.
#   EDGEREC_WASM_OPT=0   skip wasm-opt (quick day-to-day builds)
#   --if-stale           do nothing when pkg/ is newer than every source
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

if [ "${1:-}" = "--if-stale" ] && [ -f pkg/edgerec_bg.wasm ] &&
   [ -z "$(find src Cargo.toml Cargo.lock .cargo -newer pkg/edgerec_bg.wasm -print -quit)" ]; then
  exit 0
fi
bash scripts/setup.sh wasm node

cargo build --profile wasm --lib --target wasm32-unknown-unknown --no-default-features
"$(wasm_bindgen_bin)" --target web --out-dir pkg --out-name edgerec \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm/edgerec.wasm"

if [ "${EDGEREC_WASM_OPT:-1}" != 0 ]; then
  optimize_wasm pkg/edgerec_bg.wasm
fi
rm -f pkg/.gitignore pkg/package.json
ls -l pkg/edgerec_bg.wasm
