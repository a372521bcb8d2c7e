"""Parsing device facts from captured shell output, and choosing the core."""

import pytest

from bench.device.cores import choose_core
from bench.device.environment import parse_env_snapshot
from bench.device.facts import (
    CoreFacts,
    DeviceFacts,
    parse_cpu_list,
    parse_device_facts,
    parse_df_available_bytes,
    platform_of,
)
from bench.errors import CoreUnavailable

PIXEL_OUTPUT = """\
@@section:uname_o
Android
@@section:uname_m
aarch64
@@section:getprop
ro.product.model=Pixel 6
ro.product.manufacturer=Google
ro.build.version.sdk=33
ro.build.fingerprint=google/oriole/oriole:13/TQ3A/123:user/release-keys
ro.product.cpu.abi=arm64-v8a
ro.soc.model=
@@section:online
0-5,7
@@section:cpufreq
0|1803000|schedutil
1|1803000|schedutil
2|1803000|schedutil
3|1803000|schedutil
4|2253000|schedutil
5|2253000|schedutil
6|2802000|schedutil
7|2802000|
@@section:thermal
0|BIG|45123
1|battery|31000
2||
3|skin|abc
@@section:df
Filesystem       1K-blocks     Used Available Use% Mounted on
/dev/block/dm-46 114226660 61234560  52861236  54% /data
@@section:uid
2000
@@section:drop_caches
no
"""

BOARD_OUTPUT = """\
@@section:uname_o
GNU/Linux
@@section:uname_m
aarch64
@@section:getprop
@@section:online
@@section:cpufreq
@@section:thermal
@@section:df
@@section:uid
0
@@section:drop_caches
writable
"""


def test_android_phone_facts():
    facts = parse_device_facts(PIXEL_OUTPUT, "ABC123")
    assert (facts.model, facts.manufacturer, facts.android_sdk) == ("Pixel 6", "Google", 33)
    assert facts.abi == "arm64-v8a" and facts.platform == "android"
    assert facts.soc_model is None  # empty property -> null
    assert facts.online_core_indices == [0, 1, 2, 3, 4, 5, 7]  # core 6 offline
    assert facts.cores[-1] == CoreFacts(index=7, max_freq_khz=2802000, governor=None)
    assert [(z.key, z.temp_c) for z in facts.thermal_zones] == [
        ("zone0:BIG", 45.123), ("zone1:battery", 31.0), ("zone2:unknown", None), ("zone3:skin", None)]
    assert facts.storage_free_bytes == 52861236 * 1024
    assert not facts.is_root and not facts.can_drop_caches
    assert facts.to_json()["schema"] == "splitbench.device_facts"
    assert DeviceFacts.from_json(facts.to_json()) == facts


def test_linux_board_without_getprop_maps_uname_to_abi_and_missing_files_to_none():
    facts = parse_device_facts(BOARD_OUTPUT, "board")
    assert facts.platform == "linux" and facts.abi == "arm64-v8a"
    assert facts.model is None and facts.android_sdk is None
    assert facts.cores == [] and facts.thermal_zones == [] and facts.storage_free_bytes is None
    assert facts.is_root and facts.can_drop_caches


def test_platform_from_uname_and_sdk():
    assert platform_of("Android", 33) == "android"
    assert platform_of("GNU/Linux", 0) == "linux"  # the loopback device reports SDK 0
    assert platform_of("Toybox", 25) == "android"
    assert platform_of(None, 30) == "android"
    assert platform_of(None, None) is None


def test_cpu_list_and_df_parsing():
    assert parse_cpu_list("0-3,6\n") == [0, 1, 2, 3, 6]
    assert parse_cpu_list("") is None
    assert parse_cpu_list("garbage") is None
    wrapped = "Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/a/very/long/name\n  100 40 60 40% /data\n"
    assert parse_df_available_bytes(wrapped) == 60 * 1024
    assert parse_df_available_bytes("df: /data/local/tmp: No such file") is None


def facts_with(cores):
    return DeviceFacts(serial="s", model=None, manufacturer=None, android_sdk=None, fingerprint=None,
                       soc_model=None, abi="x86_64", platform="linux", kernel_os="GNU/Linux", machine="x86_64",
                       cores=[CoreFacts(i, khz, None) for i, khz in cores])


def test_fastest_core_wins_and_ties_go_to_the_highest_index():
    assert choose_core(parse_device_facts(PIXEL_OUTPUT, "p")) == 7
    assert choose_core(facts_with([(0, 2000), (1, 3000), (2, 3000), (3, 1000)])) == 2
    assert choose_core(facts_with([(0, None), (1, None)])) == 1  # no frequencies: highest index
    assert choose_core(facts_with([])) == 0


def test_requested_core_must_be_online():
    facts = parse_device_facts(PIXEL_OUTPUT, "p")
    assert choose_core(facts, 4) == 4
    with pytest.raises(CoreUnavailable, match="core 6 is not online.*online: 0,1,2,3,4,5,7"):
        choose_core(facts, 6)


def test_env_snapshot_parsing():
    snapshot = parse_env_snapshot("@@section:cur_freq\n1800000\n@@section:thermal\n0|cpu|41500\n1|gpu|39000\n")
    assert snapshot.cpu_cur_freq_khz == 1800000
    assert snapshot.temperatures_c == {"zone0:cpu": 41.5, "zone1:gpu": 39.0}
    assert snapshot.hottest_c == 41.5
    empty = parse_env_snapshot("@@section:cur_freq\n@@section:thermal\n")
    assert empty.cpu_cur_freq_khz is None and empty.hottest_c is None
