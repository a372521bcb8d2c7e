"""Every backend and every runtime, declared once: what export writes, what the sweep runs it with, and how the
report names, orders and colours it.

A *backend* is how a program runs (xnnpack, portable, lite, ...); its *format* is the file kind written (pte, ptl;
also the file suffix); its *runtime* is the library inside the native runner that loads that format (executorch,
torchscript_lite: the names `splitbench_runner --version` lists in `runtimes`). Each runtime other than the
primary one has a runner build of its own (a *runner variant*: `<platform>-<abi><variant>/bundle`), deployed to a
folder of its own on the device; programs of that runtime become "unsupported" rows when it is missing.

The order of BACKEND_TABLE is the order backends are shown in everywhere. Adding a runtime is one RUNTIME_TABLE
row, its backends' BACKEND_TABLE rows, its writer (export.writers) and its runner build (docs/adding-a-runtime.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from formats.errors import FormatError


@dataclass(frozen=True)
class Runtime:
    """A runtime of the native runner and the runner build that has it.

    `variant` is the suffix of its build's folder next to the plain build ("" = the plain build itself);
    `device_folder` where that build goes under the device's splitbench folder; `needs_input_shape`: its program
    files record no input shape, so the runner is told the manifest's (`--input-shape`); `build_commands` maps a
    platform to the command that builds this variant there (a platform absent has no build of it);
    `bundle_option` the sweep's option that names a build folder of this variant; `session_field` the run.json
    session field that records which build ran its programs (None for the primary runtime: the harness records it).
    """

    name: str
    label: str
    variant: str
    device_folder: str
    needs_input_shape: bool
    build_commands: tuple[tuple[str, str], ...] = ()
    bundle_option: str = "--runner-bundle"
    session_field: str | None = None
    note: str | None = None  # said where a platform has no build of it

    @property
    def bundle_dest(self) -> str:
        """The argparse dest of bundle_option (--lite-runner-bundle -> lite_runner_bundle)."""
        return self.bundle_option[2:].replace("-", "_")

    @property
    def primary(self) -> bool:
        """The runtime of the plain runner build: every sweep needs it (it also measures the core's peak)."""
        return self.variant == ""

    def build_command(self, platform: str | None) -> str | None:
        return dict(self.build_commands).get(platform or "")


@dataclass(frozen=True)
class Backend:
    """One backend: its file format (= file suffix), runtime, the writer export uses for it (export.writers),
    the dtype of its programs, whether `python -m export` writes it without being asked, its report label
    and figure colour (None: a colour of the figures' fallback palette), and whether its programs can keep their
    weights in a data file shared by the programs of one export folder (`external_weights`, export.shared_weights;
    the runner loads it with `--data`)."""

    name: str
    format: str
    runtime: str
    writer: str
    dtype: str
    exported_by_default: bool
    label: str
    colour: str | None
    external_weights: bool = False


PRIMARY_RUNTIME = "executorch"
RUNTIME_TABLE: tuple[Runtime, ...] = (
    Runtime(PRIMARY_RUNTIME, "ExecuTorch", variant="", device_folder="runner", needs_input_shape=False),
    Runtime("torchscript_lite", "TorchScript Lite", variant="-lite", device_folder="runner-lite",
            needs_input_shape=True, build_commands=(("linux", "bash android_app/build_host.sh --with-lite"),),
            bundle_option="--lite-runner-bundle", session_field="lite_runner", note="PyTorch Mobile is deprecated"),
)

BACKEND_TABLE: tuple[Backend, ...] = (  # in the order backends are shown in
    Backend("xnnpack", "pte", PRIMARY_RUNTIME, writer="executorch", dtype="float32", exported_by_default=True,
            label="ExecuTorch with the XNNPACK delegate (.pte)", colour="#1f77b4", external_weights=True),
    Backend("xnnpack_int8", "pte", PRIMARY_RUNTIME, writer="executorch_int8", dtype="int8",
            exported_by_default=False, label="ExecuTorch with the XNNPACK delegate, int8 (.pte)", colour=None),
    Backend("portable", "pte", PRIMARY_RUNTIME, writer="executorch", dtype="float32", exported_by_default=True,
            label="ExecuTorch portable kernels (.pte)", colour="#d62728"),
    Backend("lite", "ptl", "torchscript_lite", writer="torchscript_lite", dtype="float32", exported_by_default=True,
            label="TorchScript Lite interpreter (.ptl)", colour="#2ca02c"),
)

BACKENDS = {backend.name: backend for backend in BACKEND_TABLE}
RUNTIMES = {runtime.name: runtime for runtime in RUNTIME_TABLE}
BACKEND_ORDER: tuple[str, ...] = tuple(BACKENDS)
PROGRAM_FORMATS: tuple[str, ...] = tuple(dict.fromkeys(backend.format for backend in BACKEND_TABLE))
DEFAULT_EXPORT_BACKENDS: tuple[str, ...] = tuple(b.name for b in BACKEND_TABLE if b.exported_by_default)


def _runtime_by_format() -> dict[str, str]:
    """Each format is loaded by one runtime (the runner picks its runtime by the file)."""
    found: dict[str, str] = {}
    for backend in BACKEND_TABLE:
        if backend.runtime not in RUNTIMES:
            raise AssertionError(f"backend {backend.name} names runtime {backend.runtime}, not in RUNTIME_TABLE")
        if found.setdefault(backend.format, backend.runtime) != backend.runtime:
            raise AssertionError(f"format {backend.format} is given two runtimes in BACKEND_TABLE")
    return found


RUNTIME_BY_FORMAT: dict[str, str] = _runtime_by_format()


class UnknownBackend(FormatError):
    """A backend or format name the table does not declare."""


def backend(name: str) -> Backend:
    """The table's row for `name`; UnknownBackend listing the known ones otherwise."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise UnknownBackend(f"unknown backend {name!r}; known backends: {', '.join(BACKEND_ORDER)}") from None


def runtime_of_format(program_format: str) -> Runtime:
    """The runtime that loads files of `program_format` (pte, ptl)."""
    try:
        return RUNTIMES[RUNTIME_BY_FORMAT[program_format]]
    except KeyError:
        raise UnknownBackend(f"unknown program format {program_format!r}; "
                             f"known formats: {', '.join(PROGRAM_FORMATS)}") from None


def runtime_formats(runtime: Runtime) -> tuple[str, ...]:
    """The program formats `runtime` loads (ptl for torchscript_lite)."""
    return tuple(name for name, owner in RUNTIME_BY_FORMAT.items() if owner == runtime.name)


def optional_runtimes() -> tuple[Runtime, ...]:
    """The runtimes with a runner build of their own (all but the primary one)."""
    return tuple(runtime for runtime in RUNTIME_TABLE if not runtime.primary)


def backend_sort_key(name: str) -> tuple[int, str]:
    """The table's backends first, in its order; any other after them, by name."""
    return (BACKEND_ORDER.index(name), "") if name in BACKENDS else (len(BACKEND_ORDER), name)


def backends_in_order(names: Iterable[str]) -> list[str]:
    """`names` without repeats, in the order of backend_sort_key."""
    return sorted(set(names), key=backend_sort_key)
