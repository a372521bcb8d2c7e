"""Small Markdown helpers for the report: tables from DataFrames, numbers formatted for reading."""

import math
from typing import Any

import pandas as pd

from formats.display_text import shown


def format_value(value: Any) -> str:
    if value is None or value is pd.NA:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value != 0 and abs(value) < 0.01:
            return f"{value:.2e}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    text = shown(" ".join(str(value).split("\n")), max_chars=100_000)  # device text may carry control characters
    return text.replace("|", "\\|")


def markdown_table(table: pd.DataFrame, headers: dict[str, str] | None = None) -> str:
    """A GitHub Markdown table of the given columns; `headers` renames columns (and picks them, in order)."""
    if headers is None:
        headers = {column: column for column in table.columns}
    lines = [
        "| " + " | ".join(headers.values()) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    for _, row in table.iterrows():
        values = [row[column] for column in headers]
        lines.append("| " + " | ".join(format_value(value.item() if hasattr(value, "item") else value) for value in values) + " |")
    return "\n".join(lines)


def bullet_list(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)
