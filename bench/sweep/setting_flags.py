"""The sweep's command-line flags, made from SweepConfig's fields (bench.sweep.settings): one typed parameter per
setting, its flag, type and help declared once on the field, as TFLite's benchmark tool makes its flags from its
parameters. The command line adds them to its parser, reads them back into a SweepConfig and lists the ones given.
"""

from __future__ import annotations

import argparse
import types
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any

from bench.sweep.settings import SweepConfig, option_name


def comma_list(text: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, e.g. full,conv5_1_simple")
    return items


@dataclass(frozen=True)
class SettingFlag:
    """One setting's flag: the field it sets, its flag, how its text is parsed (None: a switch that turns the
    setting off) and its help."""

    field: str
    flag: str
    parse: Any
    help: str

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")


def _parser_for(annotation: Any) -> Any:
    """int, float or comma_list for a field's type (optional or not); None for a bool (a switch)."""
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = arguments[0]
    if annotation is bool:
        return None
    if annotation in (int, float):
        return annotation
    if typing.get_origin(annotation) is tuple:
        return comma_list
    raise TypeError(f"no flag type for a setting of type {annotation!r}")


def setting_flags() -> list[SettingFlag]:
    """Every setting that has a flag, in SweepConfig's field order."""
    hints = typing.get_type_hints(SweepConfig)
    defaults = SweepConfig()
    flags = []
    for item in fields(SweepConfig):
        if item.metadata.get("help") is None:
            continue
        default = item.default if item.default is not MISSING else None
        parse = _parser_for(hints[item.name])
        if parse is None and default is not True:
            raise TypeError(f"setting {item.name}: a switch can only turn off a setting that is on by default")
        flags.append(SettingFlag(item.name, option_name(item.name), parse,
                                 item.metadata["help"].format(default=default, defaults=defaults)))
    return flags


def add_setting_flags(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """Add every setting's flag; a flag not given leaves its setting at the default (dest None)."""
    for flag in setting_flags():
        if flag.parse is None:
            group.add_argument(flag.flag, dest=flag.dest, action="store_true", default=None, help=flag.help)
        else:
            group.add_argument(flag.flag, dest=flag.dest, type=flag.parse, help=flag.help)


def given_setting_flags(args: argparse.Namespace) -> list[str]:
    """The setting flags given on this command line."""
    return [flag.flag for flag in setting_flags() if getattr(args, flag.dest, None) is not None]


def config_from_args(args: argparse.Namespace) -> SweepConfig:
    """A SweepConfig of the flags given (a switch given turns its setting off), the defaults elsewhere."""
    values: dict[str, Any] = {}
    for flag in setting_flags():
        value = getattr(args, flag.dest, None)
        if value is not None:
            values[flag.field] = False if flag.parse is None else value
    return SweepConfig(**values)
