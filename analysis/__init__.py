"""Reads splitbench results and reproduces the paper's mobile evaluation: tidy tables, statistics, figures, report.md.

Entry points: `python -m analysis` (analysis.__main__), `analysis.pipeline.analyse`. Importing the package loads
nothing else.
"""
