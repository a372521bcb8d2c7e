"""The cloud stage's rows, cloud.jsonl in a run folder (docs/formats.md, section 6): one row per split
configuration (and one for the cloud-only baseline) with the bytes that leave the phone, the cloud remainder's
time on the host and the end-to-end check of device output + host remainder against the full model.

Written by bench/cloud one flushed line at a time; read by analysis/ and tests.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from formats.errors import ResultsError
from formats.json_file import JsonLinesWriter
from formats.schema import build_record, check_schema, record_fields, versioned

CLOUD_STAGE_ADVICE = "re-run the cloud stage"  # what to do about a damaged file of the split study's cloud stage

CLOUD_ROW_SCHEMA = "splitbench.cloud_row"
CLOUD_ROW_SCHEMA_VERSION = 1
CLOUD_ROW_VERSIONS: tuple[int, ...] = (1,)
CLOUD_FILE = "cloud.jsonl"
CLOUD_ONLY_CONFIGURATION = "cloud_only"  # the phone sends the input image and runs nothing
# ok: the check passed (or, for a reduced configuration, agreement was measured); mismatch: a simple split's
# prediction differs from the full model's; device_error / cloud_error: that side did not produce an output.
CLOUD_STATUSES = ("ok", "mismatch", "device_error", "cloud_error")
PAYLOADS = ("features", "image")


@dataclass(frozen=True)
class TransferBytes:
    """What leaves the phone: the client's output (or the input image for the cloud-only baseline).

    int8: per-tensor symmetric, scale = max|x| / 127 measured on this very output, plus the 4-byte float32
    scale itself. jpeg_* and uint8_bytes only for the image (payload "image")."""

    payload: str
    shape: list[int]
    float32_bytes: int
    float16_bytes: int
    int8_bytes: int
    int8_scale: float
    max_abs: float
    uint8_bytes: int | None = None
    jpeg_bytes: int | None = None
    jpeg_quality: int | None = None


@dataclass(frozen=True)
class CloudTiming:
    """The remainder's time on the host ("the cloud"): `repeats` executions after one warm-up, median."""

    runtime: str
    backend: str
    threads: int
    host: str
    repeats: int
    load_ms: float
    times_ms: list[float]
    median_ms: float


@dataclass(frozen=True)
class CloudRow:
    run_id: str
    configuration: str
    split_point: str | None
    client_program_id: str | None
    cloud_program_id: str
    reduction_k: int | None
    status: str
    message: str | None
    input: dict            # {"image", "sha256", "size_bytes", "shape"}: what the device was fed
    device: dict | None    # {"status", "exit_code", "input_matches", "wall_s", "output_sha256"} or None (cloud only)
    transfer: TransferBytes | None
    cloud: CloudTiming | None
    check: dict | None     # {"reference", "exact_expected", "tolerance", "full_top1", "split_top1", "top1_agree",
                           #  "logits_rel_error", "by_encoding": {"float32"|"float16"|"int8": {...}}}
    measured_utc: str
    schema: str = CLOUD_ROW_SCHEMA
    schema_version: int = CLOUD_ROW_SCHEMA_VERSION

    def __post_init__(self):
        if self.status not in CLOUD_STATUSES:
            raise ResultsError(f"cloud row status {self.status!r} is not one of {', '.join(CLOUD_STATUSES)}")

    def to_json(self) -> dict:
        return versioned(self.schema, self.schema_version, asdict(self))


def check_cloud_row(data: Any, where: str) -> CloudRow:
    """A checked CloudRow from one parsed line; ResultsError (or UnsupportedSchema) naming `where` otherwise."""
    check_schema(data, CLOUD_ROW_SCHEMA, CLOUD_ROW_VERSIONS, where, "re-run `python -m bench.cloud RUN_FOLDER`")
    values = record_fields(CloudRow, data, f"{where}: cloud row", ResultsError, CLOUD_STAGE_ADVICE)
    try:
        if values["transfer"] is not None:
            values["transfer"] = build_record(TransferBytes, values["transfer"], f"{where}: TransferBytes",
                                              ResultsError, CLOUD_STAGE_ADVICE)
            if values["transfer"].payload not in PAYLOADS:
                raise ResultsError(f"{where}: transfer payload {values['transfer'].payload!r} is not one of {PAYLOADS}")
        if values["cloud"] is not None:
            values["cloud"] = build_record(CloudTiming, values["cloud"], f"{where}: CloudTiming", ResultsError,
                                           CLOUD_STAGE_ADVICE)
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values["cloud"].times_ms):
                raise ResultsError(f"{where}: cloud times_ms must be finite numbers")
        return CloudRow(**values)
    except TypeError as error:
        raise ResultsError(f"{where}: malformed cloud row ({error}); {CLOUD_STAGE_ADVICE}") from error


class CloudRowWriter(JsonLinesWriter):
    """cloud.jsonl written afresh (an earlier file of the folder is replaced), one flushed, fsynced row at a time."""

    def __init__(self, path: Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, append=False)


def read_cloud_rows(path: Path | str) -> list[CloudRow]:
    """Every row of a cloud.jsonl; ResultsError naming the file and line on any bad line, [] when absent."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise ResultsError(f"{where} is not JSON ({error}); {CLOUD_STAGE_ADVICE}") from error
        rows.append(check_cloud_row(data, where))
    return rows
