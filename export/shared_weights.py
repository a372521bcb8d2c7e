"""Programs whose weights live in one shared ExecuTorch data file (.ptd) beside them.

Every remainder of a model carries most of the same weights (VGG-16's fully connected layers alone are 480 MB),
and every client carries the full model's first layers.
ExecuTorch 1.5.1 lets the XNNPACK delegate keep its constants outside the program: tagging the module's
weights (`delegate_constant_tag` in a node's custom metadata, see tag_constants) makes the delegate put them in
a named data store under keys that are the sha256 of their bytes, written as a FlatTensor `.ptd` file and
looked up by key when the program loads (`Runtime.load_program(pte, data_path=ptd)`). Equal weights get equal
keys in every program, so the fp32 XNNPACK programs of one folder (full model, clients, remainders) share one
data file: the union of their keys, each blob once (`SharedWeights`). A program's manifest entry names the data
file and the keys it needs (`data_file`, `data_keys`); the manifest lists the file with its sha256
(`data_files`); the native runner loads it with `--data`.

Measured at full size (python -m scripts.bench_cloud_weights, conv5_1 and pool5 remainders, loaded 2-core VM):
disk 497 MB shared vs 975 MB self-contained vs 537 MB for one saved model rebuilt on the host; ready to run in
0.42/0.57 s shared vs 0.49/0.39 s self-contained vs 8.5/6.7 s rebuilt (torch.export and XNNPACK lowering at run
time); run times alike (76/38 ms shared, 72/32 ms self-contained, 58/27 ms rebuilt); identical outputs. The
split study's 24 remainders take 1.35 MB of programs and one 544 MB data file instead of 10.8 GB.
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

import torch
from torch import nn

from export.errors import ProgramExportError
from export.executorch_writer import lowering_failed, write_program_bytes
from export.noise import NOISE_OPS

DATA_TAG = "weights"
DATA_FILE = f"{DATA_TAG}.ptd"
BLOB_ALIGNMENT = 16  # XNNPACK's constant alignment (CONSTANT_TENSOR_ALIGNMENT)


def lower_with_external_weights(module: nn.Module, example_input: torch.Tensor, data_path: Path,
                                model_storages: frozenset[int] | None = None) -> bytes:
    """The XNNPACK program of `module` without its delegated weights; those weights are written to the data file
    `data_path` (straight from the serializer: no copy of them is held in memory). No data file is written when
    the delegate kept every weight inside: weights it transforms while lowering (a batch norm folded into its
    convolution: every weight of a ResNet client) are new constants, not the tagged ones. `model_storages`: see
    tag_constants."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower

    with torch.no_grad():
        exported = torch.export.export(module.eval(), (example_input,), strict=False)
        tag_constants(exported, model_storages)
        compile_config = EdgeCompileConfig(_core_aten_ops_exception_list=list(NOISE_OPS))
        program = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()],
                                              compile_config=compile_config).to_executorch()
        program_bytes = program.buffer
        data = program._tensor_data or {}  # 1.5.1 has no public accessor on ExecutorchProgramManager
        data_path.unlink(missing_ok=True)
        if DATA_TAG in data:
            temporary = data_path.with_name(data_path.name + ".tmp")
            with open(temporary, "wb") as file:
                data[DATA_TAG].write_to_file(file)
            temporary.replace(data_path)
    return program_bytes


def tag_constants(exported: torch.export.ExportedProgram, model_storages: frozenset[int] | None = None) -> int:
    """Mark the parameters, buffers and constant inputs of `exported` for the delegate's external data file (the
    tag the XNNPACK serializer reads); return how many. With `model_storages` (model_storage_ids of the source
    model), only the tensors of the source model itself: the weights a program adds (a PCA head) stay inside it,
    so that the data file of every folder holding the full model is the same file (the program store links it
    once). Done on the lifted graph: executorch's delegate_external_constants_pass_unlifted needs a second
    torch.export, which drops the tag of modules named by numbers (an nn.Sequential such as the reduced
    remainder: measured, 0 of its weights tagged)."""
    signature = exported.graph_signature
    constants = {**signature.inputs_to_parameters, **signature.inputs_to_buffers,
                 **signature.inputs_to_lifted_tensor_constants}
    tagged = 0
    for node in exported.graph.nodes:
        if node.op != "placeholder" or node.name not in constants:
            continue
        target = constants[node.name]
        tensor = exported.state_dict.get(target, exported.constants.get(target))
        if model_storages is not None and (not isinstance(tensor, torch.Tensor)
                                           or tensor.untyped_storage().data_ptr() not in model_storages):
            continue
        node.meta.setdefault("custom", {})["delegate_constant_tag"] = DATA_TAG
        tagged += 1
    return tagged


def model_storage_ids(model: nn.Module) -> frozenset[int]:
    """The storages of `model`'s parameters and buffers (the cut programs' graphs share them: measured on VGG-16)."""
    return frozenset(tensor.untyped_storage().data_ptr()
                     for tensor in [*model.parameters(), *model.buffers()])


def write_pte_with_external_weights(module: nn.Module, example_input: torch.Tensor, path: Path,
                                    part_path: Path, model_storages: frozenset[int] | None = None) -> list[str]:
    """Write the program to `path` and its weights to the data file `part_path` (both atomically); return the
    keys of the weights, sorted (none, and no data file, when the program kept them all inside).
    `model_storages`: see tag_constants."""
    try:
        program = lower_with_external_weights(module, example_input, part_path, model_storages)
    except ProgramExportError:
        raise
    except Exception as error:  # lowering raises many error types
        raise lowering_failed(path, error, " with external weights") from error
    write_program_bytes(path, program)
    return sorted(data_file_keys(part_path))


def _read_table(file: BinaryIO):
    """The header and the table of contents (keys, segments) of an open .ptd file."""
    from executorch.extension.flat_tensor.serialize.serialize import FlatTensorHeader, _deserialize_to_flat_tensor

    header = FlatTensorHeader.from_bytes(file.read(8 + FlatTensorHeader.EXPECTED_LENGTH)[8:])
    if not header.is_valid():
        raise ProgramExportError(f"{file.name} is not an ExecuTorch data file (.ptd); delete it and re-export")
    file.seek(0)
    return header, _deserialize_to_flat_tensor(file.read(header.flatbuffer_offset + header.flatbuffer_size))


def read_data_file(path: Path, wanted: Callable[[str], bool] = lambda key: True) -> dict[str, bytes]:
    """key -> bytes of the blobs of .ptd file `path` whose key is `wanted`, reading only those blobs (the file
    of a full-size model is 537 MB, and executorch's own reader holds three copies of all of it)."""
    with open(path, "rb") as file:
        header, table = _read_table(file)
        blobs = {}
        for entry in table.named_data:
            if wanted(entry.key):
                segment = table.segments[entry.segment_index]
                file.seek(header.segment_base_offset + segment.offset)
                blobs[entry.key] = file.read(segment.size)
    return blobs


def data_file_keys(path: Path) -> set[str]:
    """The keys a .ptd file holds, read from its table of contents only (empty when it is absent or unreadable)."""
    try:
        with open(path, "rb") as file:
            return {entry.key for entry in _read_table(file)[1].named_data}
    except (OSError, ValueError, struct.error, RuntimeError, ProgramExportError):
        return set()


class SharedWeights:
    """The union of remainders' weights by key (a key is the sha256 of its bytes, so equal keys hold equal bytes)."""

    def __init__(self, blobs: dict[str, bytes] | None = None):
        self.blobs: dict[str, bytes] = dict(blobs or {})

    @classmethod
    def read(cls, path: Path, keep: set[str] | None = None) -> SharedWeights:
        """The blobs of data file `path` (only the keys in `keep`, when given); empty when it is absent."""
        if not Path(path).is_file():
            return cls()
        return cls(read_data_file(Path(path), lambda key: keep is None or key in keep))

    def add_file(self, path: Path, keys: set[str] | None = None) -> None:
        """Add the blobs of another data file (a program's own weights; with `keys`, only those) not here yet."""
        self.blobs.update(read_data_file(Path(path), lambda key: key not in self.blobs and (keys is None or key in keys)))

    def write(self, path: Path) -> None:
        """Write every blob once as a FlatTensor .ptd file, atomically."""
        from executorch.exir._serialize.data_serializer import DataEntry, DataPayload
        from executorch.extension.flat_tensor.serialize.serialize import FlatTensorSerializer

        keys = sorted(self.blobs)
        payload = DataPayload(buffers=[self.blobs[key] for key in keys],
                              named_data={key: DataEntry(buffer_index=index, alignment=BLOB_ALIGNMENT,
                                                         tensor_layout=None)
                                          for index, key in enumerate(keys)})
        cord = FlatTensorSerializer().serialize(payload)
        temporary = Path(path).with_name(Path(path).name + ".tmp")
        with open(temporary, "wb") as file:
            cord.write_to_file(file)
        temporary.replace(path)


class FolderWeights:
    """The folder's shared data file while an export adds programs to it: a blob is read only when a program brings
    a key the file lacks, and the file is rewritten only when its keys change.

    Measured at full size (the split study after the reproduction, every program reusable): merging every
    program's blobs into an in-memory copy and rewriting the file took 12 s of a 65 s export; this reads no blob
    when the file (or a stored data file with exactly its keys, which is linked instead) already holds them."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.on_disk = data_file_keys(self.path)
        self.new = SharedWeights()
        self.stored: dict[str, Path] = {}  # key -> a stored data file holding it (read only to rewrite the file)

    def keys(self) -> set[str]:
        return self.on_disk | set(self.new.blobs) | set(self.stored)

    def add_part(self, part: Path) -> None:
        """Take the blobs of a program's own data file that the folder lacks (the caller removes the part)."""
        missing = data_file_keys(part) - self.keys()
        if missing:
            self.new.add_file(part, missing)

    def add_stored(self, source: Path, keys: Iterable[str]) -> None:
        """Note that the stored data file `source` holds `keys` (a program linked from the program store)."""
        for key in set(keys) - self.keys():
            self.stored[key] = source

    def finish(self, keep: set[str]) -> Path | None:
        """Leave the data file with exactly the blobs `keep` names (removed when none): unchanged when it has
        them, else a link to a stored data file holding exactly them (returned), else rewritten."""
        if not keep:
            self.path.unlink(missing_ok=True)
            return None
        if keep == self.on_disk:
            return None
        for source in dict.fromkeys(self.stored.values()):
            if data_file_keys(source) == keep:
                from export.cache import place_link

                place_link(source, self.path)
                return source
        blobs = SharedWeights.read(self.path, keep=keep & self.on_disk)
        blobs.blobs.update({key: value for key, value in self.new.blobs.items() if key in keep})
        for source in dict.fromkeys(self.stored.values()):
            blobs.add_file(source, {key for key, held_by in self.stored.items() if held_by == source and key in keep})
        blobs.write(self.path)
        return None
