#!/usr/bin/env bash
# Builds the npm package's two modules: cargo (wasm32, the size-first `wasm` profile) →
# wasm-bindgen (pinned to Cargo.lock) → wasm-opt (npm binaryen) → pkg/:
#   edgerec_bg.wasm         the engine (the `runtime` feature: tract)
#   edgerec_prio3_bg.wasm   Prio3 sealing and aggregation (issue 21), loaded
#                           only by a device that seals a report and by the
#                           two aggregators; no tract, no engine.
#   EDGEREC_WASM_OPT=0   skip wasm-opt (quick day-to-day builds)
#   --if-stale           do nothing when pkg/ is newer than every source
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

if [ "${1:-}" = "--if-stale" ] && [ -f pkg/edgerec_bg.wasm ] &&
   [ -z "$(find src vendor Cargo.toml Cargo.lock .cargo -newer pkg/edgerec_bg.wasm -print -quit)" ]; then
  exit 0
fi
bash scripts/setup.sh wasm node

built="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm/edgerec.wasm"
cargo_wasm_module --profile wasm --features prio3-module
"$(wasm_bindgen_bin)" --target web --out-dir pkg --out-name edgerec_prio3 "$built"
cargo_wasm_module --profile wasm --features runtime
"$(wasm_bindgen_bin)" --target web --out-dir pkg --out-name edgerec "$built"

# One export of our own in the glue: a fresh instance of the same module
# after a trap (js/recommender.mjs restarts its engines on it). It needs the
# glue's own names for the module and the instance; fail loudly if they change.
grep -q '^let wasmModule, wasmInstance, wasm;$' pkg/edgerec.js ||
  { echo "wasm-bindgen glue changed: update __edgerec_restart in scripts/build-wasm.sh" >&2; exit 1; }
cat >> pkg/edgerec.js <<'EOF'

/** edgerec: drop this instance (a call trapped in it) and start a fresh one of the same module. */
export function __edgerec_restart() {
    const module = wasmModule;
    wasm = undefined;
    return initSync({ module });
}
EOF

if [ "${EDGEREC_WASM_OPT:-1}" != 0 ]; then
  optimize_wasm pkg/edgerec_bg.wasm
  optimize_wasm pkg/edgerec_prio3_bg.wasm
fi
rm -f pkg/.gitignore pkg/package.json
ls -l pkg/edgerec_bg.wasm pkg/edgerec_prio3_bg.wasm
