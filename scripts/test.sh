#!/usr/bin/env bash
# Every test: Rust (unit, integration, parity on the shipped model), a fresh
# PyTorch export checked against tract, then the built npm package in Node,
# the Worker in workerd, the Fastly app in Viceroy, JavaScriptCore, and the
# storefront in Chromium (desktop and two emulated phones).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
# Viceroy's first install is a ~26-minute compile: start it now, beside the rest.
mkdir -p "$CACHE"
bash scripts/setup.sh viceroy > "$CACHE/setup-viceroy.log" 2>&1 &
viceroy_setup=$!
bash scripts/setup.sh wasm node python browser

echo "== Rust: unit and integration tests"
cargo test --all-targets

echo "== Trainer → ONNX → tract parity (fresh PyTorch export)"
out="${CARGO_TARGET_DIR:-target}/parity-check"
"$CACHE/venv/bin/python" training/train.py --train ../shared/data/diginetica/train_sessions.txt \
  --limit 400 --epochs 1 --dataset "diginetica (parity smoke)" --out "$out" > "$out.log" 2>&1 ||
  { cat "$out.log"; exit 1; }
cargo run --quiet --bin edgerec -- parity "$out/encoder.onnx" "$out/parity.safetensors"

echo "== Build: npm package (wasm32-unknown-unknown) and Fastly app (wasm32-wasip1)"
bash scripts/build-wasm.sh --if-stale
build_fastly

wait "$viceroy_setup" || { cat "$CACHE/setup-viceroy.log"; exit 1; }

echo "== JavaScript: package in Node, workerd, Viceroy, jsc, Chromium"
EDGEREC_VICEROY="$(viceroy_bin)" EDGEREC_FASTLY_WASM="$(fastly_wasm)" \
  node --test --test-concurrency=1 tests/js/ tests/edge/ tests/browser/
