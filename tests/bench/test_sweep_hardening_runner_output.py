"""A runner that exits 0 and prints nothing gets its own clear row message instead of passing for a crash."""

from __future__ import annotations

import json

from sweep_fakes import write_manifest, write_script_bundle

from bench import run_device
from formats.results import ROW_STATUSES

QUICK = ["--iterations", "2", "--warmup", "0", "--cooldown-s", "0", "--cooldown-max-s", "0", "--no-drop-caches"]


def test_a_runner_exiting_0_with_empty_stdout_is_a_runner_error_that_says_so(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "export", ["full"])
    bundle = write_script_bundle(tmp_path / "bundle", "echo 'loaded, then nothing' >&2\nexit 0\n")
    code = run_device.main(["--serial", "loopback", "--manifest", str(manifest), "--out", str(tmp_path / "out"),
                            "--runner-bundle", str(bundle), "--launches", "2", *QUICK])
    assert code == 0, capsys.readouterr().err
    (results,) = (tmp_path / "out").glob("*/results.jsonl")
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["runner_error", "runner_error"]
    assert all(r["status"] in ROW_STATUSES for r in rows)
    for row in rows:
        assert row["runner"] is None and row["runner_exit_code"] == 0
        first, *rest = row["runner_stderr"].splitlines()
        assert "exited with code 0 but printed nothing on stdout (no result JSON)" in first
        assert rest == ["loaded, then nothing"]  # the runner's own stderr follows
