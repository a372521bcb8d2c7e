"""No bad program file reaches a device: a file whose sha256 is not the manifest's is refused before anything
is pushed, and device-side sha256 checks read any file name (sha256sum escapes some)."""

from __future__ import annotations

import json
import shlex

from sweep_fakes import HostSandboxConnection, runner_result_json, sha256_of, write_manifest, write_script_bundle

from bench import run_device
from bench.sweep.deploy import DeployItem, DeviceLayout, deploy

QUICK = ["--iterations", "2", "--warmup", "0", "--cooldown-s", "0", "--cooldown-max-s", "0", "--no-drop-caches"]


def test_a_program_file_with_another_sha256_is_refused_before_any_push(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "export", ["full", "conv5_1_simple"])
    (tmp_path / "export" / "conv5_1_simple.xnnpack.pte").write_bytes(b"\x07" * 64)  # same size, other bytes
    bundle = write_script_bundle(tmp_path / "bundle", f"echo {shlex.quote(json.dumps(runner_result_json()))}\n")
    code = run_device.main(["--serial", "loopback", "--manifest", str(manifest), "--out", str(tmp_path / "out"),
                            "--runner-bundle", str(bundle), "--launches", "1", *QUICK])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("error: ") and "conv5_1_simple.xnnpack.pte" in err[0]
    assert "sha256" in err[0] and "re-run the export" in err[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # no run was started


def test_device_side_sha256_reads_names_with_a_backslash_or_a_newline(tmp_path):
    connection = HostSandboxConnection(tmp_path / "sandbox")
    layout = DeviceLayout(root="/data/local/tmp/splitbench")
    items = []
    for index, name in enumerate(["back\\slash.pte", "new\nline.pte", "plain.pte"]):
        local = tmp_path / f"file{index}"
        local.write_bytes(bytes([index]) * 100)
        items.append(DeployItem(local_path=local, device_path=f"{layout.models_dir}/{name}", sha256=sha256_of(local),
                                size_bytes=100, mode=0o644, required=False))
    first = deploy(connection, items, layout)
    assert first.failures == {} and first.files_pushed == 3
    again = deploy(connection, items, layout)
    assert again.failures == {} and again.files_pushed == 0  # the device copies were recognised
