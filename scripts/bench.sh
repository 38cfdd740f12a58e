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
# The importers' throughput and memory as exports grow (edgerec-train's venv, from `npm test`).
if "$CACHE/venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  echo; echo "## Importing a store's exports (edgerec-train)"
  "$CACHE/venv/bin/python" benches/import_scale.py --events 1000000 4000000
fi
