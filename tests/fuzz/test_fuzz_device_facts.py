"""Fuzzing the device-facts parser with what a hostile device could print (getprop, /proc and /sys text): it ends
in DeviceFacts or in UnsupportedDevice (one line), and what it returns is bounded and reads back through the
facts' own reader (formats.device_facts) unchanged."""

from __future__ import annotations

from fuzz_inputs import ODD_TEXT, damaged_text
from hypothesis import given
from hypothesis import strategies as st

from bench.device.facts import GETPROP_KEYS, MAX_DEVICE_TEXT_CHARS, parse_device_facts
from bench.errors import UnsupportedDevice
from formats.abi import KNOWN_ABIS
from formats.device_facts import DeviceFacts

SECTIONS = ("uname_o", "uname_m", "getprop", "online", "cpufreq", "thermal", "df", "uid", "drop_caches")
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
@@section:online
0-5,7
@@section:cpufreq
0|1803000|schedutil
7|2802000|
@@section:thermal
0|BIG|45123
3|skin|abc
@@section:df
Filesystem       1K-blocks     Used Available Use% Mounted on
/dev/block/dm-46 114226660 61234560  52861236  54% /data
@@section:uid
2000
@@section:drop_caches
no
"""
NUMBER_TEXT = st.one_of(st.integers(-10**13, 10**13).map(str), st.integers(0, 10**25).map(str), ODD_TEXT)
CPU_RANGE = st.builds(lambda first, last: f"{first}-{last}" if last is not None else str(first),
                      st.integers(0, 10**12), st.one_of(st.none(), st.integers(0, 10**12)))
HOSTILE_LINE = st.one_of(
    st.builds(lambda key, value: f"{key}={value}", st.sampled_from(GETPROP_KEYS), st.one_of(st.text(max_size=80), ODD_TEXT)),
    st.builds(lambda *parts: "|".join(parts), NUMBER_TEXT, st.one_of(st.text(max_size=20), ODD_TEXT), NUMBER_TEXT),
    st.lists(CPU_RANGE, min_size=1, max_size=4).map(",".join),
    st.text(max_size=120),
)
HOSTILE_OUTPUT = st.lists(st.tuples(st.sampled_from(SECTIONS), st.lists(HOSTILE_LINE, max_size=6)), max_size=12).map(
    lambda sections: "\n".join(f"@@section:{name}\n" + "\n".join(lines) for name, lines in sections))


@given(st.one_of(HOSTILE_OUTPUT, damaged_text(PIXEL_OUTPUT), st.text(max_size=500)))
def test_fuzz_device_facts_parser(output):
    try:
        facts = parse_device_facts(output, "fuzzed")
    except UnsupportedDevice as error:
        assert "\n" not in str(error) and "none of the known ABIs" in str(error)
        return
    assert facts.abi is None or facts.abi in KNOWN_ABIS
    for text in (facts.model, facts.manufacturer, facts.fingerprint, facts.soc_model, facts.cpu_emulation,
                 facts.kernel_os, facts.machine, *(core.governor for core in facts.cores),
                 *(zone.type for zone in facts.thermal_zones)):
        assert text is None or len(text) <= MAX_DEVICE_TEXT_CHARS
    assert len(facts.cores) <= 1024 and all(0 <= core.index < 1024 for core in facts.cores)
    assert facts.android_sdk is None or 0 <= facts.android_sdk < 10_000
    assert facts.storage_free_bytes is None or facts.storage_free_bytes < 2**70
    assert DeviceFacts.from_json(facts.to_json()) == facts  # what the sweep records reads back
