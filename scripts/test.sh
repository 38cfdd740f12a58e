#!/usr/bin/env bash
# Every test: Rust (unit, integration, parity on the shipped model), a fresh
# PyTorch export checked against tract, then the built npm package in Node.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${EDGEREC_CACHE:-$HOME/.cache/edgerec}"
bash scripts/setup.sh wasm node python

echo "== Rust: unit and integration tests"
cargo test --all-targets

echo "== Rust unit tests as WebAssembly (wasm32-wasip1 + simd128, run by Node's WASI)"
cargo test --lib --target wasm32-wasip1

echo "== Trainer → ONNX → tract parity (fresh PyTorch export)"
out="${CARGO_TARGET_DIR:-target}/parity-check"
"$CACHE/venv/bin/python" training/train.py --train ../shared/data/diginetica/train_sessions.txt \
  --limit 400 --epochs 1 --dataset "diginetica (parity smoke)" --out "$out" > "$out.log" 2>&1 ||
  { cat "$out.log"; exit 1; }
cargo run --quiet --bin edgerec -- parity "$out/encoder.onnx" "$out/parity.safetensors"

echo "== npm package in Node"
bash scripts/build-wasm.sh --if-stale
node --test tests/js/
