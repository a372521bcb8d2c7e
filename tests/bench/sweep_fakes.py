"""Test doubles for the sweep: a connection that runs device commands on this host in a
sandbox standing for /data/local/tmp, and helpers writing runner bundles and manifests."""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.adb.device import TransportInfo
from bench.errors import DeviceLost, TransferFailed

DEVICE_TMP = "/data/local/tmp"


@dataclass
class FakeShellResult:
    command: str
    exit_code: int
    output: str


class HostSandboxConnection:
    """Runs `shell` argv on this host (``/data/local/tmp`` rewritten to ``sandbox``); `push` copies files.

    ``lose_after_shells``: the device is lost (DeviceLost) from that shell call on, for
    ``lost_for_calls`` calls, then comes back. ``quota_bytes`` makes pushes beyond it fail.
    """

    transport = TransportInfo(kind="host-sandbox")  # what the device facts record as the transport

    def __init__(self, sandbox: Path, lose_after_shells: int | None = None, quota_bytes: int | None = None):
        self.sandbox = Path(sandbox)
        self.sandbox.mkdir(parents=True, exist_ok=True)
        self.lose_after_shells = lose_after_shells
        self.quota_bytes = quota_bytes
        self.shell_calls = 0
        self.pushed: list[str] = []
        self.closed = False

    def host_path(self, device_path: str) -> Path:
        assert device_path.startswith(DEVICE_TMP), device_path
        return self.sandbox / device_path[len(DEVICE_TMP):].lstrip("/")

    def shell(self, argv: list[str], timeout_s: float = 60) -> FakeShellResult:
        self.shell_calls += 1
        if self.lose_after_shells is not None and self.shell_calls > self.lose_after_shells:
            raise DeviceLost("connection reset by the fake device")
        command = shlex.join(argv).replace(DEVICE_TMP, str(self.sandbox))
        done = subprocess.run(["sh", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout_s, text=True)
        return FakeShellResult(command, done.returncode, done.stdout)

    def push(self, local: str, device_path: str, mode: int = 0o644) -> None:
        target = self.host_path(device_path)
        size = Path(local).stat().st_size
        if self.quota_bytes is not None and size > self.quota_bytes:
            raise TransferFailed(f"push of {device_path} failed: no space left on device")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target)
        target.chmod(mode)
        self.pushed.append(device_path)

    def close(self) -> None:
        self.closed = True


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_script_bundle(folder: Path, runner_script: str, platform: str = "linux", abi: str = "x86_64") -> Path:
    """A runner bundle whose runner is a shell script (for tests that need a runner that misbehaves)."""
    folder.mkdir(parents=True, exist_ok=True)
    runner = folder / "splitbench_runner"
    runner.write_text("#!/bin/sh\n" + runner_script)
    runner.chmod(0o755)
    (folder / "lib").mkdir(exist_ok=True)
    helper = folder / "lib" / "libfake.so"
    helper.write_bytes(b"not really a library")
    files = [{"path": p.relative_to(folder).as_posix(), "sha256": sha256_of(p), "size_bytes": p.stat().st_size,
              "mode": "755" if p == runner else "644"} for p in (runner, helper)]
    (folder / "bundle.json").write_text(json.dumps({
        "schema": "splitbench.runner_bundle", "schema_version": 1, "platform": platform, "abi": abi,
        "files": files, "runner_version": "test"}))
    return folder


def runner_result_json(status: str = "ok", error_kind: str | None = None, iterations: int = 3) -> dict:
    return {
        "schema": "splitbench.runner_result", "schema_version": 1, "status": status, "error_kind": error_kind,
        "message": None if status == "ok" else "could not load",
        "timing": {"program_load_ms": 1.0, "method_load_ms": 2.0, "load_ms": 3.0, "first_inference_ms": 4.0,
                   "warmup_ms": [4.0], "inference_ms": [4.0] * iterations},
    }


def write_manifest(folder: Path, configurations: list[str], backend: str = "xnnpack",
                   file_size_bytes: int = 64) -> Path:
    """A manifest with one program per configuration (files of dummy bytes) and one cloud program."""
    folder.mkdir(parents=True, exist_ok=True)
    programs = []
    for index, configuration in enumerate(configurations + ["conv5_1_cloud_only"]):
        role = "full" if configuration == "full" else ("cloud" if configuration.endswith("cloud_only") else "client")
        file_name = f"{configuration}.{backend}.pte"
        (folder / file_name).write_bytes(bytes([index % 256]) * file_size_bytes)
        programs.append({
            "id": f"{configuration}.{backend}", "configuration": configuration, "role": role,
            "split_point": None if role == "full" else configuration.split("_")[0] + "_" + configuration.split("_")[1],
            "reduction": None, "noise": None, "format": "pte", "backend": backend, "dtype": "float32",
            "file": file_name, "sha256": sha256_of(folder / file_name), "size_bytes": file_size_bytes,
            "input_shape": [1, 3, 32, 32], "input_dtype": "float32", "output_shape": [1, 2],
            "output_dtype": "float32", "output_size_bytes": 8, "param_count": 10, "flops": 100,
            "ptl_bytecode_version": None, "export_time_s": 0.1, "cache_key": "k",
        })
    manifest = {"schema": "splitbench.manifest", "schema_version": 1, "created_utc": "2026-11-23T11:00:00Z",
                "tools": {}, "model": {"arch": "vgg16", "num_classes": 2, "input_size": 32, "width_divisor": 16,
                                       "weights": "seed:0"},
                "programs": programs}
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path
