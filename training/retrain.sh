#!/usr/bin/env bash
# One command from the two data files to a shipped bundle:
#   train the encoder (epoch picked on the last 10% of training sessions),
#   mine a tuning bundle from the other 90% and pick the ranking blend and the
#   most compact item table on the held-out 10% (edgerec tune),
#   build the bundle from all sessions with that blend and table,
#   check tract against PyTorch, and evaluate on the test file;
#   with --baseline, the offline gate before a canary: `edgerec diff` of the
#   live bundle against the new one, and stop (exit 3, --out untouched, the
#   new bundle left in the work folder) when the new one is worse.
#
# usage: training/retrain.sh --sessions FILE --test FILE --dataset NAME --out BUNDLE
#          [--catalog FILE.jsonl] [--policy FILE.json] [--work DIR] [--published FILE.json]
#          [--eval-limit N] [--trained DIR: a train.py output to reuse instead of training]
#          [--baseline LIVE.edgerec] [--max-drop PT: the gate's tolerance, default 1 point]
#          [any training/edgerec_train/train.py flag, e.g. --epochs 8 --time-budget 55]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

sessions= test= dataset= out= work= trained= baseline= build_extra=() diff_extra=() eval_extra=() train_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) sessions=$2 ;;
    --test) test=$2 ;;
    --dataset) dataset=$2 ;;
    --out) out=$2 ;;
    --work) work=$2 ;;
    --trained) trained=$2 ;;
    --baseline) baseline=$2 ;;
    --max-drop) diff_extra+=("$1" "$2") ;;
    --catalog) build_extra+=("$1" "$2"); eval_extra+=("$1" "$2") ;;
    --policy) build_extra+=("$1" "$2") ;;
    --published) eval_extra+=("$1" "$2") ;;
    --eval-limit) eval_extra+=(--limit "$2"); diff_extra+=(--limit "$2") ;;
    *) train_extra+=("$1" "$2") ;;
  esac
  shift 2
done
[ -n "$sessions" ] && [ -n "$test" ] && [ -n "$dataset" ] && [ -n "$out" ] ||
  { sed -n '2,16p' "$0"; exit 2; }
work=${work:-training/out/$(basename "$out" .edgerec)}
model=${trained:-$work/model}
python=${EDGEREC_PYTHON:-$CACHE/venv/bin/python}

cargo build --quiet --release --bin edgerec
edgerec=target/release/edgerec
[ -n "${CARGO_TARGET_DIR:-}" ] && edgerec="$CARGO_TARGET_DIR/release/edgerec"

if [ -z "$trained" ]; then
  echo "== train ($model)"
  "$python" training/edgerec_train/train.py --train "$sessions" --test "$test" --dataset "$dataset" --out "$model" "${train_extra[@]}"
fi
"$edgerec" parity "$model/encoder.onnx" "$model/parity.safetensors"

echo "== tune the blend and the table on held-out sessions"
"$edgerec" build --sessions "$model/fit_sessions.txt" --table "$model/table.safetensors" \
  --onnx "$model/encoder.onnx" --out "$work/tuning.edgerec" "${build_extra[@]}"
"$edgerec" tune "$work/tuning.edgerec" --valid "$model/valid.tsv" --out "$work/tuned.json"

# Built in the work folder; it becomes --out only past the gate.
built="$work/built.edgerec"
echo "== build $built"
"$edgerec" build --sessions "$sessions" --table "$model/table.safetensors" --onnx "$model/encoder.onnx" \
  --card "$model/card.json" --tuned "$work/tuned.json" --out "$built" "${build_extra[@]}"

echo "== evaluate on $test"
"$edgerec" eval "$built" --test "$test" --train "$sessions" "${eval_extra[@]}"

if [ -n "$baseline" ]; then
  echo "== gate: $baseline (live) against the new bundle"
  status=0
  "$edgerec" diff "$baseline" "$built" --test "$test" "${diff_extra[@]}" || status=$?
  if [ "$status" = 3 ]; then
    echo "stop: the new bundle is worse offline than $baseline; $out is unchanged, the new bundle is $built"
    exit 3
  fi
  [ "$status" = 0 ] || exit "$status"
fi
mkdir -p "$(dirname "$out")"
cp "$built" "$out"
echo "== wrote $out"
