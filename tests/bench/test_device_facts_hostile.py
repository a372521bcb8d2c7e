"""A device is a stranger: what it reports is validated before it becomes a host path, a number or a line."""

from pathlib import Path

import pytest

from bench.device.facts import collect_device_facts, parse_device_facts
from bench.errors import UnsupportedDevice
from bench.sweep.runners import bundle_folder_for, find_runner_bundle
from tests.bench.sweep_fakes import FakeShellResult, write_script_bundle

HOSTILE_ABI = "x86_64/../../../../tmp/X"


def facts_output(abi: str = "x86_64", model: str = "Pixel", sdk: str = "33", online: str = "0-1",
                 df_available: str = "1000") -> str:
    return (
        "@@section:uname_o\nAndroid\n@@section:uname_m\nx86_64\n@@section:getprop\n"
        f"ro.product.model={model}\nro.build.version.sdk={sdk}\nro.product.cpu.abi={abi}\n"
        f"@@section:online\n{online}\n@@section:cpufreq\n0|1800000|schedutil\n"
        "@@section:thermal\n0|cpu|41000\n@@section:df\nFilesystem 1K-blocks Used Available Use% Mounted on\n"
        f"/dev/x 2000 1000 {df_available} 50% /data\n@@section:uid\n2000\n@@section:drop_caches\nno\n")


class CannedDevice:
    """A device whose shell answers every script with the same text."""

    def __init__(self, output: str):
        self.output = output

    def shell(self, argv, timeout_s=60):
        return FakeShellResult(" ".join(argv), 0, self.output)


def test_an_abi_that_climbs_out_of_the_build_folder_is_refused_in_one_line(tmp_path, monkeypatch):
    planted = tmp_path / "X" / "bundle"
    write_script_bundle(planted, "#!/bin/sh\necho planted\n", platform="android", abi=HOSTILE_ABI)
    opened: list[Path] = []
    real_is_file = Path.is_file
    monkeypatch.setattr(Path, "is_file", lambda self: opened.append(self) or real_is_file(self))
    with pytest.raises(UnsupportedDevice) as refused:
        collect_device_facts(CannedDevice(facts_output(abi=HOSTILE_ABI)), "hostile")
    message = str(refused.value)
    assert "\n" not in message and "none of the known ABIs" in message and "x86_64/../" in message
    assert opened == []  # refused before any host path was built from it


def test_an_abi_outside_the_known_ones_never_names_a_host_folder(tmp_path):
    with pytest.raises(UnsupportedDevice, match="unknown platform-ABI"):
        bundle_folder_for("android", HOSTILE_ABI, tmp_path)
    with pytest.raises(UnsupportedDevice):
        bundle_folder_for("../android", "x86_64", tmp_path)


def test_a_facts_object_with_a_hostile_abi_is_refused_by_the_bundle_finder(tmp_path):
    facts = parse_device_facts(facts_output(), "ok")
    hostile = type(facts)(**{**facts.__dict__, "abi": HOSTILE_ABI})
    with pytest.raises(UnsupportedDevice):
        find_runner_bundle(hostile, build_root=tmp_path)


@pytest.mark.parametrize("sdk", ["²³", "3" * 5000, "33.0", "0x21", "1_000", "-33"])
def test_numbers_are_ascii_digits_of_bounded_length(sdk):
    assert parse_device_facts(facts_output(sdk=sdk), "d").android_sdk is None


def test_a_huge_cpu_list_or_size_is_not_believed():
    facts = parse_device_facts(facts_output(online="0-5000", df_available="9" * 400), "d")
    assert facts.cores == [] or all(core.index < 1024 for core in facts.cores)
    assert facts.storage_free_bytes is None


def test_device_text_is_bounded():
    facts = parse_device_facts(facts_output(model="M" * 100_000), "d")
    assert facts.model is not None and len(facts.model) <= 256
