#!/usr/bin/env bash
# Re-creates vendor/tract-core and vendor/tract-nnef: the published crates
# (crates.io) with vendor/tract.patch applied (vendor/README.md says why).
#   scripts/vendor-tract.sh          re-create them
#   scripts/vendor-tract.sh --check  fail if vendor/ differs from crates.io + the patch
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.23.9
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for crate in tract-core tract-nnef; do
  curl -fsSL "https://static.crates.io/crates/$crate/$crate-$VERSION.crate" | tar xz -C "$work"
  mv "$work/$crate-$VERSION" "$work/$crate"
done
patch -s -d "$work" -p1 < vendor/tract.patch
if [ "${1:-}" = --check ]; then
  diff -r "$work/tract-core" vendor/tract-core || exit 1
  diff -r "$work/tract-nnef" vendor/tract-nnef || exit 1
  echo "vendor/: crates.io $VERSION + vendor/tract.patch"
else
  rm -rf vendor/tract-core vendor/tract-nnef
  cp -r "$work/tract-core" "$work/tract-nnef" vendor/
fi
