"""Bring your own model: `--model MODULE:CALLABLE` names a factory that returns an `nn.Module`.

The factory is imported and called with the keyword arguments it declares among `num_classes` and `input_size`
(others keep their defaults). Every failure is one ConfigError line saying what to fix.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

from torch import nn

from export.errors import ConfigError


class ModelFactoryError(ConfigError):
    """A --model factory cannot be imported or called, or does not return an nn.Module."""


@dataclass(frozen=True)
class FactorySpec:
    """`module:callable` as given on the command line."""

    module: str
    callable: str

    @property
    def text(self) -> str:
        return f"{self.module}:{self.callable}"

    @property
    def label(self) -> str:
        """The short name used as the manifest's `arch` (the callable's name)."""
        return self.callable.rsplit(".", 1)[-1]


def parse_factory(text: str) -> FactorySpec:
    """`package.module:function` -> FactorySpec; ModelFactoryError for anything else."""
    module, sep, name = text.strip().partition(":")
    if not sep or not module or not name or " " in text.strip():
        raise ModelFactoryError(f"--model must be MODULE:CALLABLE, e.g. export.trained:efficientnet_lite0; "
                                f"got {text!r}")
    return FactorySpec(module, name)


def build_from_factory(spec: FactorySpec, num_classes: int | None, input_size: int) -> nn.Module:
    """Import `spec.module`, call `spec.callable` and return its module in eval mode."""
    try:
        module = importlib.import_module(spec.module)
    except Exception as error:  # ImportError, or whatever the module raises while importing
        raise ModelFactoryError(f"--model {spec.text}: module {spec.module!r} cannot be imported "
                                f"({type(error).__name__}: {error}); check the name and PYTHONPATH") from None
    factory: object = module
    for part in spec.callable.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise ModelFactoryError(f"--model {spec.text}: {spec.module} has no attribute {spec.callable!r}")
    if not callable(factory):  # noqa: B004 - any callable will do
        raise ModelFactoryError(f"--model {spec.text}: {spec.callable} is not callable; name a function or class "
                                "that returns an nn.Module")
    kwargs = _declared_kwargs(factory, {"num_classes": num_classes, "input_size": input_size})
    try:
        model = factory(**kwargs)
    except Exception as error:
        raise ModelFactoryError(f"--model {spec.text}: calling it failed ({type(error).__name__}: "
                                f"{str(error).splitlines()[0] if str(error) else ''}); check the factory") from None
    if not isinstance(model, nn.Module):
        raise ModelFactoryError(f"--model {spec.text} returned {type(model).__name__}, not a torch.nn.Module; "
                                "the factory must return the model")
    if num_classes is not None and "num_classes" not in kwargs:
        raise ModelFactoryError(f"--model {spec.text} takes no num_classes argument; leave out --num-classes")
    return model.eval()


def _declared_kwargs(factory, offered: dict[str, int | None]) -> dict[str, int]:
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    return {name: value for name, value in offered.items() if name in parameters and value is not None}
