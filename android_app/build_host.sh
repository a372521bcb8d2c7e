#!/usr/bin/env bash
# Builds splitbench_runner for this Linux machine against the executorch wheel of
# the project's venv, and lays out a self-contained bundle:
#   android_app/build/linux-<arch>/bundle/{splitbench_runner, lib/*.so, bundle.json}
# Usage: android_app/build_host.sh [--with-lite]
#   --with-lite  also build the TorchScript Lite variant into
#                android_app/build/linux-<arch>-lite/bundle/ (links libtorch_cpu, ~450 MB)
# Environment: SPLITBENCH_VENV (default <repo>/.venv) or SPLITBENCH_PYTHON (a python
# with executorch installed); SPLITBENCH_BUILD_JOBS (default 2).
# Idempotent: a rebuild only recompiles what changed and refreshes the bundle.
set -euo pipefail

app_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$app_dir/.." && pwd)"

with_lite=0
for arg in "$@"; do
  case "$arg" in
    --with-lite) with_lite=1 ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build_host.sh: unknown argument '$arg'; use --with-lite or nothing" >&2; exit 2 ;;
  esac
done

venv="${SPLITBENCH_VENV:-$repo_dir/.venv}"
python="${SPLITBENCH_PYTHON:-$venv/bin/python}"
if [ ! -x "$python" ]; then
  echo "build_host.sh: no python at $python; run scripts/setup.sh or set SPLITBENCH_VENV" >&2
  exit 2
fi
for tool in cmake c++; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build_host.sh: $tool not found; install it (apt-get install cmake g++)" >&2
    exit 2
  fi
done
# executorch is a namespace package (no __init__.py, __file__ is None): look along its __path__.
executorch_pkg="$("$python" -c 'import executorch, os; print(next(p for p in executorch.__path__ if os.path.isdir(os.path.join(p, "lib", "cmake", "executorch"))))')" || {
  echo "build_host.sh: executorch is not importable by $python; install the project's venv" >&2
  exit 2
}
executorch_dir="$executorch_pkg/lib/cmake/executorch"
executorch_version="$("$python" -c 'import importlib.metadata as m; print(m.version("executorch"))')"
jobs="${SPLITBENCH_BUILD_JOBS:-2}"
arch="$(uname -m)"

# build_variant <name> <extra cmake args...>
build_variant() {
  local name="$1"; shift
  local out_dir="$app_dir/build/$name"
  local cmake_dir="$out_dir/cmake"
  local bundle_dir="$out_dir/bundle"
  mkdir -p "$cmake_dir"
  if [ ! -f "$cmake_dir/CMakeCache.txt" ] || ! grep -q "^executorch_DIR:PATH=$executorch_dir\$" "$cmake_dir/CMakeCache.txt"; then
    cmake -S "$app_dir" -B "$cmake_dir" -DCMAKE_BUILD_TYPE=Release \
      -Dexecutorch_DIR="$executorch_dir" "$@" >/dev/null
  fi
  cmake --build "$cmake_dir" --parallel "$jobs" >/dev/null
  cmake --install "$cmake_dir" --prefix "$bundle_dir" >/dev/null
  # Drop files a previous build installed and this one did not.
  local installed
  installed="$(sed 's#/\./#/#g' "$cmake_dir/install_manifest.txt")"
  while IFS= read -r -d '' file; do
    if ! grep -qxF "$file" <<<"$installed"; then rm -f "$file"; fi
  done < <(find "$bundle_dir" -type f ! -name bundle.json -print0)
  # The venv's installed executorch: no wheel file to name or hash (source_wheel.file/sha256 null).
  cmake -DBUNDLE_DIR="$bundle_dir" -DBUNDLE_PLATFORM=linux -DBUNDLE_ABI="$arch" \
    -DRUNNER_VERSION="$(sed -n 's/^project(splitbench_runner VERSION \([0-9.]*\).*/\1/p' "$app_dir/CMakeLists.txt")" \
    -DBUNDLE_LIBC=system -DBUNDLE_LIBRARY_PATH=lib -DWHEEL_NAME=executorch -DWHEEL_VERSION="$executorch_version" \
    -P "$app_dir/cmake/write_bundle_manifest.cmake"
  "$bundle_dir/splitbench_runner" --version >/dev/null
  echo "$bundle_dir"
}

build_variant "linux-$arch"

if [ "$with_lite" = 1 ]; then
  torch_pkg="$("$python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
  torch_version="$("$python" -c 'import torch; print(torch.__version__)')"
  # libtorch_cpu's own dependencies (libgomp, and the CUDA runtime libraries a CUDA wheel links).
  extra_libs="$(ldd "$torch_pkg/lib/libtorch_cpu.so" | awk '$3 ~ /^\// && $3 !~ /^\/(lib|usr)\// {print $3}' | tr '\n' ';')"
  build_variant "linux-$arch-lite" -DSPLITBENCH_WITH_LITE=ON -DSPLITBENCH_TORCH_DIR="$torch_pkg" \
    -DSPLITBENCH_TORCH_VERSION_STRING="$torch_version" -DSPLITBENCH_EXTRA_BUNDLE_LIBRARIES="$extra_libs"
fi
