"""Generated inputs for the fuzz tests: arbitrary JSON, and valid documents with a few fields replaced, removed
or retyped (so that inputs reach deep into a reader rather than stopping at its first check)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

ODD_NUMBERS = st.sampled_from([0, -1, 2**31, 2**32, 2**63, -(2**63), 10**30, 1e308, -0.0, float("nan"), float("inf"),
                               True, False])
ODD_TEXT = st.sampled_from(["", " ", "../..", "/etc/passwd", "x86_64/../../tmp/X", "\x1b]0;t\x07", "\x00", "²",
                            "1e3", "0x10", "NaN", "-5", "9" * 400, "\u202e", "é", "a|b", "$\\frac{a}{$"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40),
                    ODD_NUMBERS, ODD_TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.one_of(st.text(max_size=12), ODD_TEXT), children, max_size=4)),
    max_leaves=12)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every (container path, key) in a JSON document."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append(prefix + (key,))
            found.extend(_paths(item, prefix + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append(prefix + (index,))
            found.extend(_paths(item, prefix + (index,)))
    return found


def _at(document: Any, path: tuple) -> Any:
    for key in path:
        document = document[key]
    return document


@st.composite
def mutated(draw, document: Any, max_changes: int = 3) -> Any:
    """`document` with 1..max_changes changes: a value replaced (odd numbers, odd text, any JSON), a key removed."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_changes))):
        paths = _paths(result)
        if not paths:
            return draw(JSON_VALUES)
        path = draw(st.sampled_from(paths))
        parent = _at(result, path[:-1])
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(st.one_of(ODD_NUMBERS, ODD_TEXT, JSON_VALUES))
    return result


def as_json_text(document: Any) -> str:
    return json.dumps(document, allow_nan=True)


@st.composite
def damaged_text(draw, text: str) -> str:
    """`text` with a slice cut, repeated, or replaced with arbitrary characters."""
    if not text:
        return draw(st.text())
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 64)))
    middle = draw(st.one_of(st.just(""), st.text(max_size=32), ODD_TEXT, st.just(text[start:end] * 3)))
    return text[:start] + middle + text[end:]
