"""Network profiles: named uplinks as formulas (with their sources), the measured link as a profile, and a
bandwidth of zero or less refused with one clear error."""

from __future__ import annotations

import pytest

from analysis.network_profiles import (
    LTE,
    InvalidNetworkProfile,
    NetworkProfile,
    measured_profile,
    named_profiles,
    parse_profile,
)
from formats.link_measurement import LinkMeasurement


def test_transfer_is_round_trip_plus_bytes_at_the_uplink_rate():
    lte = LTE
    assert lte.transfer_ms(5_850_000 / 8) == pytest.approx(70.0 + 1000.0)
    assert lte.transfer_ms(0) == 0.0  # nothing sent, nothing waited for
    assert [p.name for p in named_profiles()] == ["3G", "LTE", "Wi-Fi"]
    assert all(p.source for p in named_profiles()) and not any(p.measured for p in named_profiles())


@pytest.mark.parametrize("uplink", [0.0, -5.0, float("nan")])
def test_a_profile_without_positive_bandwidth_is_refused(uplink):
    with pytest.raises(InvalidNetworkProfile, match="bandwidth above zero"):
        NetworkProfile("bad", uplink, 10.0, "test")


def test_network_option_parsing():
    assert parse_profile("5G:50:20") == NetworkProfile("5G", 50.0, 20.0, "given on the command line (--network)")
    with pytest.raises(InvalidNetworkProfile, match="bandwidth above zero"):
        parse_profile("5G:0:20")
    with pytest.raises(InvalidNetworkProfile, match="NAME:UPLINK_MBIT_S:RTT_MS"):
        parse_profile("5G:50")


def test_measured_link_becomes_a_measured_profile():
    link = LinkMeasurement("r", "loopback", "adb", "t", 1_000_000, [0.5, 0.5, 0.5], 0.5, 2_000_000.0, "true",
                           [3.0, 4.0, 5.0], 4.0)
    profile = measured_profile(link)
    assert profile.measured and profile.uplink_mbit_s == pytest.approx(16.0) and profile.rtt_ms == 4.0
