#!/usr/bin/env bash
# A store's own data, as a store's developer meets it: the edgerec-train wheel
# built from this repository and installed into a fresh environment, the
# importers' tests run there, the one command on real data written as each
# platform exports it (Online Retail as a Shopify export; dunnhumby's Complete
# Journey as GA4 Parquet and Segment with a Merchant Center feed, and as GA4
# JSON imported to the same events as its Parquet; YooChoose clicks as a plain
# CSV), and the npm package, installed from its tarball, loading every bundle made. Slices and one epoch: the pipeline is
# under test here, not the model (the figures in docs/own-data.md are full runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
repo=$PWD
work="${CARGO_TARGET_DIR:-$PWD/target}/own-data"
rm -rf "$work" && mkdir -p "$work"
cached="$CACHE/venv/bin"

echo "== edgerec-train: the wheel (the native CLI inside), installed into a fresh venv"
(cd training && "$cached/maturin" build --release --out "$work/wheels" > "$work/maturin.log" 2>&1) ||
  { cat "$work/maturin.log"; exit 1; }
ls -s --block-size=K "$work"/wheels/edgerec_train-*.whl
python3 -m venv "$work/fresh"
# PyTorch and the rest come from the cached venv, never downloaded twice.
"$cached/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))' \
  > "$("$work/fresh/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/edgerec-cache.pth"
# --no-deps: its dependencies are the cached ones (pip would ask the index for
# torch's own build requirements); the imports below prove they resolve.
"$work/fresh/bin/pip" install --quiet --no-index --no-deps "$work"/wheels/edgerec_train-*.whl
fresh="$work/fresh/bin"
cd "$work"  # nothing of the repository on the path: the installed package only
"$fresh/python" -c 'import edgerec_train, sys; assert "/fresh/" in edgerec_train.__file__, edgerec_train.__file__
import torch, onnx, safetensors, numpy, duckdb, pyarrow, tqdm'
[ -x "$fresh/edgerec" ] && [ -x "$fresh/edgerec-train" ]

echo "== the importers: each platform's export, bad input located, fuzzed"
"$fresh/python" "$repo/training/test_importers.py"

train() {  # NAME ARGS...: the one command, quick settings, its summary's quality table
  local name=$1; shift
  "$fresh/edgerec-train" "$@" --out "$work/$name/$name.edgerec" --name "$name" --epochs 1 --dim 32 \
    --eval-limit 3000 > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; echo "edgerec-train failed on $name"; exit 1; }
  sed -n '/^## Quality/,/^## The bundle/p' "$work/$name/$name.summary.md" | grep "^| [eip]" | sed "s/^/  $name /"
  # Even one epoch on a slice ranks the next item better than popularity does.
  "$fresh/python" - "$work/$name/$name.summary.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))["quality"]
ours, popular = q["edgerec (shipped blend)"], q["popularity"]
assert ours["recall20"] > popular["recall20"] and ours["mrr20"] > popular["mrr20"], (sys.argv[1], q)
PY
}
data="$repo/../shared/data"
"$cached/python" "$repo/training/stores/online_retail_shopify.py" --csv "$data/online-retail/online_retail.csv.gz" \
  --months 4 --out "$work/retail-export" > /dev/null
train retail-shopify --products "$work/retail-export/products_export.csv" --orders "$work/retail-export/orders_export.csv"
for form in ga4-parquet ga4-json segment; do
  "$cached/python" "$repo/training/stores/complete_journey.py" --as "$form" --start-week 40 --weeks 6 \
    --out "$work/cj-$form-export" > /dev/null
done
train grocer-ga4-parquet --products "$work/cj-ga4-parquet-export/merchant_center.tsv" \
  --events "$work/cj-ga4-parquet-export/events" --limit 8000
train grocer-segment --products "$work/cj-segment-export/merchant_center.tsv" \
  --events "$work/cj-segment-export/events" --limit 8000
# GA4's JSON export of the same rows imports to the same events as its Parquet (all but the
# source column), so the rest of the one command is the run above.
"$fresh/edgerec-train" import --products "$work/cj-ga4-json-export/merchant_center.tsv" \
  --events "$work/cj-ga4-json-export/events" --out-dir "$work/grocer-ga4-json" > /dev/null
cmp <(cut -d, -f1-10 "$work/grocer-ga4-parquet/grocer-ga4-parquet.work/import/events.csv") \
    <(cut -d, -f1-10 "$work/grocer-ga4-json/events.csv")
train yoochoose-csv --events "$data/yoochoose-100k/yoochoose-clicks-100k_train_full.txt"

echo "== the npm package from its tarball, in a fresh folder, loading each store's bundle"
(cd "$repo" && npm pack --silent --pack-destination "$work" > /dev/null)
mkdir -p "$work/page" && cd "$work/page"
# A project of its own, or npm would install into the nearest package.json up the tree (ours).
echo '{"name": "a-store-page", "private": true, "type": "module"}' > package.json
npm install --silent --no-audit --no-fund --offline "$work"/edgerec-*.tgz
git -C "$repo" diff --quiet -- package.json package-lock.json || { echo "npm install changed the repository's package.json"; exit 1; }
cp "$repo/tests/own-data/load-bundles.mjs" .
node load-bundles.mjs "$work"/*/*.edgerec
