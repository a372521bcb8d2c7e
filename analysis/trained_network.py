"""The report's "trained network" section: EfficientNet-Lite0 with ImageNet weights, split where its graph
allows, on real photographs (scripts/trained_study.py writes trained_study.json).

Per split point: bytes the client sends (fp32), client time and peak memory on the device (the sweep's
median inference and VmHWM, when the study ran one), and int8's agreement with fp32 on the crops, trained and
random-weight twin side by side. One figure: agreement against split point. The top-5 classes, in words, of
two or three photos as the device's end-to-end runs gave them.

`python -m analysis RUN_FOLDER` adds the section when the run folder holds trained_study.json (the study writes
it there beside its sweep's rows); the section alone:

    python -m analysis.trained_network artifacts/trained/trained_study.json --out artifacts/trained/report
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.errors import AnalysisError  # noqa: E402
from analysis.markdown import markdown_table  # noqa: E402
from formats.errors import FormatError  # noqa: E402
from formats.results import RESULTS_FILE  # noqa: E402
from formats.trained_study import TRAINED_STUDY_FILE, TrainedStudy, read_trained_study  # noqa: E402

SECTION_FILE = "trained_network.md"
FIGURE_FILE = "trained_int8_agreement.png"
LABELLED_PHOTOS = 3


@dataclass(frozen=True)
class SplitRow:
    """One row of the section's table (None where the study has no such measurement)."""

    configuration: str
    bytes_sent: int | None
    client_ms: float | None
    client_int8_ms: float | None
    peak_memory_mb: float | None
    int8_top1: float
    int8_top5: float
    twin_top1: float | None
    twin_top5: float | None


def _manifest_entries(path: str) -> dict[str, dict]:
    try:
        return {entry["id"]: entry for entry in json.loads(Path(path).read_text())["programs"]}
    except (OSError, ValueError, KeyError) as error:
        raise AnalysisError(f"the study's manifest {path} cannot be read ({error}); re-run scripts/trained_study.py"
                            ) from error


def _sweep_figures(run_folder: str | None) -> dict[str, tuple[float, float]]:
    """program id -> (median inference ms, peak VmHWM MB) over the sweep's ok launches."""
    if not run_folder or not (Path(run_folder) / RESULTS_FILE).is_file():
        return {}
    times: dict[str, list[float]] = {}
    peaks: dict[str, list[float]] = {}
    for line in (Path(run_folder) / RESULTS_FILE).read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # an unfinished last line
        runner = row.get("runner") or {}
        if row.get("status") != "ok" or "timing" not in runner:
            continue
        times.setdefault(row["program_id"], []).extend(runner["timing"].get("inference_ms") or [])
        hwm = (runner.get("memory") or {}).get("vm_hwm_kb")
        if hwm:
            peaks.setdefault(row["program_id"], []).append(hwm / 1024)
    return {pid: (statistics.median(values), max(peaks.get(pid, [0.0]))) for pid, values in times.items() if values}


def split_rows(study: TrainedStudy) -> list[SplitRow]:
    """The full model first, then every split point in network order."""
    entries = _manifest_entries(study.manifest)
    sweep = _sweep_figures(study.run_folder)
    rows = []
    for configuration in ["full", *study.splits]:
        key = "full" if configuration == "full" else f"{configuration}_simple"
        entry = entries.get(f"{key}.xnnpack", {})
        fp32, int8 = sweep.get(f"{key}.xnnpack"), sweep.get(f"{key}.xnnpack_int8")
        trained, twin = study.int8_trained.get(configuration), study.int8_twin.get(configuration)
        if trained is None:
            continue
        rows.append(SplitRow(
            configuration=configuration,
            bytes_sent=None if configuration == "full" else entry.get("output_size_bytes"),
            client_ms=fp32[0] if fp32 else None, client_int8_ms=int8[0] if int8 else None,
            peak_memory_mb=fp32[1] if fp32 else None,
            int8_top1=trained["top1_agreement"], int8_top5=trained["top5_overlap"],
            twin_top1=twin["top1_agreement"] if twin else None, twin_top5=twin["top5_overlap"] if twin else None))
    return rows


def plot_agreement(rows: list[SplitRow], out_dir: Path) -> Path:
    """int8-vs-fp32 top-1 agreement and top-5 overlap per split point, trained and random twin."""
    figure, axis = plt.subplots(figsize=(8, 4))
    x = range(len(rows))
    labels = [row.configuration for row in rows]
    axis.plot(x, [r.int8_top1 for r in rows], "o-", color="#4C72B0", label="trained: top-1 agreement")
    axis.plot(x, [r.int8_top5 for r in rows], "s--", color="#4C72B0", label="trained: top-5 overlap")
    if all(r.twin_top1 is not None and r.twin_top5 is not None for r in rows):
        axis.plot(x, [r.twin_top1 or 0.0 for r in rows], "o-", color="#C44E52", label="random twin: top-1 agreement")
        axis.plot(x, [r.twin_top5 or 0.0 for r in rows], "s--", color="#C44E52", label="random twin: top-5 overlap")
    axis.set_ylim(0, 1.05)
    axis.set_xticks(list(x), labels, rotation=30, fontsize=8)
    axis.set_ylabel("int8 vs fp32 (fraction of crops)")
    axis.set_xlabel("int8 part: the full model, or the client up to this split point (remainder fp32)")
    axis.legend(fontsize=7, loc="lower left")
    axis.set_title("EfficientNet-Lite0: int8 agreement with fp32 per split point, trained vs random weights",
                   fontsize=10)
    figure.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FIGURE_FILE
    figure.savefig(path, dpi=130)
    plt.close(figure)
    return path


def _number(value: float | None, pattern: str) -> str:
    return "–" if value is None else format(value, pattern)


def labelled_photos(study: TrainedStudy, count: int = LABELLED_PHOTOS) -> list[str]:
    """Lines 'photo (split, on the device): label, label, ...' of the device's fp32 end-to-end runs."""
    lines = []
    for photo in study.evaluation_photos[:count]:
        rows = [row for row in study.photos if row["photo"] == photo and row["status"] == "ok"
                and row["backend"] == "xnnpack" and row.get("remainder_id")]
        if rows:
            row = rows[len(rows) // 2]
            agree = "same top-1 as the full fp32 model" if row["top1_equal"] else "top-1 differs from full fp32"
            lines.append(f"- **{photo}** (client {row['program_id']} on the device, remainder on the host; {agree}):"
                         f" {', '.join(row['top5_labels'])}")
    return lines


def render_section(study: TrainedStudy, figure: Path, out_dir: Path) -> str:
    rows = split_rows(study)
    headers = ["split point", "bytes sent (fp32)", "client fp32 ms", "client int8 ms", "device peak MB",
         "int8 top-1 (trained)", "int8 top-5 (trained)", "int8 top-1 (random)", "int8 top-5 (random)"]
    table = markdown_table(pd.DataFrame(
        [[r.configuration, _number(r.bytes_sent, "d"), _number(r.client_ms, ".2f"), _number(r.client_int8_ms, ".2f"),
          _number(r.peak_memory_mb, ".1f"), _number(r.int8_top1, ".3f"), _number(r.int8_top5, ".3f"),
          _number(r.twin_top1, ".3f"), _number(r.twin_top5, ".3f")] for r in rows], columns=headers))
    ok = [row for row in study.photos if row["status"] == "ok"]
    fp32_e2e = [row for row in ok if row["backend"] == "xnnpack"]
    agreeing = sum(1 for row in fp32_e2e if row["top1_equal"])
    int8_e2e = [row for row in ok if row["backend"] == "xnnpack_int8"]
    int8_agreeing = sum(1 for row in int8_e2e if row["top1_equal"])
    int8_overlap = sum(row["top5_overlap"] for row in int8_e2e) / len(int8_e2e) if int8_e2e else None
    parts = [
        "## Trained network",
        "",
        f"EfficientNet-Lite0 with ImageNet weights (`{study.model}`), split at the cut points its exported graph "
        f"offers ({', '.join(study.splits)}), run on {len(study.evaluation_photos)} real photographs "
        f"({', '.join(study.evaluation_photos)}) on `{study.serial}`: the client on the device, the remainder on "
        "the host on the device's own output bytes. int8 programs were calibrated on the calibration photos only; "
        f"their agreement with fp32 is measured on {study.crops} seeded crops and flips of the evaluation photos "
        f"(seed {study.crops_seed}), beside the same network with random weights (`{study.twin}`).",
        "",
        f"End to end on the device (fp32 clients and full program): {agreeing} of {len(fp32_e2e)} photo runs give "
        "the full fp32 model's top-1 class"
        + (f"; with int8 programs on the device {int8_agreeing} of {len(int8_e2e)} do (mean top-5 overlap "
           f"{int8_overlap:.2f})" if int8_e2e and int8_overlap is not None else "")
        + f"; {len(study.photos) - len(ok)} of {len(study.photos)} runs were not ok.",
        "",
        table,
        "",
        f"![int8 agreement per split point]({figure.relative_to(out_dir) if figure.is_relative_to(out_dir) else figure})",
        "",
        "Top-5 classes from the device's end-to-end runs:",
        "",
        *labelled_photos(study),
        "",
        f"Study wall time {study.wall_s:.0f} s (export {study.export_s:.0f} s).",
    ]
    return "\n".join(parts) + "\n"


def trained_section(loaded_run_folders: list[Path], out_dir: Path) -> str:
    """The section for `python -m analysis`: from the first run folder holding trained_study.json (the trained
    study writes it there beside its sweep's rows); "" when none does."""
    folder = next((path for path in loaded_run_folders if (path / TRAINED_STUDY_FILE).is_file()), None)
    if folder is None:
        return ""
    study = read_trained_study(folder / TRAINED_STUDY_FILE)
    if study is None:
        return ""
    figure = plot_agreement(split_rows(study), out_dir / "figures")
    return render_section(study, figure, out_dir)


def write_section(study_path: Path, out_dir: Path) -> Path:
    study = read_trained_study(study_path)
    if study is None:
        raise AnalysisError(f"{study_path} does not exist; run scripts/trained_study.py --out DIR first")
    figure = plot_agreement(split_rows(study), out_dir)
    path = out_dir / SECTION_FILE
    path.write_text(render_section(study, figure, out_dir))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.trained_network", description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path, help="trained_study.json of scripts/trained_study.py")
    parser.add_argument("--out", type=Path, required=True, help="folder for trained_network.md and its figure")
    args = parser.parse_args(argv)
    try:
        path = write_section(args.study, args.out)
    except (AnalysisError, FormatError) as error:
        print(f"analysis.trained_network: error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
