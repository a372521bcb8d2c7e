"""The list of programs one configuration asks for: full model, clients and cloud remainders, per backend."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from export.architectures import architecture_graph
from export.config import ExportConfig
from export.graph_split import ModelGraph
from export.noise import NOISE_OP_NAME, SEED_POLICY, GaussianNoise
from export.pca import PcaProjection
from export.reduction_heads import PcaProjectionHead, PcaReconstructionHead
from export.split_model import split_graph
from formats.backends import backend as backend_row
from formats.manifest import NoiseInfo, ReductionInfo

EXAMPLE_INPUT_SEED = 0


@dataclass(frozen=True)
class ReducedSplit:
    """A fitted projection, where it is saved (relative to the output folder) and what it was fitted from."""

    projection: PcaProjection
    projection_file: str
    calibration: str


@dataclass
class ProgramSpec:
    """One program to write: its identity, its eager module and an example input of the right shape.

    `input_prefix` maps an image batch to this program's input (the client, for a cloud remainder; None = the
    image itself): it turns calibration and held-out images into int8 calibration and accuracy inputs.
    """

    program_id: str
    configuration: str
    role: str
    split_point: str | None
    backend: str
    module: nn.Module
    example_input: torch.Tensor
    reduction: ReductionInfo | None = None
    noise: NoiseInfo | None = None
    projection_key: str | None = None
    input_prefix: nn.Module | None = None

    def inputs_from_images(self, images: torch.Tensor) -> list[torch.Tensor]:
        """This program's inputs (batch 1 each) for a batch of images."""
        with torch.no_grad():
            singles = [images[index:index + 1].clone() for index in range(images.shape[0])]
            return [self.input_prefix(image) if self.input_prefix is not None else image for image in singles]

    @property
    def format(self) -> str:
        """The file format, also the file's suffix (formats.backends)."""
        return backend_row(self.backend).format

    @property
    def dtype(self) -> str:
        return backend_row(self.backend).dtype

    @property
    def file_name(self) -> str:
        return f"{self.program_id}.{self.format}"


def example_tensor(shape: tuple[int, ...]) -> torch.Tensor:
    """A deterministic random input of `shape` (the values only matter for tracing and checks)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(EXAMPLE_INPUT_SEED))


def reduction_info(reduced: ReducedSplit) -> ReductionInfo:
    """The manifest's reduction block for a reduced split."""
    projection = reduced.projection
    return ReductionInfo(projection.k, projection.explained_variance_ratio, reduced.projection_file,
                         reduced.calibration)


def plan_programs(config: ExportConfig, model: nn.Module, reduced: dict[str, ReducedSplit],
                  graph: ModelGraph | None = None) -> list[ProgramSpec]:
    """Every program the configuration asks for, in paper order (full, simple, reduced, noisy), cloud after client.

    Clients and remainders are cut from `graph` (by default the graph of `model`, a `config.arch` network).
    """
    input_shape = (1, 3, config.input_size, config.input_size)
    image = example_tensor(input_shape)
    specs: list[ProgramSpec] = []

    def add(configuration: str, role: str, split: str | None, module: nn.Module, example: torch.Tensor,
            backends: tuple[str, ...], **extra) -> None:
        for backend in backends:
            program_id = f"{configuration}.cloud.{backend}" if role == "cloud" else f"{configuration}.{backend}"
            specs.append(ProgramSpec(program_id, configuration, role, split, backend, module, example, **extra))

    if config.include_full:
        add("full", "full", None, model, image, config.backends)
    graph = graph or architecture_graph(config.arch, model, config.input_size)
    halves = {split: split_graph(graph, split) for split in config.split_points}
    feature_shapes = {split: tuple(halves[split].cut.output_shape) for split in config.split_points}
    for split in config.split_points:
        add(f"{split}_simple", "client", split, halves[split].client, image, config.backends)
        add(f"{split}_simple", "cloud", split, halves[split].cloud, example_tensor(feature_shapes[split]),
            config.cloud_backends, input_prefix=halves[split].client)
    if not config.include_reduced:
        return specs
    for split in config.split_points:
        entry = reduced[split]
        info = reduction_info(entry)
        project = PcaProjectionHead(entry.projection).eval()
        client = nn.Sequential(halves[split].client, project).eval()
        cloud = nn.Sequential(PcaReconstructionHead(entry.projection, feature_shapes[split]),
                              halves[split].cloud).eval()
        common = {"reduction": info, "projection_key": entry.projection.key}
        add(f"{split}_reduced", "client", split, client, image, config.backends, **common)
        add(f"{split}_reduced", "cloud", split, cloud, example_tensor((1, entry.projection.k)),
            config.cloud_backends, input_prefix=client, **common)
    for split in config.noisy_splits():  # none without a noise variance
        assert config.noise_variance is not None
        entry = reduced[split]
        noise = NoiseInfo(config.noise_variance, SEED_POLICY, NOISE_OP_NAME)
        noisy_client = nn.Sequential(halves[split].client, PcaProjectionHead(entry.projection),
                                     GaussianNoise(config.noise_variance, (1, entry.projection.k))).eval()
        add(f"{split}_reduced_noisy", "client", split, noisy_client, image, config.backends,
            reduction=reduction_info(entry), noise=noise, projection_key=entry.projection.key)
    return specs
