"""The sweep on a real phone or emulator (ANDROID_SERIAL set, Android runner built); skipped otherwise."""

from __future__ import annotations

import json
import os

import pytest

from bench import run_device

pytestmark = pytest.mark.device


@pytest.mark.skipif(not os.environ.get("ANDROID_SERIAL"), reason="no phone: set ANDROID_SERIAL to run")
def test_sweep_on_the_phone(small_export, tmp_path, capsys):
    manifest_path, _ = small_export
    code = run_device.main(["--serial", os.environ["ANDROID_SERIAL"], "--manifest", str(manifest_path),
                            "--out", str(tmp_path), "--configs", "full,conv5_1_simple", "--backends", "xnnpack",
                            "--launches", "2", "--iterations", "5", "--cooldown-s", "1", "--cooldown-max-s", "5"])
    captured = capsys.readouterr()
    if code == 2 and "no runner built for android-" in captured.err:
        pytest.skip("the Android runner is not built: " + captured.err.strip())
    assert code == 0, captured.err
    (run_folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    rows = [json.loads(line) for line in (run_folder / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows), [r["runner_stderr"] for r in rows]
    assert rows[0]["device"]["platform"] == "android"
    assert all(r["runner"]["affinity"]["cpus_observed"] == [r["core"]] for r in rows)
