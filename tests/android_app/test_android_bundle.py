"""The glibc-bundled Android runner bundles (android_app/build_android.sh ABI, no NDK).

Each bundle is built once (or reused when newer than its sources), checked against its bundle.json, and run the
way a device runs it: through its own loader under `env -i`. The arm64-v8a bundle runs on an x86-64 host
through qemu-aarch64 registered with binfmt_misc (scripts/setup.sh does that). Its output on a small XNNPACK
program must agree with the host runner's for the same input and seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import struct
import subprocess
from pathlib import Path

import pytest
from android_bundle_builds import ABI_MACHINES, ensure_android_bundle
from runner_builds import APP, RUNNER_EXECUTABLE

pytestmark = pytest.mark.slow  # builds the Android bundles

RUN_TIMEOUT_S = 300
# fp32 agreement between the bundle and the host runner. XNNPACK picks kernels per CPU (NEON under qemu-aarch64,
# AVX on this host), which may sum products in another order: allow 1e-4 of the output's magnitude per value
# (fp32 rounds at 6e-8 relative; the program's longest dot product has a few thousand terms) and, for the sum,
# that much per element. (Measured here: the outputs were bit-identical.)
REL_TOL = 1e-4

ABIS = ["arm64-v8a", "x86_64"]
EM_NAMES = {183: "aarch64", 62: "x86_64"}
PT_LOAD = 1


def elf_machine_and_max_load_align(path: Path) -> tuple[str, int] | None:
    """(machine, largest PT_LOAD p_align) of a 64-bit little-endian ELF file; None for any other file."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        return None
    assert data[4] == 2 and data[5] == 1, f"{path} is not a 64-bit little-endian ELF file"
    (machine,) = struct.unpack_from("<H", data, 18)
    (phoff,) = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    aligns = [0]
    for index in range(phnum):
        entry = phoff + index * phentsize
        (p_type,) = struct.unpack_from("<I", data, entry)
        if p_type == PT_LOAD:
            aligns.append(struct.unpack_from("<Q", data, entry + 48)[0])
    return EM_NAMES.get(machine, f"em_{machine}"), max(aligns)


@pytest.fixture(scope="module", params=ABIS)
def bundle(request) -> tuple[str, Path]:
    abi = request.param
    machine = ABI_MACHINES[abi]
    if platform.machine() != machine:
        entry = Path("/proc/sys/fs/binfmt_misc") / f"qemu-{machine}"
        if not entry.is_file() or not entry.read_text().startswith("enabled"):
            pytest.fail(f"{machine} programs do not run on this {platform.machine()} host: register qemu-{machine} "
                        f"with binfmt_misc (bash scripts/setup.sh does)")
    return abi, ensure_android_bundle(abi)


def launch_command(folder: Path, *args: str) -> list[str]:
    """The bundle's launch line as bundle.json describes it, under `env -i` (nothing of this host's environment)."""
    launch = json.loads((folder / "bundle.json").read_text())["launch"]
    library_path = ":".join(str(folder / entry) for entry in launch["library_path"])
    return ["env", "-i", str(folder / launch["loader"]), "--library-path", library_path,
            str(folder / RUNNER_EXECUTABLE), *args]


def run_json(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, f"{command} exited {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def test_bundle_json_describes_the_files(bundle):
    abi, folder = bundle
    manifest = json.loads((folder / "bundle.json").read_text())
    assert (manifest["schema"], manifest["schema_version"]) == ("splitbench.runner_bundle", 2)
    assert (manifest["platform"], manifest["abi"], manifest["runner"]) == ("android", abi, RUNNER_EXECUTABLE)
    assert manifest["libc"] == "glibc-bundled"

    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"bundle.json"}
    assert set(listed) == on_disk
    for path, entry in listed.items():
        data = (folder / path).read_bytes()
        assert (entry["size_bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest()), path
    for name in ("libc.so.6", "libstdc++.so.6", "libexecutorch.so", "libexecutorch_backend_xnnpack.so"):
        assert f"lib/{name}" in listed

    loader = manifest["launch"]["loader"]
    assert loader in listed and Path(loader).name.startswith("ld-linux-")
    assert manifest["launch"]["library_path"] == ["lib"]

    wheel = manifest["source_wheel"]
    assert (wheel["name"], wheel["version"]) == ("executorch", "1.5.1")
    assert wheel["file"].endswith(f"manylinux_2_28_{ABI_MACHINES[abi]}.whl")
    cached_wheel = APP / "build" / "wheels" / wheel["file"]
    assert hashlib.sha256(cached_wheel.read_bytes()).hexdigest() == wheel["sha256"]

    facts = [f for f in (elf_machine_and_max_load_align(folder / path) for path in listed) if f is not None]
    assert {machine for machine, _ in facts} == {ABI_MACHINES[abi]} == {manifest["elf_machine"]}
    assert manifest["max_elf_load_align_bytes"] == max(align for _, align in facts)
    if abi == "arm64-v8a":  # loadable on 4 KB and 16 KB page devices alike
        assert manifest["max_elf_load_align_bytes"] >= 16384


def test_version_runs_through_the_bundled_loader_with_an_empty_environment(bundle):
    abi, folder = bundle
    caps = run_json(launch_command(folder, "--version"))
    assert caps["schema"] == "splitbench.runner_capabilities"
    assert caps["abi"] == abi
    assert caps["executorch_version"] == "1.5.1"


def test_small_xnnpack_program_agrees_with_the_host_runner(bundle, host_runner_bundle, small_export):
    abi, folder = bundle
    manifest_path, manifest = small_export
    # The client cut after conv5_3, no reduction: 128 ReLU outputs of order 1e-2 (the full model's two logits
    # are of order 1e-4, too small to tell a real difference from rounding).
    entry = next(p for p in manifest.programs if p.role == "client" and p.split_point == "conv5_3"
                 and p.reduction is None and p.noise is None and p.format == "pte" and p.backend == "xnnpack")
    program = manifest_path.parent / entry.file
    data = ("--data", str(manifest_path.parent / entry.data_file)) if entry.data_file else ()
    args = ("--model", str(program), *data, "--iterations", "2", "--warmup", "0", "--input", "random", "--seed", "5")

    ours = run_json(launch_command(folder, *args))
    host = run_json([str(host_runner_bundle / RUNNER_EXECUTABLE), *args])
    assert ours["status"] == host["status"] == "ok"
    assert ours["runner"]["abi"] == abi
    assert ours["output"]["shape"] == host["output"]["shape"] == entry.output_shape

    first, expected_first = ours["output"]["first_values"], host["output"]["first_values"]
    assert len(first) == len(expected_first) == 8
    count = math.prod(entry.output_shape)
    scale = max(max(abs(v) for v in expected_first), abs(host["output"]["sum"]) / count)
    assert scale > 1e-3, f"the output is too close to zero to compare: {host['output']}"
    for got, want in zip(first, expected_first):
        assert abs(got - want) <= REL_TOL * scale, (first, expected_first)
    got_sum, want_sum = ours["output"]["sum"], host["output"]["sum"]
    assert abs(got_sum - want_sum) <= REL_TOL * scale * count, (got_sum, want_sum)


def test_unknown_abi_is_refused_naming_the_abis_that_exist():
    done = subprocess.run(["bash", str(APP / "build_android.sh"), "armeabi-v7a"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "unknown ABI 'armeabi-v7a'" in done.stderr and "arm64-v8a x86_64" in done.stderr
