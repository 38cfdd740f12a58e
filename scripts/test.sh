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
# PyTorch, Chromium and wrangler are downloads: beside wasm-bindgen's compile and the Rust tests.
bash scripts/setup.sh python browser wrangler > "$CACHE/setup-downloads.log" 2>&1 &
downloads_setup=$!
bash scripts/setup.sh wasm node

echo "== Rust: unit and integration tests"
cargo test --all-targets

wait "$downloads_setup" || { cat "$CACHE/setup-downloads.log"; exit 1; }
cat "$CACHE/setup-downloads.log"

echo "== Retraining pipeline on two data sets (train → parity → tune → build → eval), small slices"
# training/retrain.sh end to end, unchanged across data sets of different
# shapes: Diginetica views (43k items, long sessions) and Online Retail
# invoices (4k items, baskets, whole-session test file).
work="${CARGO_TARGET_DIR:-target}/retrain-check"
rm -rf "$work" && mkdir -p "$work"
smoke() {
  local name=$1 want=$2 status=0; shift 2
  bash training/retrain.sh --work "$work/$name" --out "$work/$name.edgerec" --epochs 1 --eval-limit 2000 "$@" \
    > "$work/$name.log" 2>&1 || status=$?
  [ "$status" = "$want" ] || { cat "$work/$name.log"; echo "retrain.sh: exit $status, expected $want"; exit 1; }
  grep -E "^parity|^ranking|edgerec \(shipped|^gate|^stop" "$work/$name.log"
}
# A 400-session model against the shipped one: the offline gate must stop it
# and leave --out unwritten.
smoke diginetica 3 --sessions ../shared/data/diginetica/train_sessions.txt --limit 400 \
  --test ../shared/data/diginetica/test_prefix_target.tsv --dataset "diginetica (smoke)" \
  --baseline models/diginetica/diginetica.edgerec
[ ! -e "$work/diginetica.edgerec" ] || { echo "the gate failed but wrote the bundle"; exit 1; }
"$CACHE/venv/bin/python" training/prepare_retail.py --csv ../shared/data/online-retail/online_retail.csv.gz \
  --out "$work/retail-data" > /dev/null
smoke retail 0 --sessions "$work/retail-data/train_sessions.txt" --test "$work/retail-data/test_sessions.txt" \
  --catalog "$work/retail-data/catalog.jsonl" --limit 1500 --dim 32 --dataset "online retail (smoke)"

echo "== The trainer: training and export read sessions alike (training/edgerec_train/train.py)"
"$CACHE/venv/bin/python" training/test_train.py

echo "== Session exports → sessions files (training/prepare_sessions.py)"
"$CACHE/venv/bin/python" training/test_prepare_sessions.py

echo "== The default store's catalog: products only, cased titles, hand-checked product types"
"$CACHE/venv/bin/python" training/test_retail_catalog.py

echo "== Build: npm package (wasm32-unknown-unknown) and Fastly app (wasm32-wasip1)"
bash scripts/build-wasm.sh --if-stale
build_fastly

echo "== A store's own data: the edgerec-train wheel in a fresh venv, five real exports → bundles → the npm package"
bash scripts/test-own-data.sh

wait "$viceroy_setup" || { cat "$CACHE/setup-viceroy.log"; exit 1; }

echo "== JavaScript: package in Node, workerd, Viceroy, jsc, Chromium"
EDGEREC_VICEROY="$(viceroy_bin)" EDGEREC_FASTLY_WASM="$(fastly_wasm)" \
  EDGEREC_NODE22="$(node22_bin)" EDGEREC_WRANGLER="$(wrangler_js)" \
  node --test --test-concurrency=1 tests/js/ tests/edge/ tests/browser/
