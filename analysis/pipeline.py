"""The whole analysis: load, tidy, summarise, compare with the paper, draw, and write tables and report.md."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.cross_device import cross_device_outputs
from analysis.errors import AnalysisError
from analysis.figures import (
    FigureFiles,
    plot_inference_time,
    plot_int8_comparison,
    plot_load_time,
    plot_memory,
    plot_peak_fraction,
)
from analysis.loading import LoadedResults, LoadWarning, load_results
from analysis.quantization import int8_comparison
from analysis.report import ReportInputs, write_report
from analysis.reproduction import reproduction_table
from analysis.run_context import run_contexts
from analysis.significance import compare_medians
from analysis.split_report import run_folders, split_outputs
from analysis.statistics import summarize
from analysis.tidy import build_tidy_tables
from analysis.trained_network import trained_section

TABLES_FOLDER = "tables"
FIGURES_FOLDER = "figures"


@dataclass(frozen=True)
class AnalysisOutputs:
    out_dir: Path
    report_path: Path
    table_paths: dict[str, Path]
    figures: list[FigureFiles]
    warnings: list[LoadWarning]
    failed_launches: int


def _write_tables(tables: dict[str, pd.DataFrame], out_dir: Path) -> dict[str, Path]:
    folder = out_dir / TABLES_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        table.to_csv(path, index=False)
        paths[name] = path
    return paths


def analyse(inputs: Sequence[Path | str], out_dir: Path | str, network_profiles: Sequence = ()) -> AnalysisOutputs:
    """Everything the CLI does; file-system failures while writing become AnalysisError like bad input does."""
    out_dir = Path(out_dir)
    loaded = load_results([Path(path) for path in inputs])
    try:
        return _analyse_loaded(inputs, loaded, out_dir, list(network_profiles))
    except OSError as error:
        raise AnalysisError(f"cannot write into {out_dir} ({error.strerror}: {error.filename}); pass a writable --out "
                            "with free space") from error


def _analyse_loaded(inputs: Sequence[Path | str], loaded: LoadedResults, out_dir: Path,
                    network_profiles: list | None = None) -> AnalysisOutputs:
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = build_tidy_tables(loaded)
    contexts = run_contexts(loaded)
    summary = summarize(tables.samples, tables.launches)
    reproduction = reproduction_table(summary)
    comparison = compare_medians(summary)
    int8 = int8_comparison(summary)
    table_paths = _write_tables({
        "samples": tables.samples, "launches": tables.launches, "failures": tables.failures,
        "summary": summary, "reproduction": reproduction, "inference_comparison": comparison, "int8_vs_fp32": int8,
    }, out_dir)
    figures: list[FigureFiles] = []
    if not tables.samples.empty:
        figures_dir = out_dir / FIGURES_FOLDER
        figures = [
            plot_inference_time(tables.samples, contexts, figures_dir, comparison),
            plot_load_time(tables.launches, summary, contexts, figures_dir),
            plot_memory(tables.launches, summary, contexts, figures_dir),
        ]
        figures += [figure for figure in (plot_peak_fraction(summary, contexts, figures_dir),
                                          plot_int8_comparison(int8, figures_dir)) if figure is not None]
    split = split_outputs(loaded, summary, out_dir, network_profiles)  # the split study, when a run has one
    table_paths.update(_write_tables(split.tables, out_dir))
    trained = trained_section(run_folders(loaded), out_dir)  # the trained-network study, when a run has one
    devices = cross_device_outputs(loaded, tables, contexts, out_dir / FIGURES_FOLDER, out_dir)  # 2+ devices only
    table_paths.update(_write_tables(devices.tables, out_dir))
    report_path = write_report(ReportInputs(
        input_paths=[Path(path) for path in inputs], out_dir=out_dir, loaded=loaded, contexts=contexts, tables=tables,
        summary=summary, reproduction=reproduction, comparison=comparison, int8=int8, figures=figures, table_paths=table_paths,
        split_section=split.section, cross_device_section=devices.section, trained_section=trained,
    ))
    return AnalysisOutputs(out_dir, report_path, table_paths, figures, loaded.warnings, len(tables.failures))
