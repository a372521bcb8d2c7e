"""Reads splitbench results and reproduces the paper's mobile evaluation: tidy tables, statistics, figures, report.md."""

from analysis.errors import AnalysisError
from analysis.pipeline import AnalysisOutputs, analyse

__all__ = ["AnalysisError", "AnalysisOutputs", "analyse"]
