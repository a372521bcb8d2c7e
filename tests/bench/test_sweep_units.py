"""Pure pieces of the sweep: launch classification, cool-down, progress estimate, program
order and filters, runner bundle choice, settings, resume bookkeeping, reconnection."""

import dataclasses
import json

import pytest
from sweep_fakes import runner_result_json, write_manifest, write_script_bundle

from bench.adb.reconnect import DeviceLink
from bench.device.cooldown import CooldownPolicy, cool_down
from bench.errors import DeviceLost, DeviceUnreachable, SettingsError, UnsupportedDevice
from bench.sweep.deploy import DeviceLayout
from bench.sweep.launch import classify_launch
from bench.sweep.loop import SweepPlan
from bench.sweep.programs import load_manifest_file, program_from_entry, select_programs
from bench.sweep.progress import PendingLaunch, ProgressEvent, RemainingTimeEstimator, format_progress
from bench.sweep.runners import find_runner_bundle
from bench.sweep.settings import SweepConfig
from formats.device_facts import DeviceFacts
from formats.errors import ManifestError
from formats.runner_result import find_runner_result

PAPER = ["full", "conv5_1_simple", "conv5_2_simple", "conv5_3_simple",
         "conv5_1_reduced", "conv5_2_reduced", "conv5_3_reduced"]


def test_classify_launch():
    ok = json.dumps(runner_result_json())
    error = json.dumps(runner_result_json(status="error", error_kind="model_corrupt"))
    assert classify_launch(0, ok, 1.0, 60)[0] == "ok"
    assert classify_launch(0, "log line\n" + ok, 1.0, 60)[0] == "ok"  # JSON on the last line
    assert classify_launch(1, error, 1.0, 60)[0] == "runner_error"
    assert classify_launch(139, "", 1.0, 60) == ("runner_crash", None)  # SIGSEGV
    assert classify_launch(0, "Segmentation fault", 1.0, 60) == ("runner_crash", None)  # not JSON
    assert classify_launch(124, "", 60.0, 60)[0] == "timeout"
    assert classify_launch(137, "", 61.0, 60)[0] == "timeout"  # killed after the limit
    assert classify_launch(137, "", 2.0, 60)[0] == "runner_crash"  # killed early: not our limit
    assert find_runner_result('{"schema": "other"}') is None


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_cooldown_waits_until_back_near_baseline():
    clock = FakeClock()
    temperatures = iter([50.0, 48.0, 45.0, 42.5, 41.9, 40.0])
    result = cool_down(CooldownPolicy(pause_s=5, max_s=60, margin_c=2), 40.0, lambda: next(temperatures),
                       sleep=clock.sleep, clock=clock)
    assert result.reached_target and result.hottest_end_c == 41.9
    assert result.waited_s == 5 + 3 * 2


def test_cooldown_is_capped_and_plain_pause_without_temperatures():
    clock = FakeClock()
    result = cool_down(CooldownPolicy(pause_s=5, max_s=20, margin_c=2), 40.0, lambda: 70.0,
                       sleep=clock.sleep, clock=clock)
    assert not result.reached_target and result.waited_s == 20
    clock = FakeClock()
    result = cool_down(CooldownPolicy(pause_s=5, max_s=60, margin_c=2), None, lambda: None,
                       sleep=clock.sleep, clock=clock)
    assert result.waited_s == 5 and not result.reached_target


def test_progress_estimate_repeats_known_programs_scales_others_and_adds_cooldowns():
    estimator = RemainingTimeEstimator(cooldown_s=5)
    full = PendingLaunch(1, "full", 0, work=100)
    client = PendingLaunch(2, "client", 0, work=1000)
    assert estimator.estimate_s([full, client], 1) is None
    estimator.record_launch(full, wall_s=2.0)
    estimator.record_launch(PendingLaunch(1, "full", 1, work=100), wall_s=4.0)  # 3 s each, 0.03 s per unit
    assert estimator.estimate_s([PendingLaunch(1, "full", 2, work=100), client], 1) == pytest.approx(3.0 + 30.0 + 5)
    zero = RemainingTimeEstimator(cooldown_s=0)
    zero.record_launch(PendingLaunch(1, "a", 0, work=0), wall_s=3.0)
    assert zero.estimate_s([PendingLaunch(2, "b", 0, work=0)] * 2, 0) == pytest.approx(6.0)
    line = format_progress(ProgressEvent("launch", "full.xnnpack", 1, 7, 0, 3, 2, 21, 65.0, 3725.0))
    assert "[2/21]" in line and "left ~1h02m05s" in line and "full.xnnpack launch 1/3" in line


def test_program_work_is_flops_else_size(tmp_path):
    entry = load_manifest_file(write_manifest(tmp_path, ["full"])).manifest.programs[0]
    entry = dataclasses.replace(entry, size_bytes=50, flops=7000)
    assert program_from_entry(entry, tmp_path).work == 7000
    assert program_from_entry(dataclasses.replace(entry, flops=0), tmp_path).work == 50


def test_programs_in_paper_order_filtered_cloud_left_out(tmp_path):
    manifest_path = write_manifest(tmp_path, ["conv4_3_simple"] + list(reversed(PAPER)))
    manifest = load_manifest_file(manifest_path)
    programs = select_programs(manifest)
    assert [p.configuration for p in programs] == PAPER + ["conv4_3_simple"]
    chosen = select_programs(manifest, configurations=["conv5_2_reduced", "full"], backends=["xnnpack"])
    assert [p.program_id for p in chosen] == ["full.xnnpack", "conv5_2_reduced.xnnpack"]
    assert select_programs(manifest, formats=["pte"]) == programs  # every program here is a .pte
    with pytest.raises(ManifestError, match="--configs names conv9_9_simple"):
        select_programs(manifest, configurations=["conv9_9_simple"])
    with pytest.raises(ManifestError, match="--backends names lite"):
        select_programs(manifest, backends=["lite"])
    with pytest.raises(ManifestError, match="--formats names ptl"):
        select_programs(manifest, formats=["ptl"])


def test_manifest_errors_are_one_clear_line(tmp_path):
    with pytest.raises(ManifestError, match="does not exist"):
        load_manifest_file(tmp_path / "missing.json")
    path = write_manifest(tmp_path, ["full"])
    data = json.loads(path.read_text())
    data["schema_version"] = 7
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="schema_version 7"):
        load_manifest_file(path)


def linux_facts(abi="x86_64", platform="linux"):
    return DeviceFacts(serial="s", model=None, manufacturer=None, android_sdk=None, fingerprint=None,
                       soc_model=None, abi=abi, platform=platform, kernel_os="GNU/Linux", machine="x86_64")


def test_runner_bundle_choice(tmp_path):
    build_root = tmp_path / "build"
    write_script_bundle(build_root / "linux-x86_64" / "bundle", "exit 0\n")
    assert find_runner_bundle(linux_facts(), build_root=build_root).abi == "x86_64"
    with pytest.raises(UnsupportedDevice, match="no runner built for android-arm64-v8a.*build_android.sh"):
        find_runner_bundle(linux_facts("arm64-v8a", "android"), build_root=build_root)
    with pytest.raises(UnsupportedDevice, match="is for linux-x86_64 but s is android-arm64-v8a"):
        find_runner_bundle(linux_facts("arm64-v8a", "android"), folder=build_root / "linux-x86_64" / "bundle")
    with pytest.raises(UnsupportedDevice, match="platform/ABI"):
        find_runner_bundle(linux_facts(abi=None))
    for abi in ("armeabi-v7a", "riscv64"):
        with pytest.raises(UnsupportedDevice, match=f"an Android {abi} device; .* Android arm64-v8a and x86_64 only"):
            find_runner_bundle(linux_facts(abi, "android"), build_root=build_root)


def test_settings_are_checked_and_round_trip():
    with pytest.raises(SettingsError, match="--launches is 0; it must be at least 1"):
        SweepConfig(launches=0)
    with pytest.raises(SettingsError, match="--cooldown-max-s"):
        SweepConfig(cooldown_s=10, cooldown_max_s=5)
    config = SweepConfig(iterations=5, configurations=("full",), backends=("xnnpack",))
    assert SweepConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


def test_resume_plan_skips_completed_launches(tmp_path):
    programs = select_programs(load_manifest_file(write_manifest(tmp_path, ["full", "conv5_1_simple"])))
    plan = SweepPlan(run_id="r", programs=programs, config=SweepConfig(launches=3), core=0, layout=DeviceLayout(),
                     device=linux_facts(), completed=frozenset({("full.xnnpack", 0), ("full.xnnpack", 2)}))
    assert plan.pending(programs[0]) == [1]
    assert plan.pending(programs[1]) == [0, 1, 2]


def test_device_link_reconnects_with_backoff_then_gives_up():
    waits = []
    connections = []

    def connect():
        connections.append(object())
        return connections[-1]

    failures = iter([True, True, False])

    def flaky(_connection):
        if next(failures):
            raise DeviceLost("gone")
        return "done"

    link = DeviceLink(connect, attempts=3, backoff_s=1.0, sleep=waits.append)
    assert link.call(flaky) == "done"
    assert waits == [1.0, 2.0] and len(connections) == 3 and link.reconnections == 2

    def always_lost(_connection):
        raise DeviceLost("gone for good")

    link = DeviceLink(connect, attempts=2, backoff_s=1.0, sleep=lambda s: None)
    with pytest.raises(DeviceLost):
        link.call(always_lost)


def test_device_link_does_not_retry_a_device_that_never_answered():
    waits = []

    def unreachable():
        raise DeviceUnreachable("no ADB device answered")

    link = DeviceLink(unreachable, attempts=4, backoff_s=1.0, sleep=waits.append)
    with pytest.raises(DeviceUnreachable):
        link.call(lambda connection: None)
    assert waits == [] and not link.ever_connected
