#!/usr/bin/env bash
# Fetches the executorch wheel of one Linux architecture at the version pyproject.toml pins,
# into a cache outside git, and unpacks the part a C++ build needs (lib/, include/, share/).
#   android_app/build/wheels/executorch-<version>-cp311-cp311-manylinux_2_28_<arch>.whl
#   android_app/build/wheels/executorch-<version>-<arch>/executorch/{lib,include,share}
#   android_app/build/wheels/executorch-<version>-<arch>/source-wheel.sha256  (sha256sum format)
# Prints the unpacked package root (the folder holding lib/cmake/executorch).
# Usage: android_app/fetch_wheel.sh aarch64|x86_64
# Environment: SPLITBENCH_PYTHON (default <repo>/.venv/bin/python), whose pip downloads the wheel.
# A wheel already in the cache is reused without asking the registry; it is unpacked again
# only when its sha256 changed.
set -euo pipefail

app_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$app_dir/.." && pwd)"
fail() { echo "fetch_wheel.sh: $*" >&2; exit 2; }

[ "$#" -eq 1 ] || fail "usage: fetch_wheel.sh aarch64|x86_64"
arch="$1"
case "$arch" in
  aarch64|x86_64) ;;
  *) fail "unknown architecture '$arch'; use aarch64 or x86_64" ;;
esac
platform_tag="manylinux_2_28_$arch"

version="$(sed -n 's/.*"executorch==\([^"]*\)".*/\1/p' "$repo_dir/pyproject.toml" | head -n 1)"
[ -n "$version" ] || fail "pyproject.toml pins no executorch==VERSION"

cache="$app_dir/build/wheels"
mkdir -p "$cache"
find_wheel() { find "$cache" -maxdepth 1 -name "executorch-$version-cp311-cp311-*$platform_tag*.whl" | sort | tail -n 1; }
wheel="$(find_wheel)"
if [ -z "$wheel" ]; then
  python="${SPLITBENCH_PYTHON:-$repo_dir/.venv/bin/python}"
  [ -x "$python" ] || command -v "$python" >/dev/null 2>&1 \
    || fail "no python at '$python' to download the wheel with; run scripts/setup.sh or set SPLITBENCH_PYTHON"
  echo "fetch_wheel.sh: downloading executorch $version ($platform_tag)" >&2
  "$python" -m pip download -q "executorch==$version" --no-deps --only-binary=:all: \
    --platform "$platform_tag" --python-version 3.11 -d "$cache" >&2 \
    || fail "pip could not download executorch==$version for $platform_tag; check the package index (pip config list)"
  wheel="$(find_wheel)"
  [ -n "$wheel" ] || fail "pip downloaded no executorch-$version wheel for $platform_tag into $cache"
fi

sha256="$(sha256sum "$wheel" | cut -d' ' -f1)"
root="$cache/executorch-$version-$arch"
stamp="$root/source-wheel.sha256"
if [ ! -f "$stamp" ] || [ "$(cut -d' ' -f1 "$stamp")" != "$sha256" ]; then
  python="${SPLITBENCH_PYTHON:-$repo_dir/.venv/bin/python}"
  command -v "$python" >/dev/null 2>&1 || python=python3
  rm -rf "$root.tmp"
  "$python" - "$wheel" "$root.tmp" <<'PY' || fail "could not unpack $wheel; delete it and run again"
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    members = [n for n in archive.namelist()
               if n.startswith(("executorch/lib/", "executorch/include/", "executorch/share/"))]
    if not any(n.endswith("lib/cmake/executorch/executorch-config.cmake") for n in members):
        sys.exit(f"{wheel} holds no executorch/lib/cmake/executorch/executorch-config.cmake")
    archive.extractall(out, members)
PY
  echo "$sha256  $(basename "$wheel")" > "$root.tmp/source-wheel.sha256"
  rm -rf "$root"
  mv "$root.tmp" "$root"
fi
echo "$root/executorch"
