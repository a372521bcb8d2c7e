"""Commands that stand in for Android's own on the loopback device: `getprop`, `df` when a quota is set, and
`uname` in an emulated ABI mode.

They are written into a folder that is put first on the device shell's PATH.
"""

from __future__ import annotations

import shlex
import shutil
import stat
from pathlib import Path

from loopback.storage import DEVICE_DATA_MOUNT


def _write_executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def getprop_script(properties: dict[str, str]) -> str:
    cases = "\n".join(f"  {shlex.quote(key)}) echo {shlex.quote(value)} ;;" for key, value in sorted(properties.items()))
    listing = "\n".join(f"[{key}]: [{value}]" for key, value in sorted(properties.items()))
    return (
        "#!/bin/sh\n"
        "# getprop of the splitbench loopback device: this host's facts under Android's property names.\n"
        'if [ "$#" -eq 0 ]; then\n'
        f"  cat <<'SPLITBENCH_PROPERTIES'\n{listing}\nSPLITBENCH_PROPERTIES\n"
        "  exit 0\n"
        "fi\n"
        'case "$1" in\n'
        f"{cases}\n"
        '  *) if [ "$#" -ge 2 ]; then echo "$2"; else echo; fi ;;\n'
        "esac\n"
    )


def df_script(sandbox: Path, quota_bytes: int, real_df: str) -> str:
    """`df` that reports the quota for paths in the sandbox and defers to the real df for anything else."""
    quoted_sandbox = shlex.quote(str(sandbox))
    return (
        "#!/bin/sh\n"
        "# df of the splitbench loopback device: the sandbox (/data/local/tmp) shows its storage quota.\n"
        f"sandbox={quoted_sandbox}\n"
        f"quota_kb={quota_bytes // 1024}\n"
        "in_sandbox=0; other=0\n"
        'for arg in "$@"; do\n'
        '  case "$arg" in\n'
        "    -*) ;;\n"
        '    "$sandbox"|"$sandbox"/*) in_sandbox=1 ;;\n'
        "    *) other=1 ;;\n"
        "  esac\n"
        "done\n"
        f'if [ "$in_sandbox" -eq 0 ] || [ "$other" -eq 1 ]; then exec {shlex.quote(real_df)} "$@"; fi\n'
        'used_kb=$(find "$sandbox" ! -type d -printf \'%s\\n\' | awk \'{ total += $1 } END { print int(total / 1024) }\')\n'
        "free_kb=$(( quota_kb - used_kb )); [ \"$free_kb\" -lt 0 ] && free_kb=0\n"
        "percent=0; [ \"$quota_kb\" -gt 0 ] && percent=$(( (used_kb * 100 + quota_kb - 1) / quota_kb ))\n"
        "echo 'Filesystem     1K-blocks    Used Available Use% Mounted on'\n"
        f"printf '%-14s %9d %7d %9d %3d%% %s\\n' loopback-quota \"$quota_kb\" \"$used_kb\" \"$free_kb\" \"$percent\" {DEVICE_DATA_MOUNT}\n"
    )


def uname_script(machine: str, kernel_os: str, real_uname: str) -> str:
    """`uname` that answers -m and -o as the emulated device (Toybox's order for -a); the rest is this host's."""
    real = shlex.quote(real_uname)
    return (
        "#!/bin/sh\n"
        "# uname of the splitbench loopback device in an emulated ABI mode.\n"
        "flags=''\n"
        'for arg in "$@"; do\n'
        '  case "$arg" in\n'
        '    --all) flags="${flags}snrvmo" ;;\n'
        '    --kernel-name) flags="${flags}s" ;;\n'
        '    --nodename) flags="${flags}n" ;;\n'
        '    --kernel-release) flags="${flags}r" ;;\n'
        '    --kernel-version) flags="${flags}v" ;;\n'
        '    --machine|--processor|--hardware-platform) flags="${flags}m" ;;\n'
        '    --operating-system) flags="${flags}o" ;;\n'
        '    -*) letters="${arg#-}"; case "$letters" in *a*) letters="${letters}snrvmo" ;; esac\n'
        '        case "$letters" in *[pi]*) letters="${letters}m" ;; esac; flags="${flags}${letters}" ;;\n'
        '    *) echo "uname: extra operand $arg" >&2; exit 1 ;;\n'
        "  esac\n"
        "done\n"
        '[ -n "$flags" ] || flags=s\n'
        "out=''\n"
        "for letter in s n r v m o; do\n"
        '  case "$flags" in *"$letter"*) ;; *) continue ;; esac\n'
        '  case "$letter" in\n'
        f"    m) value={shlex.quote(machine)} ;;\n"
        f"    o) value={shlex.quote(kernel_os)} ;;\n"
        f'    *) value=$({real} -"$letter") ;;\n'
        "  esac\n"
        '  out="${out:+$out }$value"\n'
        "done\n"
        "printf '%s\\n' \"$out\"\n"
    )


def write_shims(shim_dir: Path, properties: dict[str, str], sandbox: Path, quota_bytes: int | None,
                uname: tuple[str, str] | None = None) -> None:
    """getprop always; df when a quota is set; uname (machine, kernel OS) in an emulated ABI mode."""
    shim_dir.mkdir(parents=True, exist_ok=True)
    _write_executable(shim_dir / "getprop", getprop_script(properties))
    if uname is not None:
        real_uname = shutil.which("uname") or "/bin/uname"
        _write_executable(shim_dir / "uname", uname_script(*uname, real_uname))
    if quota_bytes is not None:
        real_df = shutil.which("df") or "/bin/df"
        _write_executable(shim_dir / "df", df_script(sandbox, quota_bytes, real_df))
