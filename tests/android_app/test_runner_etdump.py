"""--etdump: ExecuTorch's ETDumpGen event tracer attached for the timed runs; the trace is read back by
executorch.devtools.Inspector."""

from __future__ import annotations

from runner_helpers import run_runner


def test_etdump_holds_the_timed_runs_and_inspector_reads_it(runner, convstack, tmp_path):
    from executorch.devtools import Inspector

    caps, _ = run_runner(runner, "--version")
    assert caps["etdump"] is True
    trace = tmp_path / "run.etdp"
    result, done = run_runner(runner, "--model", convstack, "--iterations", 7, "--warmup", 2, "--etdump", trace)
    assert done.returncode == 0, done.stderr
    assert result["timing"]["traced"] is True
    assert result["files"]["etdump"] == {"path": str(trace), "size_bytes": trace.stat().st_size}
    assert result["options"]["etdump"] == str(trace)

    inspector = Inspector(etdump_path=str(trace))
    blocks = inspector.event_blocks
    assert [block.name for block in blocks] == ["Execute"]
    events = {event.name: event for event in blocks[0].events}
    # One sample per timed run: load, first inference and warm-ups are left out of the trace.
    assert len(events["Method::execute"].perf_data.raw) == 7
    assert len(events["DELEGATE_CALL"].perf_data.raw) == 7
    # XNNPACK reports its operators too: the three convolutions.
    assert sum(1 for name in events if name.startswith("Convolution")) == 3
    frame = inspector.to_dataframe()
    assert "Method::execute" in set(frame["event_name"])


def test_untraced_runs_say_so(runner, convstack):
    result, done = run_runner(runner, "--model", convstack, "--iterations", 2)
    assert done.returncode == 0, done.stderr
    assert result["timing"]["traced"] is False and result["files"]["etdump"] is None
