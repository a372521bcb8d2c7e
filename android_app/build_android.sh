#!/usr/bin/env bash
# Builds splitbench_runner for an Android ABI. Two routes:
#
#   build_android.sh [ABI]        (default) no NDK: a glibc-bundled runner. The same sources and
#                                 CMakeLists as the host build, compiled with GNU g++ (Debian's
#                                 aarch64-linux-gnu cross compiler for arm64-v8a, this host's g++
#                                 for x86_64) against the executorch wheel of that architecture
#                                 (pip-downloaded at the version pyproject.toml pins, cached in
#                                 android_app/build/wheels/). The bundle carries its own glibc
#                                 runtime and is launched through it:
#                                   BUNDLE/lib/ld-linux-*.so.* --library-path BUNDLE/lib BUNDLE/splitbench_runner ARGS
#   build_android.sh --ndk [ABI]  the NDK route (build_android_ndk.sh): ExecuTorch built from
#                                 source with the Android NDK, linked statically, against bionic.
#
# ABI: arm64-v8a (phones; default) or x86_64 (the Android emulator).
# Output: android_app/build/android-<abi>/bundle/{splitbench_runner, lib/, bundle.json}
# Environment: SPLITBENCH_PYTHON (default <repo>/.venv/bin/python; its pip fetches the wheel),
#   SPLITBENCH_BUILD_JOBS (default 2).
# Idempotent: a rebuild only recompiles what changed and refreshes the bundle.
set -euo pipefail

app_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
abis="arm64-v8a x86_64"
usage="usage: build_android.sh [--ndk] [arm64-v8a|x86_64]"
fail() { echo "build_android.sh: $*" >&2; exit 2; }

ndk=0
abi=""
for arg in "$@"; do
  case "$arg" in
    --ndk) ndk=1 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) fail "unknown option '$arg'; $usage" ;;
    *)
      [ -z "$abi" ] || fail "more than one ABI given ('$abi', '$arg'); $usage"
      abi="$arg" ;;
  esac
done
abi="${abi:-arm64-v8a}"
case "$abi" in
  arm64-v8a) arch=aarch64 ;;
  x86_64) arch=x86_64 ;;
  *) fail "unknown ABI '$abi'; the ABIs that exist here are: $abis" ;;
esac

if [ "$ndk" = 1 ]; then
  exec bash "$app_dir/build_android_ndk.sh" "$abi"
fi

# --- the compiler for this ABI: native g++ on a host of the same architecture, else Debian's cross g++ ---
triple="$arch-linux-gnu"
if [ "$(uname -m)" = "$arch" ]; then
  cxx=g++
  cxx_package=g++
  toolchain_args=()
else
  cxx="$triple-g++"
  cxx_package="g++-${triple//_/-}"
  toolchain_args=(-DCMAKE_TOOLCHAIN_FILE="$app_dir/cmake/$triple.toolchain.cmake")
fi
command -v cmake >/dev/null 2>&1 || fail "cmake not found; install it (apt-get install cmake)"
command -v "$cxx" >/dev/null 2>&1 \
  || fail "$cxx not found; install it (apt-get install $cxx_package), or run scripts/setup.sh"

out_dir="$app_dir/build/android-$abi"
cmake_dir="$out_dir/cmake"
bundle_dir="$out_dir/bundle"
staging_dir="$out_dir/bundle.new"
jobs="${SPLITBENCH_BUILD_JOBS:-2}"
mkdir -p "$out_dir"
# One build of an ABI at a time (setup and a test session may both ask for it).
exec 9>"$out_dir.lock"
flock 9

# --- ExecuTorch: the wheel of this architecture ---
package_root="$(bash "$app_dir/fetch_wheel.sh" "$arch")"
read -r wheel_sha256 wheel_file < "$(dirname "$package_root")/source-wheel.sha256"
wheel_version="$(sed -n 's/^set(PACKAGE_VERSION "\([^"]*\)")/\1/p' "$package_root/lib/cmake/executorch/executorch-config-version.cmake")"
executorch_dir="$package_root/lib/cmake/executorch"

# --- configure (again only when the wheel folder or the compiler changed), build, install ---
if [ ! -f "$cmake_dir/CMakeCache.txt" ] \
   || ! grep -qx "executorch_DIR:PATH=$executorch_dir" "$cmake_dir/CMakeCache.txt" \
   || ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*$cxx\$" "$cmake_dir/CMakeCache.txt"; then
  rm -rf "$cmake_dir"
  cmake -S "$app_dir" -B "$cmake_dir" -DCMAKE_BUILD_TYPE=Release "${toolchain_args[@]}" \
    -DCMAKE_CXX_COMPILER="$cxx" -Dexecutorch_DIR:PATH="$executorch_dir" >/dev/null
fi
cmake --build "$cmake_dir" --parallel "$jobs" >/dev/null
rm -rf "$staging_dir"
cmake --install "$cmake_dir" --prefix "$staging_dir" --strip >/dev/null

# --- the glibc runtime, the loader, bundle.json ---
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$cmake_dir/CMakeCache.txt"; }
readelf_tool="$(cache_value CMAKE_READELF)"
[ -n "$readelf_tool" ] || readelf_tool=readelf
cmake -DBUNDLE_DIR="$staging_dir" -DCXX_COMPILER="$(cache_value CMAKE_CXX_COMPILER)" \
  -DREADELF="$readelf_tool" -P "$app_dir/cmake/bundle_glibc_runtime.cmake" >/dev/null
interpreter="$("$readelf_tool" --wide --program-headers "$staging_dir/splitbench_runner" \
  | sed -n 's/.*program interpreter: \(.*\)]$/\1/p')"
[ -n "$interpreter" ] || fail "$staging_dir/splitbench_runner names no program interpreter"
loader="lib/$(basename "$interpreter")"
cmake -DBUNDLE_DIR="$staging_dir" -DBUNDLE_PLATFORM=android -DBUNDLE_ABI="$abi" \
  -DRUNNER_VERSION="$(sed -n 's/^project(splitbench_runner VERSION \([0-9.]*\).*/\1/p' "$app_dir/CMakeLists.txt")" \
  -DBUNDLE_LIBC=glibc-bundled -DBUNDLE_LOADER="$loader" -DBUNDLE_LIBRARY_PATH=lib \
  -DWHEEL_NAME=executorch -DWHEEL_VERSION="$wheel_version" -DWHEEL_FILE="$wheel_file" \
  -DWHEEL_SHA256="$wheel_sha256" -P "$app_dir/cmake/write_bundle_manifest.cmake"
rm -rf "$bundle_dir"
mv "$staging_dir" "$bundle_dir"
echo "$bundle_dir"
