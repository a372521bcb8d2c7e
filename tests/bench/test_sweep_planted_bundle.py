"""A planted runner bundle (its library a symlink to a file of this host) stops the sweep before anything is pushed:
the host's file never reaches the device."""

import json
import os

import pytest
from sweep_fakes import HostSandboxConnection, sha256_of, write_manifest, write_script_bundle

from bench.adb.reconnect import DeviceLink
from bench.errors import UnsupportedDevice
from bench.sweep.run import RunRequest, execute_run, open_run
from bench.sweep.settings import SweepConfig


def test_a_bundle_linking_to_a_host_file_pushes_nothing(tmp_path):
    secret = tmp_path / "host_secret"
    secret.write_bytes(b"a file of this host that must not leave it")
    bundle = write_script_bundle(tmp_path / "build" / "linux-x86_64" / "bundle", "exit 0\n")
    (bundle / "lib" / "libfake.so").unlink()
    os.symlink(secret, bundle / "lib" / "libfake.so")
    document = json.loads((bundle / "bundle.json").read_text())
    for entry in document["files"]:
        if entry["path"] == "lib/libfake.so":
            entry.update(sha256=sha256_of(secret), size_bytes=secret.stat().st_size)
    (bundle / "bundle.json").write_text(json.dumps(document))
    connection = HostSandboxConnection(tmp_path / "sandbox")
    request = RunRequest(serial_spec="host", results_dir=tmp_path / "out",
                         manifest_path=write_manifest(tmp_path / "export", ["full"]), runner_bundle_dir=bundle,
                         config=SweepConfig(iterations=1, launches=1, cooldown_s=0, cooldown_max_s=0,
                                            drop_caches=False, measure_core_peak=False))
    with pytest.raises(UnsupportedDevice, match="resolves to .*host_secret, outside the bundle folder"):
        execute_run(open_run(request), request, DeviceLink(lambda: connection, attempts=0))
    pushed = [p for p in (tmp_path / "sandbox").rglob("*") if p.is_file()]
    assert all(p.read_bytes() != secret.read_bytes() for p in pushed) and not any("libfake" in p.name for p in pushed)
