"""The split study of the runs that have cloud stage results: its tables, figures and report section."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.figures import FigureFiles
from analysis.loading import LoadedResults
from analysis.markdown import bullet_list, format_value, markdown_table
from analysis.network_profiles import NetworkProfile, measured_profile, named_profiles
from analysis.split_decision import OBJECTIVES, PAPER_MARK, SplitStudy, split_study
from analysis.split_figures import plot_split_study
from analysis.split_prediction import prediction_table
from formats.cloud_results import CLOUD_FILE, CLOUD_ONLY_CONFIGURATION, CloudRow, read_cloud_rows
from formats.layer_profile import LAYER_PROFILE_FILE, LayerProfile, read_layer_profile
from formats.link_measurement import LINK_FILE, LinkMeasurement, read_link_measurement

FIGURES_FOLDER = "figures"


@dataclass
class SplitOutputs:
    section: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[FigureFiles] = field(default_factory=list)


def run_folders(loaded: LoadedResults) -> list[Path]:
    return [run.results_path.parent for run in loaded.runs]


def split_outputs(loaded: LoadedResults, summary: pd.DataFrame, out_dir: Path,
                  extra_profiles: list[NetworkProfile] | None = None) -> SplitOutputs:
    """The split study of the first run folder holding a cloud.jsonl; empty outputs when none does."""
    folder = next((path for path in run_folders(loaded) if (path / CLOUD_FILE).is_file()), None)
    if folder is None:
        return SplitOutputs()
    rows = read_cloud_rows(folder / CLOUD_FILE)
    link = read_link_measurement(folder / LINK_FILE)
    profile = read_layer_profile(folder / LAYER_PROFILE_FILE)
    profiles = named_profiles() + list(extra_profiles or []) + ([measured_profile(link)] if link else [])
    info = next((run.run_info for run in loaded.runs if run.results_path.parent == folder), None) or {}
    run_summary = summary
    if info.get("core") is not None and "core" in summary.columns:  # the swept core of this run
        run_summary = summary[summary["core"] == info["core"]]
    study = split_study(run_summary, rows, profiles)
    prediction = prediction_table(profile, study.candidates) if profile is not None else None
    tables = {"split_candidates": study.candidates, "split_latency": study.latency, "split_decision": study.decision}
    if prediction is not None:
        tables["split_prediction"] = prediction
    figures = plot_split_study(study, out_dir / FIGURES_FOLDER)
    section = render_split_section(folder, study, rows, link, profile, prediction, figures, out_dir)
    return SplitOutputs(section, tables, figures)


def _paper(name: str, paper: bool) -> str:
    return name + (PAPER_MARK if paper else "")


def _profiles_table(profiles: list[NetworkProfile]) -> str:
    table = pd.DataFrame([{"profile": p.name, "uplink": p.uplink_mbit_s, "rtt": p.rtt_ms,
                           "kind": "measurement" if p.measured else "formula", "source": p.source} for p in profiles])
    return markdown_table(table, {"profile": "profile", "uplink": "uplink (Mbit/s)", "rtt": "round trip (ms)",
                                  "kind": "kind", "source": "where the numbers come from"})


def _configuration_table(study: SplitStudy) -> str:
    latency = study.latency[study.latency["encoding"] == "float32"]
    records = []
    for _, row in study.candidates.iterrows():
        record = {"configuration": _paper(row["configuration"], row["paper"]), "load": row["load_ms"],
                  "first": row["first_inference_ms"], "device": row["device_ms"],
                  "memory": row["peak_memory_kb"] / 1024, "fp32": row["bytes_float32"], "fp16": row["bytes_float16"],
                  "int8": row["bytes_int8"], "cloud": row["cloud_ms"],
                  "check": ("agrees" if row["top1_agree"] else "differs") if row["kind"] == "split" else "-",
                  "rel": row["logits_rel_error"] if row["kind"] == "split" else None,
                  "int8_agree": row["int8_top1_agree"] if row["kind"] == "split" else None}
        for profile in study.profiles:
            match = latency[(latency["configuration"] == row["configuration"]) & (latency["profile"] == profile.name)]
            record[f"e2e {profile.name}"] = float(match["total_ms"].iloc[0])
        records.append(record)
    table = pd.DataFrame.from_records(records)
    headers = {"configuration": "configuration", "load": "device load (ms)", "first": "first inference (ms)",
               "device": "device, steady (ms)", "memory": "device peak (MB)",
               "fp32": "sent fp32 (B)", "fp16": "sent fp16 (B)", "int8": "sent int8 (B)", "cloud": "cloud (ms)"}
    headers.update({f"e2e {p.name}": f"end-to-end {p.name} (ms)" for p in study.profiles})
    headers.update({"check": "top-1 vs full", "rel": "logit rel. error", "int8_agree": "top-1 with int8 features"})
    return markdown_table(table, headers)


def _decision_table(study: SplitStudy) -> str:
    wide = study.decision.pivot(index="profile", columns="objective", values="best")
    values = study.decision.pivot(index="profile", columns="objective", values="value")
    records = []
    for profile in study.profiles:
        record = {"profile": profile.name}
        for objective in OBJECTIVES:
            if objective in wide.columns:
                unit = "B" if objective.startswith("bytes") else "ms"
                value = float(values.loc[profile.name, objective])
                shown = f"{int(value)}" if unit == "B" else format_value(value)
                record[objective] = f"{wide.loc[profile.name, objective]} ({shown} {unit})"
        records.append(record)
    return markdown_table(pd.DataFrame.from_records(records),
                          {"profile": "profile", **{k: v for k, v in OBJECTIVES.items() if k in wide.columns}})


def _check_lines(rows: list[CloudRow]) -> list[str]:
    splits = [row for row in rows if row.configuration != CLOUD_ONLY_CONFIGURATION]
    exact = [row for row in splits if row.check and row.check.get("exact_expected")]
    reduced = [row for row in splits if row.check and not row.check.get("exact_expected")]
    lines = [f"{sum(row.status == 'ok' for row in exact)} of {len(exact)} simple split(s) reproduce the full model end "
             "to end (device client output -> host remainder, against the full program on the same input: top-1 equal "
             f"and logits within {(exact[0].check or {})['tolerance'] if exact else 'n/a'} relative)."]
    for row in reduced:
        check = row.check or {}
        lines.append(f"{row.configuration} (PCA, k = {row.reduction_k}): top-1 "
                     f"{'agrees' if check['top1_agree'] else 'differs'}, relative logit error "
                     f"{format_value(check['logits_rel_error'])} (an approximation by design; not a failure).")
    for row in splits:
        if row.status not in ("ok",):
            lines.append(f"{row.configuration}: {row.status}: {row.message}")
    return lines


def _prediction_lines(profile: LayerProfile, prediction: pd.DataFrame) -> list[str]:
    ratios = [r for r in prediction["ratio"] if r is not None and r == r]
    lines = [f"Per-layer profile: {profile.program_id}, {profile.iterations} traced runs on core {profile.core} "
             f"({profile.source}); mapping: {profile.mapping}."]
    if ratios:
        lines.append(f"Predicted / measured client time: median {statistics.median(ratios):.2f}, range "
                     f"{min(ratios):.2f} - {max(ratios):.2f} over {len(ratios)} configuration(s). A ratio below 1 means "
                     "the sum of the layers misses time the client really spends (layout conversions, the delegate "
                     "call, the output copy); the traced run's own times include the tracer's overhead.")
    if profile.method_execute_median_ms is not None:
        lines.append(f"The traced full model: Method::execute median {format_value(profile.method_execute_median_ms)} ms, "
                     f"sum of its mapped layers {format_value(sum(profile.layer_ms().values()))} ms.")
    return lines


def render_split_section(folder: Path, study: SplitStudy, rows: list[CloudRow], link: LinkMeasurement | None,
                         profile: LayerProfile | None, prediction: pd.DataFrame | None, figures: list[FigureFiles],
                         out_dir: Path) -> str:
    baseline = next(row for row in rows if row.configuration == CLOUD_ONLY_CONFIGURATION)
    cloud = baseline.cloud
    assert baseline.transfer is not None and cloud is not None, "split_candidates refuses a baseline without them"
    parts = [
        "## Where to cut: the split study",
        "",
        f"From `{folder}`: every split configuration's client measured on the device by the sweep, its real output "
        "run through its cloud remainder on this host by the cloud stage, and the bytes between them. Candidates: "
        "`full` (all on the phone, nothing sent), each split (sending the client's output), and the cloud-only "
        "baseline (the phone sends the image and computes nothing) as a JPEG "
        f"(quality {baseline.transfer.jpeg_quality}, {baseline.transfer.jpeg_bytes} B) and as the raw float32 tensor "
        f"({baseline.transfer.float32_bytes} B). Image: {baseline.input['image']}. † marks the paper's split points.",
        "",
        f"The cloud: {cloud.runtime}, {cloud.threads} thread(s) on {cloud.host}; median of {cloud.repeats} executions. "
        "End-to-end = device time (the sweep's median inference) + transfer + cloud time. Transfer under a named "
        "profile is a formula, not a measurement: round trip + bytes x 8 / uplink bandwidth.",
        "",
        "### Network profiles",
        "",
        _profiles_table(study.profiles),
    ]
    if link is None:
        parts += ["", "The link to the device was not measured (the cloud stage ran with --no-link)."]
    parts += ["", "### Per configuration", "", _configuration_table(study),
              "", "### Best split per profile", "", _decision_table(study),
              "", "### End-to-end check", "", bullet_list(_check_lines(rows))]
    if profile is not None and prediction is not None:
        parts += ["", "### Neurosurgeon-style prediction from the per-layer profile", "",
                  bullet_list(_prediction_lines(profile, prediction)), "",
                  markdown_table(prediction, {"configuration": "configuration", "predicted_ms": "predicted (ms)",
                                              "measured_ms": "measured (ms)", "ratio": "predicted / measured"})]
    else:
        parts += ["", "No per-layer profile in this run (layer_profile.json is missing: the device's runner has no "
                      "ETDump, or the cloud stage ran with --profile-iterations 0)."]
    for figure in figures:
        png = next(path for path in figure.paths if path.suffix == ".png")
        parts += ["", f"![{figure.title}]({png.relative_to(out_dir).as_posix()})"]
    return "\n".join(parts)
