#!/usr/bin/env bash
# Sets up everything splitbench needs on a fresh Linux machine (x86-64 or aarch64):
# Debian packages (adb, cmake, g++, the other architecture's cross g++, qemu-user-static), qemu registered
# with binfmt_misc so the other architecture's programs run transparently, the Python venv with the pinned
# stack, the host builds of the runner and the Android runner bundle for phones (arm64-v8a, no NDK).
# Environment: SPLITBENCH_ANDROID_ABIS  Android bundles to build (default "arm64-v8a"; "" for none).
# Idempotent: a second run only checks.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# The Android bundles are built for aarch64 (phones) and x86_64 (the emulator): the architecture this
# host is not needs a cross compiler, and qemu to run the tests of its bundle.
case "$(uname -m)" in
  x86_64) other_arch=aarch64 ;;
  aarch64) other_arch=x86_64 ;;
  *) other_arch="" ;;
esac

need_debs=()
for tool in adb cmake g++ taskset ${other_arch:+"$other_arch-linux-gnu-g++" "qemu-$other_arch-static"}; do
  command -v "$tool" >/dev/null 2>&1 || need_debs+=("$tool")
done
if [ "${#need_debs[@]}" -gt 0 ]; then
  pkgs=()
  for tool in "${need_debs[@]}"; do
    case "$tool" in
      g++) pkgs+=(g++) ;;
      taskset) pkgs+=(util-linux) ;;
      *-linux-gnu-g++) triple="${tool%-g++}"; pkgs+=("g++-${triple//_/-}") ;;
      qemu-*-static) pkgs+=(qemu-user-static) ;;
      *) pkgs+=("$tool") ;;
    esac
  done
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  else
    echo "setup: missing ${need_debs[*]}; run: sudo apt-get install -y ${pkgs[*]}" >&2
    exit 2
  fi
fi

python_bin="${SPLITBENCH_PYTHON:-python3.11}"
if ! command -v "$python_bin" >/dev/null 2>&1; then
  echo "setup: Python 3.11 not found; install it or set SPLITBENCH_PYTHON to its path" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python_bin" -m venv .venv
fi
stamp=.venv/.splitbench-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages (torch, torchvision, executorch, ...) into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test,trained]'
  touch "$stamp"
fi

# binfmt_misc: run the other architecture's ELF programs through qemu, with the F flag (the kernel
# opens the interpreter now, so it also works inside chroots and containers).
binfmt=/proc/sys/fs/binfmt_misc
binfmt_ready() {
  [ -z "$other_arch" ] && return 0
  [ -f "$binfmt/qemu-$other_arch" ] && grep -qx enabled "$binfmt/qemu-$other_arch" \
    && grep -q '^flags: .*F' "$binfmt/qemu-$other_arch"
}
if ! binfmt_ready; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: $other_arch programs cannot run here yet (needed by the tests of the Android bundles, not by a" \
         "phone); run this script once as root (sudo bash scripts/setup.sh) to register qemu-$other_arch with binfmt_misc" >&2
  else
    echo "setup: registering qemu-$other_arch with binfmt_misc (flag F)"
    if [ ! -f "$binfmt/register" ] && ! mount -t binfmt_misc binfmt_misc "$binfmt"; then
      echo "setup: cannot mount binfmt_misc at $binfmt (a container without that right?); $other_arch" \
           "programs will not run here, so the Android bundle tests will fail; a phone needs none of this" >&2
    fi
    # An entry without F (or disabled) is replaced.
    if [ -f "$binfmt/qemu-$other_arch" ]; then echo -1 > "$binfmt/qemu-$other_arch"; fi
    case "$other_arch" in
      aarch64) machine='\xb7\x00' ;;
      x86_64) machine='\x3e\x00' ;;
    esac
    magic='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00'"$machine"
    mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
    if [ -f "$binfmt/register" ]; then
      printf '%s' ":qemu-$other_arch:M::$magic:$mask:$(command -v "qemu-$other_arch-static"):F" > "$binfmt/register"
      binfmt_ready || { echo "setup: qemu-$other_arch did not register with binfmt_misc ($binfmt)" >&2; exit 2; }
    fi
  fi
fi

echo "setup: building the host runner (ExecuTorch, and ExecuTorch + TorchScript Lite)"
SPLITBENCH_VENV="$repo/.venv" bash android_app/build_host.sh --with-lite
for abi in ${SPLITBENCH_ANDROID_ABIS-arm64-v8a}; do
  echo "setup: building the Android runner bundle for $abi (glibc-bundled, from the executorch wheel)"
  SPLITBENCH_PYTHON="$repo/.venv/bin/python" bash android_app/build_android.sh "$abi" >/dev/null
done
echo "setup: done"
