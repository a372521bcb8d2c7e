"""fp32 XNNPACK device programs (full model and clients) keep their weights once, in the folder's data file
(manifest version 4), unless the export is asked to embed them; the programs compute the same either way."""
from dataclasses import replace

import pytest
import torch

from export.pipeline import run_export
from export.shared_weights import DATA_FILE, data_file_keys
from formats.file_hash import file_sha256
from formats.manifest import load_manifest, program_file

pytestmark = pytest.mark.slow  # exports programs


def run_pte(path, image, data_path=None):
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(str(path), data_path=data_path).load_method("forward")
    return method.execute([image])[0]


def test_full_and_clients_share_one_listed_data_file_and_other_backends_keep_their_weights(small_export):
    manifest_path, manifest = small_export
    data_path = manifest_path.parent / DATA_FILE
    assert manifest.data_files and manifest.data_files[0].file == DATA_FILE
    assert manifest.data_files[0].sha256 == file_sha256(data_path)
    assert manifest.data_files[0].size_bytes == data_path.stat().st_size
    in_file = data_file_keys(data_path)
    xnnpack = [entry for entry in manifest.programs if entry.backend == "xnnpack"]
    assert {entry.role for entry in xnnpack} == {"full", "client"}
    for entry in xnnpack:
        assert entry.data_file == DATA_FILE and entry.data_keys and set(entry.data_keys) <= in_file, entry.id
    for entry in manifest.programs:
        if entry.backend != "xnnpack":
            assert entry.data_file is None and entry.data_keys is None, entry.id
    full_keys = set(manifest.program("full.xnnpack").data_keys)
    assert set(manifest.program("conv5_3_simple.xnnpack").data_keys) <= full_keys  # the same weights, once
    assert in_file == {key for entry in xnnpack for key in entry.data_keys}  # nothing that no program needs


def test_embedded_programs_compute_what_shared_ones_do_and_take_more_disk(small_export, tmp_path):
    from small_export_config import small_export_config

    manifest_path, manifest = small_export
    config = replace(small_export_config(tmp_path / "embedded"), backends=("xnnpack",), noise_variance=None,
                     noise_splits=None, device_weights="embedded")
    embedded = run_export(config)
    assert embedded.data_files == [] and all(entry.data_file is None for entry in embedded.programs)
    assert not (tmp_path / "embedded" / DATA_FILE).exists()
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    data_path = manifest_path.parent / DATA_FILE
    for program_id in ("full.xnnpack", "conv5_2_simple.xnnpack", "conv5_1_reduced.xnnpack"):
        shared_output = run_pte(program_file(manifest_path, manifest.program(program_id)), image.clone(), data_path)
        own_output = run_pte(program_file(tmp_path / "embedded" / "manifest.json", embedded.program(program_id)),
                             image.clone())
        assert torch.equal(shared_output, own_output), program_id
    shared_bytes = data_path.stat().st_size + sum(entry.size_bytes for entry in manifest.programs
                                                  if entry.backend == "xnnpack" and entry.noise is None)
    embedded_bytes = sum(entry.size_bytes for entry in embedded.programs)
    assert shared_bytes < 0.75 * embedded_bytes, (shared_bytes, embedded_bytes)


def test_a_second_export_reuses_every_program_and_leaves_the_data_file_as_it_was(small_export, tmp_path):
    from small_export_config import small_export_config

    config = replace(small_export_config(tmp_path / "again"), backends=("xnnpack",), include_reduced=False,
                     noise_variance=None, noise_splits=None)
    first = run_export(config)
    before = file_sha256(tmp_path / "again" / DATA_FILE)
    events = []
    second = run_export(config, on_event=events.append)
    assert {event.kind for event in events} == {"program_reused"}
    assert second.data_files == first.data_files and file_sha256(tmp_path / "again" / DATA_FILE) == before
    assert load_manifest(tmp_path / "again" / "manifest.json").data_files == first.data_files
