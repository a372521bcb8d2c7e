"""Named uplinks between the phone and the cloud, and the link measured to the device at hand.

A named profile is a formula, not a measurement: transfer_ms = rtt_ms + size_bytes * 8 / uplink bandwidth
(one request and its small reply: one round trip; no TCP slow start, no loss, the whole uplink to this one
transfer). The measured link (link.json of the cloud stage) is push throughput and the round trip over the
device's adb transport, put into the same formula."""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.errors import AnalysisError
from formats.link_measurement import LinkMeasurement

NEUROSURGEON = ("uplink as in Neurosurgeon (Kang et al., ASPLOS 2017), the average uplink bandwidths it used "
                "for 3G, LTE and Wi-Fi: 1.1, 5.85 and 18.88 Mbit/s")


class InvalidNetworkProfile(AnalysisError):
    """A network profile with a bandwidth or round trip that cannot be used."""


@dataclass(frozen=True)
class NetworkProfile:
    name: str
    uplink_mbit_s: float
    rtt_ms: float
    source: str
    measured: bool = False

    def __post_init__(self):
        if not isinstance(self.uplink_mbit_s, (int, float)) or not math.isfinite(self.uplink_mbit_s) \
                or self.uplink_mbit_s <= 0:
            raise InvalidNetworkProfile(f"network profile {self.name!r} has uplink bandwidth {self.uplink_mbit_s} "
                                        "Mbit/s; give a bandwidth above zero, e.g. --network LTE:5.85:70")
        if not isinstance(self.rtt_ms, (int, float)) or not math.isfinite(self.rtt_ms) or self.rtt_ms < 0:
            raise InvalidNetworkProfile(f"network profile {self.name!r} has round trip {self.rtt_ms} ms; "
                                        "give a round trip of zero or more milliseconds")

    def transfer_ms(self, size_bytes: float) -> float:
        """Time to send `size_bytes` and get the answer: one round trip plus the bytes at the uplink rate."""
        if size_bytes <= 0:
            return 0.0
        return self.rtt_ms + size_bytes * 8 / (self.uplink_mbit_s * 1e6) * 1e3


THREE_G = NetworkProfile(
    "3G", uplink_mbit_s=1.1, rtt_ms=200.0,
    source=NEUROSURGEON + "; round trip 200 ms assumed (a typical HSPA round trip, not measured here)")
LTE = NetworkProfile(
    "LTE", uplink_mbit_s=5.85, rtt_ms=70.0,
    source=NEUROSURGEON + ("; round trip 70 ms, about the LTE round trip Huang et al. measured "
                           "(MobiSys 2012), assumed here"))
WIFI = NetworkProfile(
    "Wi-Fi", uplink_mbit_s=18.88, rtt_ms=10.0,
    source=NEUROSURGEON + "; round trip 10 ms assumed (a nearby server over a home/office Wi-Fi)")
NAMED_PROFILES: tuple[NetworkProfile, ...] = (THREE_G, LTE, WIFI)


def named_profiles() -> list[NetworkProfile]:
    return list(NAMED_PROFILES)


def measured_profile(link: LinkMeasurement) -> NetworkProfile:
    """The measured adb link as a profile: push throughput and the median shell round trip."""
    return NetworkProfile(
        name="measured adb link", uplink_mbit_s=link.push_throughput_bytes_per_s * 8 / 1e6,
        rtt_ms=link.round_trip_median_ms, measured=True,
        source=(f"measured by the cloud stage to {link.serial_spec} over {link.transport}: median of "
                f"{len(link.push_times_s)} pushes of {link.push_payload_bytes} bytes and of "
                f"{len(link.round_trip_times_ms)} `{link.round_trip_command}` round trips"))


def parse_profile(text: str) -> NetworkProfile:
    """`NAME:UPLINK_MBIT_S:RTT_MS`, e.g. `5G:50:20`; InvalidNetworkProfile on anything else."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[0].strip():
        raise InvalidNetworkProfile(f"--network {text!r} is not NAME:UPLINK_MBIT_S:RTT_MS, e.g. --network 5G:50:20")
    try:
        uplink, rtt = float(parts[1]), float(parts[2])
    except ValueError:
        raise InvalidNetworkProfile(f"--network {text!r}: bandwidth and round trip must be numbers, "
                                    "e.g. --network 5G:50:20") from None
    return NetworkProfile(parts[0].strip(), uplink, rtt, source="given on the command line (--network)")
