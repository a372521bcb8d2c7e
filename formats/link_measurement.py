"""The link to the device as measured, link.json in a run folder (docs/formats.md, section 7): push throughput
and round-trip time over the device's adb transport. A measurement, unlike the named network profiles of the
analysis (which are formulas). Written by bench/cloud, read by analysis/ and tests."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from formats.cloud_results import CLOUD_STAGE_ADVICE
from formats.errors import ResultsError
from formats.json_file import read_json_if_present, write_json_atomically
from formats.schema import build_record, check_schema, versioned

LINK_SCHEMA = "splitbench.link"
LINK_SCHEMA_VERSION = 1
LINK_VERSIONS: tuple[int, ...] = (1,)
LINK_FILE = "link.json"


@dataclass(frozen=True)
class LinkMeasurement:
    """`push_*`: pushes of a `push_payload_bytes` file of random bytes; `round_trip_*`: `round_trip_command`
    run in the device's shell and waited for (one adb shell round trip each)."""

    run_id: str
    serial_spec: str
    transport: str
    measured_utc: str
    push_payload_bytes: int
    push_times_s: list[float]
    push_median_s: float
    push_throughput_bytes_per_s: float
    round_trip_command: str
    round_trip_times_ms: list[float]
    round_trip_median_ms: float
    schema: str = LINK_SCHEMA
    schema_version: int = LINK_SCHEMA_VERSION

    def __post_init__(self):
        numbers = [self.push_median_s, self.push_throughput_bytes_per_s, self.round_trip_median_ms,
                   *self.push_times_s, *self.round_trip_times_ms]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in numbers):
            raise ResultsError("link measurement: times and throughput must be finite numbers >= 0")
        if self.push_throughput_bytes_per_s <= 0:
            raise ResultsError("link measurement: push throughput must be above zero; measure the link again")

    def to_json(self) -> dict:
        return versioned(self.schema, self.schema_version, asdict(self))


def write_link_measurement(path: Path, link: LinkMeasurement) -> None:
    write_json_atomically(path, link.to_json())


def check_link_measurement(data: Any, where: str) -> LinkMeasurement:
    check_schema(data, LINK_SCHEMA, LINK_VERSIONS, where, "re-run `python -m bench.cloud RUN_FOLDER`")
    try:
        return build_record(LinkMeasurement, data, f"{where}: link measurement", ResultsError, CLOUD_STAGE_ADVICE)
    except TypeError as error:
        raise ResultsError(f"{where}: malformed link measurement ({error}); {CLOUD_STAGE_ADVICE}") from error


def read_link_measurement(path: Path | str) -> LinkMeasurement | None:
    """The measurement in `path`, None when the file is absent; ResultsError when it is unreadable."""
    data = read_json_if_present(path, CLOUD_STAGE_ADVICE)
    return None if data is None else check_link_measurement(data, str(path))
