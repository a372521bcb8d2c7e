"""Text a device (or a file a device wrote) reported, made safe to show: on a terminal, in Markdown, in a figure.

Everything a device says is a stranger's input. A model name holding ``ESC ] 0 ; ... BEL`` would retitle the
terminal, ``ESC [ 31 m`` would recolour it, a newline would forge a second CLI line, and ``|`` or a backtick would
break a Markdown table. `shown` escapes every control character (C0, DEL, C1, and the Unicode format/separator
characters that reorder or hide text) as a Python-style escape, so the text stays readable and the escape is
visible; `shown_in_markdown` also escapes the characters Markdown tables and emphasis treat specially.
"""

from __future__ import annotations

import unicodedata

MAX_SHOWN_CHARS = 200  # longer device text is cut (with "...") so one value cannot flood a line

# Unicode categories that are invisible or move other text: controls, format characters (bidi overrides,
# zero-width joiners), line/paragraph separators, surrogates, private use and unassigned code points.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
_MARKDOWN_SPECIAL = set("\\`*_[]<>|#")


def _escaped(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(value: object, max_chars: int = MAX_SHOWN_CHARS) -> str:
    """`value` as one printable line: control and invisible characters escaped (``\\x1b``), backslashes
    doubled so an escape in the text cannot pass for one we made, cut to `max_chars` characters."""
    text = value if isinstance(value, str) else str(value)
    cut = len(text) > max_chars
    if cut:
        text = text[:max_chars]
    parts = []
    for char in text:
        if char == "\\":
            parts.append("\\\\")
        elif unicodedata.category(char) in _HIDDEN_CATEGORIES:
            parts.append(_escaped(char))
        else:
            parts.append(char)
    return "".join(parts) + ("..." if cut else "")


def shown_in_markdown(value: object, max_chars: int = MAX_SHOWN_CHARS) -> str:
    """`shown`, with the characters Markdown gives a meaning to (table bars, emphasis, links, HTML) escaped."""
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIAL else char for char in shown(value, max_chars))


def shown_in_figure(value: object, max_chars: int = MAX_SHOWN_CHARS) -> str:
    """`shown`, with matplotlib's mathtext dollar signs escaped so a title is drawn as written."""
    return shown(value, max_chars).replace("$", r"\$")
