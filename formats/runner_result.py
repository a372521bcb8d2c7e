"""The runner's JSON on stdout (docs/formats.md, section 2): a result per launch, capabilities for --version,
and the core's peak fp32 FMA throughput for --measure-peak.

Written by android_app/ (C++); read here for bench/ (finding it in a command's output) and analysis/
(checking the copy embedded in every results row).
"""

from __future__ import annotations

import json
from typing import Any

from formats.schema import check_schema

RUNNER_RESULT_SCHEMA = "splitbench.runner_result"
# 2 added timing.inference_cpu_ms, interference, files, ...; 3 added data (the --data file of external weights)
RUNNER_RESULT_VERSIONS: tuple[int, ...] = (1, 2, 3)
RUNNER_CAPABILITIES_SCHEMA = "splitbench.runner_capabilities"
CORE_PEAK_SCHEMA = "splitbench.core_peak"
CORE_PEAK_VERSIONS: tuple[int, ...] = (1,)


def find_json_object(output: str, schema: str) -> dict | None:
    """The JSON object of `schema` in a command's output: the whole output, or else its last line that is
    one (log lines around it are passed over). None when there is none."""
    candidates = [output.strip()] + [line.strip() for line in reversed(output.splitlines())]
    for text in candidates:
        if not text.startswith("{"):
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and value.get("schema") == schema:
            return value
    return None


def find_runner_result(output: str) -> dict | None:
    return find_json_object(output, RUNNER_RESULT_SCHEMA)


def find_runner_capabilities(output: str) -> dict | None:
    return find_json_object(output, RUNNER_CAPABILITIES_SCHEMA)


def find_core_peak(output: str) -> dict | None:
    return find_json_object(output, CORE_PEAK_SCHEMA)


def check_core_peak(document: Any, where: str) -> int:
    return check_schema(document, CORE_PEAK_SCHEMA, CORE_PEAK_VERSIONS, where)


def check_runner_result(document: Any, where: str) -> int:
    """The runner result's schema_version; UnsupportedSchema for anything else."""
    return check_schema(document, RUNNER_RESULT_SCHEMA, RUNNER_RESULT_VERSIONS, where)
