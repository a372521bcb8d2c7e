"""Writes report.md: setup, the reproduction of the paper's two ratios, figures, summary tables, failures, differences."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis.caveats import measurement_caveats
from analysis.devices import device_kind, device_label
from analysis.figures import FigureFiles
from analysis.loading import LoadedResults
from analysis.markdown import bullet_list, format_value, markdown_table
from analysis.paper_setup import PAPER_DEVICE, PAPER_RUNTIME, differences_from_paper
from analysis.reproduction import (
    HEADLINE_MEASURE_NAMES,
    MEAN_OF_SPLITS,
    PAPER_LOAD_INCREASE_PERCENT,
    PAPER_MEMORY_INCREASE_PERCENT,
    PLATFORM_KEYS,
    ratio_explanations,
)
from analysis.run_context import RunContext
from analysis.tidy import TidyTables
from formats.display_text import shown
from stats.significance import significance_text

KB_PER_MB = 1024.0


@dataclass(frozen=True)
class ReportInputs:
    input_paths: list[Path]
    out_dir: Path
    loaded: LoadedResults
    contexts: list[RunContext]
    tables: TidyTables
    summary: pd.DataFrame
    reproduction: pd.DataFrame
    comparison: pd.DataFrame
    int8: pd.DataFrame
    figures: list[FigureFiles]
    table_paths: dict[str, Path]
    split_section: str = ""  # analysis.split_report: where to cut (runs with cloud stage results)
    cross_device_section: str = ""  # analysis.cross_device: the devices compared (results of 2+ devices)
    trained_section: str = ""  # analysis.trained_network: the trained network (runs of scripts/trained_study.py)


def _range_text(value_range: tuple | None, scale: float, unit: str) -> str:
    if value_range is None:
        return "not readable"
    low, high = (value * scale for value in value_range)
    text = f"{format_value(low)}" if low == high else f"{format_value(low)} - {format_value(high)}"
    return f"{text} {unit}".strip()


def _pinning_text(context: RunContext) -> str:
    observed = context.ok_launches - context.ok_launches_unobserved_core
    text = f"{observed - context.ok_launches_seen_off_core} of {context.ok_launches} successful launches ran only on the requested core"
    if context.ok_launches_seen_off_core:
        text += f"; {context.ok_launches_seen_off_core} ran on another CPU too"
    if context.ok_launches_unobserved_core:
        text += f"; {context.ok_launches_unobserved_core} could not tell"
    return text


def _cores_text(context: RunContext) -> str:
    return ", ".join(
        f"{core} ({max_freq_khz / 1e6:.2f} GHz max)" if (max_freq_khz := context.core_max_freq_khz.get(core))
        else f"{core} (max frequency unknown)"
        for core in context.cores)


def _cold_load_text(context: RunContext) -> str:
    if context.page_cache_dropped_launches:
        return f"yes, {context.page_cache_dropped_launches} of {context.first_launches} first launches"
    return {True: "possible, not done", False: "no (no root)", None: "unknown"}[context.drop_caches_possible]


def _cooldown_text(context: RunContext) -> str:
    if context.cooldown_s is None:
        return "unknown"
    text = f"{format_value(float(context.cooldown_s))} s"
    if context.cooldown_max_s is not None:
        text += f" (up to {format_value(float(context.cooldown_max_s))} s while hot)"
    return text


def _joined(values) -> str:
    return ", ".join(str(value) for value in values) or "unknown"


def _setup_records(context: RunContext) -> list[tuple[str, str]]:
    device = context.device
    manufacturer = f"{shown(device.manufacturer)} " if device.manufacturer else ""
    return [
        ("run", context.run_id),
        ("device", f"{manufacturer}{device_label(device)} ({device_kind(device)})"),
        ("ABI / platform / SDK", f"{device.abi or 'unknown'} / {device.platform or 'unknown'} / {device.android_sdk or 'n/a'}"),
        ("core (max frequency)", _cores_text(context)),
        ("pinning seen by the runner", _pinning_text(context)),
        ("threads", _joined(context.threads)),
        ("timed inferences per launch", _joined(context.iterations)),
        ("timed inferences recorded per successful launch", _range_text(context.recorded_inferences_range, 1, "")),
        ("time cap per launch", f"{context.time_cap_ms} ms" if context.time_cap_ms else "none"),
        ("warm-up inferences", _joined(context.warmup)),
        ("launches per program", str(context.launches_per_program)),
        ("cool-down between programs", _cooldown_text(context)),
        ("cold loads (page cache dropped)", _cold_load_text(context)),
        ("core frequency seen around launches", _range_text(context.core_freq_range_khz, 1e-6, "GHz")),
        ("hottest thermal zone around launches", _range_text(context.hottest_zone_range_c, 1.0, "C")),
        ("harness versions", ", ".join(f"{name} {value}" for name, value in context.harness_versions.items()) or "not recorded"),
    ]


def _setup_section(contexts: list[RunContext]) -> str:
    records = [record for context in contexts for record in _setup_records(context)]
    return "## Setup\n\n" + markdown_table(pd.DataFrame(records, columns=["setting", "value"]))


def _headline_sentences(headline: pd.DataFrame) -> list[str]:
    sentences = []
    for key, platform in headline.groupby(PLATFORM_KEYS, sort=False):
        device, core, threads, _, backend = key
        by_quantity = platform.set_index("quantity")
        parts = [f"{by_quantity.at[quantity, 'increase_percent']:.2f}% more {quantity} "
                 f"({by_quantity.at[quantity, 'measure']}; paper {by_quantity.at[quantity, 'paper_increase_percent']}%)"
                 for quantity in ("memory", "load time") if quantity in by_quantity.index]
        sentences.append(f"{device}, core {core}, {threads} thread(s), {backend}: the full model needs " + " and ".join(parts) + ".")
    return sentences


def _reproduction_section(reproduction: pd.DataFrame, summary: pd.DataFrame, launches: pd.DataFrame) -> str:
    parts = [
        "## Reproduction of the paper's full vs split ratios",
        "",
        f"The paper reports two numbers only: the full model needs {PAPER_MEMORY_INCREASE_PERCENT}% more memory and "
        f"{PAPER_LOAD_INCREASE_PERCENT}% more loading time than the split (client) models. The per-configuration values "
        "behind its Figs. 13-15 are not available as text, so only these two ratios can be set beside ours.",
        "",
        f"Increase = (full - split) / split x 100 %. Headline reading: memory = {HEADLINE_MEASURE_NAMES['memory']} and "
        f"load time = {HEADLINE_MEASURE_NAMES['load time']} (falling back to the first load when a program was launched "
        f"only once), each the median over launches; split = the {MEAN_OF_SPLITS} (the six of the paper when all were "
        "measured), since the paper does not say which split model its ratios refer to.",
    ]
    if reproduction.empty:
        parts += ["", "No ratio can be computed: the results hold no successful `full` launch together with a split configuration."]
        return "\n".join(parts)
    headline = reproduction[reproduction["headline"]]
    parts += ["", "### Headline", "", bullet_list(_headline_sentences(headline)), "", markdown_table(headline, {
        "device": "device", "core": "core", "backend": "backend", "quantity": "quantity", "measure": "measure",
        "full_value": "full", "split_value": "split (mean)", "split_count": "splits averaged", "unit": "unit", "increase_percent": "ours (%)",
        "paper_increase_percent": "paper (%)",
    })]
    explanations = ratio_explanations(summary, launches)
    if explanations:
        parts += ["", "### Why each backend's ratio lands where it does", "",
                  "The paper's memory ratio (x3.18) is far below the ratio of the weights (about x9 for VGG-16): a "
                  "runtime's fixed memory counts in every program. From this run:", "", bullet_list(explanations)]
    parts += ["", "Every other reading (each split configuration, the smallest and largest split, steady memory, "
              "first load) is in [tables/reproduction.csv](tables/reproduction.csv)."]
    return "\n".join(parts)


def _figures_section(figures: list[FigureFiles], out_dir: Path) -> str:
    if not figures:
        return "## Figures\n\nNo figures: the results hold no successful launch."
    parts = ["## Figures"]
    for figure in figures:
        png = next(path for path in figure.paths if path.suffix == ".png")
        svg = next((path for path in figure.paths if path.suffix == ".svg"), None)
        parts += ["", f"### {figure.title}", "", f"![{figure.title}]({png.relative_to(out_dir).as_posix()})"]
        if svg:
            parts += ["", f"Vector version: [{svg.name}]({svg.relative_to(out_dir).as_posix()})"]
    return "\n".join(parts)


def _summary_section(summary: pd.DataFrame) -> str:
    if summary.empty:
        return "## Summary tables\n\nNo successful launch to summarise."
    summary = summary.assign(
        peak_memory_median_mb=summary["peak_memory_median_kb"] / KB_PER_MB,
        steady_memory_median_mb=summary["steady_memory_median_kb"] / KB_PER_MB,
        coefficient_of_variation_percent=summary["coefficient_of_variation"] * 100.0,
        median_interval=[f"{low:.4g} - {high:.4g} ({unit})" if pd.notna(low) else "" for low, high, unit in
                         zip(summary["median_ci_low_ms"], summary["median_ci_high_ms"], summary["median_ci_unit"])],
        preempted_percent=summary["preempted_share"] * 100.0,
        peak_percent=summary["peak_fraction"] * 100.0,
    )
    parts = ["## Summary tables", "",
             "Inference statistics pool every timed inference of every successful launch (std: sample standard "
             "deviation; p5/p95/IQR: linear interpolation; CV = std / mean). The median's 95% interval is a bootstrap "
             "(2000 resamples) over samples, or over whole launches when the launches' medians differ by more than the "
             "samples' interval (stats/confidence.py). Preempted = share of samples whose wall time exceeded the "
             "thread's CPU time by more than max(2%, 0.2 ms) (runner result v2; empty for older results). Load and "
             "memory columns are medians over launches. GFLOP/s = the program's FLOPs / median inference time; % of "
             "peak = that over the pinned core's peak fp32 FMA rate as the runner measured it (--measure-peak). "
             "Output = bytes the client would send."]
    for key, panel in summary.groupby(["device", "core", "threads", "arch"], sort=False):
        parts += ["", f"### {key[0]}, core {key[1]}, {key[2]} thread(s), {key[3]}", "", "Inference time (ms):", "",
                  markdown_table(panel, {
                      "configuration": "configuration", "backend": "backend", "n_samples": "n", "n_launches": "launches",
                      "median_ms": "median", "mean_ms": "mean", "std_ms": "std", "p5_ms": "p5", "p95_ms": "p95",
                      "iqr_ms": "IQR", "coefficient_of_variation_percent": "CV (%)",
                      "median_interval": "median 95% interval", "median_ci_half_width_pct": "+-%",
                      "preempted_percent": "preempted (%)", "first_inference_median_ms": "first inference",
                      "achieved_gflop_per_s": "GFLOP/s", "peak_percent": "% of peak"}),
                  "", "Loading time (ms), memory (MB) and output size:", "",
                  markdown_table(panel, {
                      "configuration": "configuration", "backend": "backend", "n_first_launches": "first launches",
                      "n_warm_launches": "warm launches", "first_load_median_ms": "first load",
                      "warm_load_median_ms": "warm load", "peak_memory_median_mb": "peak memory",
                      "steady_memory_median_mb": "steady memory", "output_size_bytes": "output (bytes)",
                      "model_size_bytes": "program file (bytes)"})]
    return "\n".join(parts)


MESSAGE_EXCERPT_CHARS = 160


def failure_groups(failures: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, program, status, error kind): which launches failed and the first message (or stderr)."""
    records = []
    for (run_id, program_id, status, error_kind), group in failures.fillna({"error_kind": ""}).groupby(
            ["run_id", "program_id", "status", "error_kind"], sort=False):
        first = group.iloc[0]
        message = first["message"] if isinstance(first["message"], str) and first["message"] else first["stderr_excerpt"]
        records.append({
            "run_id": run_id, "program_id": program_id, "status": status, "error_kind": error_kind or "n/a",
            "launches": ", ".join(str(index) for index in group["launch_index"]),
            "message": (message or "")[:MESSAGE_EXCERPT_CHARS], "first_row": first["source"],
        })
    return pd.DataFrame(records, columns=["run_id", "program_id", "status", "error_kind", "launches", "message", "first_row"])


def _comparison_section(comparison: pd.DataFrame) -> str:
    if comparison.empty:
        return ""
    table = comparison.assign(
        vs_full=[significance_text(value) for value in comparison["vs_full_significant"]],
        vs_previous=[significance_text(value) for value in comparison["vs_previous_significant"]],
    )
    parts = ["## Which inference-time differences are real", "",
             "Each configuration's median against the full model's and against the configuration before it (paper "
             "order), per backend. A difference counts only when the two medians' 95% intervals do not overlap; "
             "\"not significant\" means these measurements cannot tell the two apart (analysis/significance.py)."]
    for key, panel in table.groupby(["device", "core", "threads", "arch"], sort=False):
        parts += ["", f"### {key[0]}, core {key[1]}, {key[2]} thread(s), {key[3]}", "",
                  markdown_table(panel, {
                      "backend": "backend", "configuration": "configuration", "median_ms": "median (ms)",
                      "median_ci_low_ms": "95% low", "median_ci_high_ms": "95% high", "vs_full_ratio": "/ full",
                      "vs_full": "differs from full", "previous_configuration": "previous",
                      "vs_previous_ratio": "/ previous", "vs_previous": "differs from previous"})]
    return "\n".join(parts)


def _int8_section(int8: pd.DataFrame) -> str:
    if int8.empty:
        return ""
    table = int8.assign(
        fp32_size_mb=int8["fp32_size_bytes"] / 1e6, int8_size_mb=int8["int8_size_bytes"] / 1e6,
        fp32_peak_mb=int8["fp32_peak_memory_kb"] / KB_PER_MB, int8_peak_mb=int8["int8_peak_memory_kb"] / KB_PER_MB,
        speedup_text=[f"{speedup:.2f}" + ("" if significant is not False else " (n.s.)")
                      for speedup, significant in zip(int8["speedup"], int8["speedup_significant"])],
    )
    return "\n".join([
        "## int8 against fp32", "",
        "Each configuration exported both as `xnnpack` (fp32) and `xnnpack_int8` (PT2E static int8, per-channel "
        "weights), measured in the same run. Speed-up = fp32 median / int8 median (n.s.: the medians' intervals "
        "overlap). The accuracy columns come from the export, on held-out images against the fp32 model: top-1 "
        "agreement (full and cloud programs), mean cosine similarity and relative error of the output. With random "
        "weights these figures are about numerics, not about a task, and a randomly initialised network can "
        "amplify any small error many times over by its deep split points: `scripts/bench_int8_sensitivity.py` "
        "measures how much of the error is int8's.", "",
        markdown_table(table, {
            "device": "device", "arch": "arch", "configuration": "configuration",
            "fp32_size_mb": "fp32 MB", "int8_size_mb": "int8 MB", "fp32_warm_load_ms": "fp32 load (ms)",
            "int8_warm_load_ms": "int8 load (ms)", "fp32_median_ms": "fp32 median (ms)",
            "int8_median_ms": "int8 median (ms)", "speedup_text": "speed-up", "fp32_peak_mb": "fp32 peak MB",
            "int8_peak_mb": "int8 peak MB", "top1_agreement": "top-1 agreement",
            "cosine_similarity_mean": "cosine (mean)", "relative_error": "relative error"}),
    ])


def _failures_section(failures: pd.DataFrame) -> str:
    if failures.empty:
        return "## Failed launches\n\nNone: every launch succeeded."
    return "\n".join([
        "## Failed launches",
        "",
        f"{len(failures)} launch(es) did not succeed. They are left out of every statistic and figure; "
        "tables/failures.csv holds each one with its exit code and stderr.",
        "",
        markdown_table(failure_groups(failures), {
            "run_id": "run", "program_id": "program", "status": "status", "error_kind": "error kind",
            "launches": "failed launches", "message": "message (start)", "first_row": "first row"}),
    ])


def _caveats_section(contexts: list[RunContext], summary: pd.DataFrame) -> str:
    caveats = measurement_caveats(contexts, summary)
    body = bullet_list(caveats) if caveats else "None found: the core stayed near its maximum frequency where readable, " \
        "every launch ran on the requested core, and inference times vary little."
    return "## Measurement caveats\n\n" + body


def _warnings_section(loaded: LoadedResults) -> str:
    if not loaded.warnings:
        return ""
    items = [f"{warning.source}: {warning.message}" for warning in loaded.warnings]
    return "\n".join(["## Warnings", "", f"{loaded.skipped_row_count} row(s) skipped.", "", bullet_list(items)])


def _files_section(table_paths: dict[str, Path], out_dir: Path) -> str:
    items = [f"[{path.relative_to(out_dir).as_posix()}]({path.relative_to(out_dir).as_posix()}): {name}"
             for name, path in table_paths.items()]
    return "## Tables (CSV)\n\n" + bullet_list(items)


def render_report(inputs: ReportInputs) -> str:
    generated = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sources = ", ".join(f"`{path}`" for path in inputs.input_paths)
    successful = int((inputs.tables.launches["status"] == "ok").sum())
    intro = "\n".join([
        "# splitbench: mobile evaluation report",
        "",
        f"Generated {generated} from {sources}: {len(inputs.tables.launches)} launch(es), {successful} successful, "
        f"{len(inputs.tables.samples)} timed inferences.",
        "",
        f"This reproduces section VI-C of \"Privacy-Preserving Deep Inference for Rich User Data on The Cloud\" "
        f"({PAPER_RUNTIME} on a {PAPER_DEVICE}, one CPU core, 60 inferences per configuration): inference time "
        "(Fig. 13), model loading time (Fig. 14) and memory (Fig. 15) of the full VGG-16 against the client part of "
        "the split model.",
    ])
    sections = [
        intro,
        _warnings_section(inputs.loaded),
        _setup_section(inputs.contexts),
        _reproduction_section(inputs.reproduction, inputs.summary, inputs.tables.launches),
        _figures_section(inputs.figures, inputs.out_dir),
        inputs.cross_device_section,
        _summary_section(inputs.summary),
        _comparison_section(inputs.comparison),
        _int8_section(inputs.int8),
        inputs.split_section,
        inputs.trained_section,
        _failures_section(inputs.tables.failures),
        _caveats_section(inputs.contexts, inputs.summary),
        "## What differs from the paper's setup\n\n" + bullet_list(differences_from_paper(inputs.contexts, inputs.summary)),
        _files_section(inputs.table_paths, inputs.out_dir),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def write_report(inputs: ReportInputs) -> Path:
    path = inputs.out_dir / "report.md"
    path.write_text(render_report(inputs), encoding="utf-8")
    return path
