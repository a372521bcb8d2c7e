#!/usr/bin/env bash
# Sets up everything splitbench needs on a fresh Linux machine (x86-64 or aarch64):
# Debian packages (adb, cmake, g++), the Python venv with the pinned stack, and the host build of the runner.
# Idempotent: a second run only checks.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

need_debs=()
for tool in adb cmake g++ taskset; do
  command -v "$tool" >/dev/null 2>&1 || need_debs+=("$tool")
done
if [ "${#need_debs[@]}" -gt 0 ]; then
  pkgs=()
  for tool in "${need_debs[@]}"; do
    case "$tool" in
      g++) pkgs+=(g++) ;;
      taskset) pkgs+=(util-linux) ;;
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
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi

echo "setup: building the host runner (ExecuTorch, and ExecuTorch + TorchScript Lite)"
SPLITBENCH_VENV="$repo/.venv" bash android_app/build_host.sh --with-lite
echo "setup: done"
