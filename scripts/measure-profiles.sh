#!/usr/bin/env bash
# Builds the module with each candidate profile and prints size and speed
# side by side (how the shipped profile was chosen; docs/contributing.md "Build profile").
# EDGEREC_WASM_OPT=0 compares the builds before wasm-opt (minutes faster).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
T="${CARGO_TARGET_DIR:-target}"
bash scripts/setup.sh wasm node
for profile in wasm release wasm-z; do
  cargo_wasm_module --profile "$profile" --features runtime
  out="$T/profiles/$profile"
  "$(wasm_bindgen_bin)" --target web --out-dir "$out" --out-name edgerec \
    "$T/wasm32-unknown-unknown/$profile/edgerec.wasm"
  [ "${EDGEREC_WASM_OPT:-1}" = 0 ] && continue
  optimize_wasm "$out/edgerec_bg.wasm"
done
node benches/profiles.mjs "$T/profiles/wasm" "$T/profiles/release" "$T/profiles/wasm-z"
