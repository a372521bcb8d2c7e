"""Where to cut: every split configuration's device time, memory, bytes to the cloud and cloud time, the
end-to-end latency under each network profile, and the best configuration per profile and objective.

Candidates: `full` (everything on the phone, nothing sent), every split configuration the cloud stage measured
(device: the sweep's median inference of its client; cloud: the host's median of its remainder; sent: the client's
output), and the cloud-only baseline twice, sending the image as a JPEG and as the raw float32 tensor (device time
zero). End-to-end = device + transfer (network profile formula) + cloud."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.errors import AnalysisError
from analysis.network_profiles import NetworkProfile
from formats.cloud_results import CLOUD_ONLY_CONFIGURATION, CloudRow
from formats.paper import FULL_CONFIGURATION
from formats.split_points import PAPER_SPLIT_POINTS, split_configuration_key, split_of

DEVICE_BACKEND = "xnnpack"
ENCODINGS = ("float32", "float16", "int8")
CLOUD_ONLY_JPEG = "cloud_only_jpeg"
CLOUD_ONLY_RAW = "cloud_only_raw"
PAPER_MARK = " †"
OBJECTIVES = {
    "end_to_end_any": "end-to-end latency, any configuration",
    "end_to_end_split": "end-to-end latency, split configurations (float32 features)",
    "end_to_end_split_int8": "end-to-end latency, split configurations (int8 features)",
    "device_split": "device time, split configurations",
    "bytes_split": "bytes sent, split configurations (float32 features)",
}


class SplitDecisionError(AnalysisError):
    """The results cannot answer where to cut (no cloud stage, no measured client)."""


@dataclass(frozen=True)
class SplitStudy:
    candidates: pd.DataFrame  # one row per candidate configuration
    latency: pd.DataFrame     # one row per candidate x profile x encoding: device, transfer, cloud, total
    decision: pd.DataFrame    # one row per profile x objective: the best configuration and its value
    profiles: list[NetworkProfile]


def _client_summary(summary: pd.DataFrame) -> pd.DataFrame:
    table = summary[(summary["backend"] == DEVICE_BACKEND) & (summary["format"] == "pte")]
    if table.empty:
        raise SplitDecisionError("the sweep has no successful xnnpack .pte launch; sweep the split study export "
                                 "with --backends xnnpack")
    return table.drop_duplicates("configuration", keep="first").set_index("configuration")


def _load_and_first(client: pd.Series) -> dict:
    """The program's load (warm launches' median, else the first launch's) and first inference (ms)."""
    warm = client.get("warm_load_median_ms")
    load = warm if warm is not None and warm == warm else client.get("first_load_median_ms")
    return {"load_ms": load, "first_inference_ms": client.get("first_inference_median_ms")}


def _bytes_of(row: CloudRow, encoding: str) -> int:
    return int(getattr(row.transfer, f"{encoding}_bytes"))


def split_candidates(summary: pd.DataFrame, cloud_rows: list[CloudRow]) -> pd.DataFrame:
    """The candidate table: one row per configuration (full, splits in network order, cloud-only twice)."""
    clients = _client_summary(summary)
    by_configuration = {row.configuration: row for row in cloud_rows}
    baseline = by_configuration.get(CLOUD_ONLY_CONFIGURATION)
    splits = [row for row in cloud_rows if row.configuration != CLOUD_ONLY_CONFIGURATION]
    if not splits or baseline is None:
        raise SplitDecisionError("the run has no cloud stage results (cloud.jsonl); run "
                                 "`python -m bench.cloud RUN_FOLDER` before the analysis")
    if baseline.transfer is None or baseline.cloud is None:
        raise SplitDecisionError(f"the cloud-only baseline of cloud.jsonl has no measurement (status {baseline.status}: "
                                 f"{baseline.message}); run `python -m bench.cloud RUN_FOLDER` again")
    baseline_transfer, baseline_cloud = baseline.transfer, baseline.cloud
    records = []
    if FULL_CONFIGURATION in clients.index:
        full = clients.loc[FULL_CONFIGURATION]
        records.append(dict(configuration=FULL_CONFIGURATION, kind="on device", split_point=None, paper=False,
                            reduced=False, device_ms=full["median_ms"], **_load_and_first(full), peak_memory_kb=full["peak_memory_median_kb"],
                            steady_memory_kb=full["steady_memory_median_kb"], cloud_ms=0.0,
                            bytes_float32=0, bytes_float16=0, bytes_int8=0, cloud_status="ok",
                            top1_agree=True, logits_rel_error=0.0, int8_top1_agree=True))
    for row in sorted(splits, key=lambda r: split_configuration_key(r.configuration)):
        if row.status not in ("ok", "mismatch") or row.transfer is None or row.cloud is None:
            continue  # listed by the report's end-to-end check table, not a candidate
        if row.configuration not in clients.index:
            continue  # the client was not measured successfully by the sweep
        client = clients.loc[row.configuration]
        split, variant = split_of(row.configuration)
        int8 = (row.check or {}).get("by_encoding", {}).get("int8", {})
        records.append(dict(
            configuration=row.configuration, kind="split", split_point=split,
            paper=split in PAPER_SPLIT_POINTS, reduced=variant != "simple",
            device_ms=client["median_ms"], **_load_and_first(client), peak_memory_kb=client["peak_memory_median_kb"],
            steady_memory_kb=client["steady_memory_median_kb"], cloud_ms=row.cloud.median_ms,
            bytes_float32=_bytes_of(row, "float32"), bytes_float16=_bytes_of(row, "float16"),
            bytes_int8=_bytes_of(row, "int8"), cloud_status=row.status,
            top1_agree=(row.check or {}).get("top1_agree"), logits_rel_error=(row.check or {}).get("logits_rel_error"),
            int8_top1_agree=int8.get("top1_agree")))
    for name, size in ((CLOUD_ONLY_JPEG, baseline_transfer.jpeg_bytes), (CLOUD_ONLY_RAW, baseline_transfer.float32_bytes)):
        records.append(dict(configuration=name, kind="cloud only", split_point=None, paper=False, reduced=False,
                            device_ms=0.0, load_ms=0.0, first_inference_ms=0.0, peak_memory_kb=0.0, steady_memory_kb=0.0, cloud_ms=baseline_cloud.median_ms,
                            bytes_float32=size, bytes_float16=size, bytes_int8=size, cloud_status=baseline.status,
                            top1_agree=True, logits_rel_error=0.0, int8_top1_agree=True))
    return pd.DataFrame.from_records(records)


def latency_table(candidates: pd.DataFrame, profiles: list[NetworkProfile]) -> pd.DataFrame:
    """Per candidate, profile and encoding of the features: device + transfer + cloud (ms)."""
    records = []
    for _, candidate in candidates.iterrows():
        for profile in profiles:
            for encoding in ENCODINGS:
                sent = int(candidate[f"bytes_{encoding}"])
                transfer = profile.transfer_ms(sent)
                records.append(dict(configuration=candidate["configuration"], kind=candidate["kind"],
                                    profile=profile.name, encoding=encoding, bytes_sent=sent,
                                    device_ms=float(candidate["device_ms"]), transfer_ms=transfer,
                                    cloud_ms=float(candidate["cloud_ms"]),
                                    total_ms=float(candidate["device_ms"]) + transfer + float(candidate["cloud_ms"])))
    return pd.DataFrame.from_records(records)


def _label(configuration: str, candidates: pd.DataFrame) -> str:
    row = candidates[candidates["configuration"] == configuration].iloc[0]
    return configuration + (PAPER_MARK if bool(row["paper"]) else "")


def decision_table(candidates: pd.DataFrame, latency: pd.DataFrame, profiles: list[NetworkProfile]) -> pd.DataFrame:
    """The best configuration per profile for each objective (ties: the first in network order)."""
    splits = candidates[candidates["kind"] == "split"]
    records = []
    for profile in profiles:
        rows = latency[latency["profile"] == profile.name]
        float32 = rows[rows["encoding"] == "float32"]
        int8 = rows[rows["encoding"] == "int8"]
        choices = {
            "end_to_end_any": (float32, "total_ms", "ms"),
            "end_to_end_split": (float32[float32["kind"] == "split"], "total_ms", "ms"),
            "end_to_end_split_int8": (int8[int8["kind"] == "split"], "total_ms", "ms"),
            "device_split": (splits, "device_ms", "ms"),
            "bytes_split": (splits, "bytes_float32", "bytes"),
        }
        for objective, (table, column, unit) in choices.items():
            if table.empty:
                continue
            best = table.loc[table[column].astype(float).idxmin()]
            records.append(dict(profile=profile.name, objective=objective, objective_text=OBJECTIVES[objective],
                                best=_label(best["configuration"], candidates), value=float(best[column]), unit=unit))
    return pd.DataFrame.from_records(records)


def split_study(summary: pd.DataFrame, cloud_rows: list[CloudRow], profiles: list[NetworkProfile]) -> SplitStudy:
    if not profiles:
        raise SplitDecisionError("no network profile to decide with; keep the named profiles or pass --network")
    candidates = split_candidates(summary, cloud_rows)
    latency = latency_table(candidates, profiles)
    return SplitStudy(candidates, latency, decision_table(candidates, latency, profiles), profiles)
