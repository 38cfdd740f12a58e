#!/usr/bin/env bash
# `npm run bench`: builds what is measured (package, Worker, Fastly app),
# then prints every figure in one run (benches/bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bash scripts/build-wasm.sh --if-stale
bash scripts/setup.sh browser viceroy
build_fastly
EDGEREC_VICEROY="$(viceroy_bin)" EDGEREC_FASTLY_WASM="$(fastly_wasm)" node benches/bench.mjs
