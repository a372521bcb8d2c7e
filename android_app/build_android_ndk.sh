#!/usr/bin/env bash
# The NDK route of build_android.sh (`build_android.sh --ndk ABI`): cross-compiles
# splitbench_runner for Android against bionic, building ExecuTorch v1.5.1 from source
# and linking it statically (XNNPACK delegate, optimized and portable kernels,
# Module/data-loader/tensor extensions; no JNI). Produces
#   android_app/build/android-<abi>/bundle/{splitbench_runner, bundle.json}
#
# Usage: android_app/build_android_ndk.sh [arm64-v8a|x86_64]  (default arm64-v8a)
# Environment:
#   ANDROID_NDK           NDK root (required; ANDROID_NDK_HOME is accepted too)
#   ANDROID_PLATFORM      e.g. android-26 (default; 26 or newer)
#   EXECUTORCH_SRC        an ExecuTorch v1.5.1 checkout with submodules; without it the
#                         script clones one (needs network) into android_app/build/executorch-src
#   SPLITBENCH_PYTHON     python used by ExecuTorch's build for code generation
#                         (default: the project's .venv; it needs the executorch build requirements)
#   SPLITBENCH_BUILD_JOBS parallel jobs (default 2)
set -euo pipefail

app_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$app_dir/.." && pwd)"
executorch_tag="v1.5.1"

fail() { echo "build_android.sh --ndk: $*" >&2; exit 2; }

abi="${1:-arm64-v8a}"
case "$abi" in
  arm64-v8a|x86_64) ;;
  -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) fail "unsupported ABI '$abi'; use arm64-v8a or x86_64" ;;
esac
[ "$#" -le 1 ] || fail "too many arguments; usage: build_android.sh --ndk [arm64-v8a|x86_64]"

ndk="${ANDROID_NDK:-${ANDROID_NDK_HOME:-}}"
[ -n "$ndk" ] || fail "set ANDROID_NDK to the NDK root (e.g. \$ANDROID_HOME/ndk/27.2.12479018)"
toolchain="$ndk/build/cmake/android.toolchain.cmake"
[ -f "$toolchain" ] || fail "no $toolchain; ANDROID_NDK must point at an NDK root"

android_platform="${ANDROID_PLATFORM:-android-26}"
api_level="${android_platform#android-}"
[[ "$api_level" =~ ^[0-9]+$ ]] && [ "$api_level" -ge 26 ] \
  || fail "ANDROID_PLATFORM must be android-26 or newer, got '$android_platform'"

python="${SPLITBENCH_PYTHON:-$repo_dir/.venv/bin/python}"
[ -x "$python" ] || command -v "$python" >/dev/null 2>&1 \
  || fail "no python at '$python'; set SPLITBENCH_PYTHON"
command -v cmake >/dev/null 2>&1 || fail "cmake not found; install cmake 3.24 or newer"

executorch_src="${EXECUTORCH_SRC:-$app_dir/build/executorch-src}"
if [ ! -f "$executorch_src/CMakeLists.txt" ]; then
  if [ -n "${EXECUTORCH_SRC:-}" ]; then
    fail "EXECUTORCH_SRC=$EXECUTORCH_SRC holds no ExecuTorch checkout"
  fi
  command -v git >/dev/null 2>&1 || fail "git not found; install it or set EXECUTORCH_SRC"
  echo "build_android.sh --ndk: cloning ExecuTorch $executorch_tag into $executorch_src"
  git clone --depth 1 --branch "$executorch_tag" --recursive --shallow-submodules \
    https://github.com/pytorch/executorch.git "$executorch_src"
fi
found_version="$(head -n 1 "$executorch_src/version.txt" 2>/dev/null || true)"
case "$found_version" in
  1.5.1*) ;;
  *) fail "$executorch_src is ExecuTorch '${found_version:-unknown}', expected 1.5.1 ($executorch_tag)" ;;
esac

out_dir="$app_dir/build/android-$abi"
cmake_dir="$out_dir/cmake"
bundle_dir="$out_dir/bundle"
jobs="${SPLITBENCH_BUILD_JOBS:-2}"

cmake -S "$app_dir" -B "$cmake_dir" \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DANDROID_ABI="$abi" \
  -DANDROID_PLATFORM="$android_platform" \
  -DANDROID_STL=c++_static \
  -DCMAKE_BUILD_TYPE=Release \
  -DPYTHON_EXECUTABLE="$python" \
  -DSPLITBENCH_EXECUTORCH_SOURCE_DIR="$executorch_src"
cmake --build "$cmake_dir" --target splitbench_runner --parallel "$jobs"
rm -rf "$bundle_dir"
cmake --install "$cmake_dir" --prefix "$bundle_dir" --strip
cmake -DBUNDLE_DIR="$bundle_dir" -DBUNDLE_PLATFORM=android -DBUNDLE_ABI="$abi" \
  -DRUNNER_VERSION="$(sed -n 's/^project(splitbench_runner VERSION \([0-9.]*\).*/\1/p' "$app_dir/CMakeLists.txt")" \
  -DBUNDLE_LIBC=system -P "$app_dir/cmake/write_bundle_manifest.cmake"
echo "$bundle_dir"
