"""Cloud remainders whose weights live in one shared ExecuTorch data file (.ptd) beside them.

Every remainder of a model carries most of the same weights (VGG-16's fully connected layers alone are 480 MB).
ExecuTorch 1.5.1 lets the XNNPACK delegate keep its constants outside the program: tagging the module's weights
(`delegate_constant_tag` in a node's custom metadata, see tag_constants) makes the delegate put them in a named data store under keys that
are the sha256 of their bytes, written as a FlatTensor `.ptd` file and looked up by key when the program loads
(`Runtime.load_program(pte, data_path=ptd)`). Equal weights get equal keys in every remainder, so the remainders
of one folder share one data file: the union of their keys, each blob once (`SharedWeights`). A remainder's
manifest entry names the data file and the keys it needs (`data_file`, `data_keys`).

Measured at full size (python -m scripts.bench_cloud_weights): one data file instead of a copy per remainder, the same
outputs, and load and run times within noise of the self-contained program.
"""
from __future__ import annotations

import struct
from pathlib import Path

import torch
from torch import nn

from export.errors import ProgramExportError
from export.noise import NOISE_OPS

DATA_TAG = "cloud_weights"
DATA_FILE = f"{DATA_TAG}.ptd"
BLOB_ALIGNMENT = 16  # XNNPACK's constant alignment (CONSTANT_TENSOR_ALIGNMENT)


def lower_with_external_weights(module: nn.Module, example_input: torch.Tensor, data_path: Path) -> bytes:
    """The XNNPACK program of `module` without its delegated weights; those weights are written to the data file
    `data_path` (straight from the serializer: no copy of them is held in memory)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower

    with torch.no_grad():
        exported = torch.export.export(module.eval(), (example_input,), strict=False)
        tagged = tag_constants(exported)
        compile_config = EdgeCompileConfig(_core_aten_ops_exception_list=list(NOISE_OPS))
        program = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()],
                                              compile_config=compile_config).to_executorch()
        program_bytes = program.buffer
        data = program._tensor_data or {}  # 1.5.1 has no public accessor on ExecutorchProgramManager
        if tagged and DATA_TAG not in data:
            raise ProgramExportError(f"{tagged} weights were tagged for {data_path.name} but the program kept them "
                                     "inside; this executorch version does not externalize them")
        temporary = data_path.with_name(data_path.name + ".tmp")
        if DATA_TAG in data:
            with open(temporary, "wb") as file:
                data[DATA_TAG].write_to_file(file)
        else:
            SharedWeights().write(temporary)
        temporary.replace(data_path)
    return program_bytes


def tag_constants(exported: torch.export.ExportedProgram) -> int:
    """Mark every parameter, buffer and constant input of `exported` for the delegate's external data file (the
    tag the XNNPACK serializer reads); return how many. Done on the lifted graph: executorch's
    delegate_external_constants_pass_unlifted needs a second torch.export, which drops the tag of modules
    named by numbers (an nn.Sequential such as the reduced remainder: measured, 0 of its weights tagged)."""
    signature = exported.graph_signature
    constants = {**signature.inputs_to_parameters, **signature.inputs_to_buffers,
                 **signature.inputs_to_lifted_tensor_constants}
    tagged = 0
    for node in exported.graph.nodes:
        if node.op == "placeholder" and node.name in constants:
            node.meta.setdefault("custom", {})["delegate_constant_tag"] = DATA_TAG
            tagged += 1
    return tagged


def write_pte_with_external_weights(module: nn.Module, example_input: torch.Tensor, path: Path,
                                    part_path: Path) -> list[str]:
    """Write the program to `path` and its weights to the data file `part_path` (both atomically); return the
    keys of the weights, sorted."""
    try:
        program = lower_with_external_weights(module, example_input, part_path)
    except ProgramExportError:
        raise
    except Exception as error:  # lowering raises many error types
        raise ProgramExportError(f"ExecuTorch export of {path.name} with external weights failed: "
                                 f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                                 ) from error
    write_atomically(path, program)
    return sorted(data_file_keys(part_path))


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def read_data_blob(blob: bytes) -> dict[str, bytes]:
    """key -> bytes of a .ptd file's contents."""
    from executorch.exir._serialize._cord import Cord
    from executorch.extension.flat_tensor.serialize.serialize import FlatTensorSerializer

    payload = FlatTensorSerializer().deserialize(Cord(blob))
    return {key: bytes(payload.buffers[entry.buffer_index]) for key, entry in payload.named_data.items()}


def data_file_keys(path: Path) -> set[str]:
    """The keys a .ptd file holds, read from its header only (empty when the file is absent or unreadable)."""
    from executorch.extension.flat_tensor.serialize.serialize import FlatTensorHeader, _deserialize_to_flat_tensor

    try:
        with open(path, "rb") as file:
            start = file.read(8 + FlatTensorHeader.EXPECTED_LENGTH)
            header = FlatTensorHeader.from_bytes(start[8:])
            if not header.is_valid():
                return set()
            file.seek(0)
            table = file.read(header.flatbuffer_offset + header.flatbuffer_size)
        return {entry.key for entry in _deserialize_to_flat_tensor(table).named_data}
    except (OSError, ValueError, struct.error, RuntimeError):
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
        blobs = read_data_blob(Path(path).read_bytes())
        return cls({key: value for key, value in blobs.items() if keep is None or key in keep})

    def add_file(self, path: Path) -> None:
        """Add the blobs of another data file (a remainder's own weights) that are not here yet."""
        for key, value in read_data_blob(Path(path).read_bytes()).items():
            self.blobs.setdefault(key, value)

    def keep_only(self, keys: set[str]) -> None:
        self.blobs = {key: value for key, value in self.blobs.items() if key in keys}

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
