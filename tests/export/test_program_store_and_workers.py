"""The program store's links and pruning, the export's worker count, and the studies benchmark's accounting,
without exporting anything."""
import json
import os

import pytest
from torch import nn

from export import parallel
from export.cache import ProgramStore, StoredProgram, place_link
from formats.file_hash import file_sha256
from formats.manifest import DataFileInfo, Manifest, ModelInfo, ProgramEntry
from scripts.bench_studies import disk_bytes, runner_seconds


def stored_entry(key: str, file: str = "full.xnnpack.pte") -> ProgramEntry:
    return ProgramEntry(
        id=file.rsplit(".", 1)[0], configuration="full", role="full", split_point=None, reduction=None, noise=None,
        format="pte", backend="xnnpack", dtype="float32", file=file, sha256="", size_bytes=0,
        input_shape=[1, 3, 32, 32], input_dtype="float32", output_shape=[1, 2], output_dtype="float32",
        output_size_bytes=8, param_count=1, flops=1, ptl_bytecode_version=None, export_time_s=0.1, cache_key=key)


def manifest_of(*entries: ProgramEntry) -> Manifest:
    return Manifest(created_utc="2026-01-01T00:00:00Z", tools={}, model=ModelInfo("vgg16", 2, 32, 16, "seed:0"),
                    programs=list(entries))


def test_a_stored_program_is_one_inode_in_every_folder_and_pruned_when_no_folder_links_it(tmp_path):
    import hashlib

    folder, other = tmp_path / "one", tmp_path / "two"
    folder.mkdir(), other.mkdir()
    (folder / "full.xnnpack.pte").write_bytes(b"program bytes")
    entry = stored_entry("k1")
    entry = ProgramEntry(**{**entry.__dict__, "sha256": hashlib.sha256(b"program bytes").hexdigest(),
                            "size_bytes": 13})
    store = ProgramStore(tmp_path / "store")
    store.add(entry, folder, manifest_of(entry))
    assert store.lookup("k1") == StoredProgram(entry, None) and store.lookup("k2") is None
    store.link_into(entry, other)
    assert os.path.samefile(folder / "full.xnnpack.pte", other / "full.xnnpack.pte")
    # three names, one file on disk (beside it, the store's entry)
    assert disk_bytes(tmp_path) == disk_bytes(folder) + os.stat(store.entry_path("k1")).st_blocks * 512
    (folder / "full.xnnpack.pte").unlink()
    assert store.prune() == []  # `other` still links it
    (other / "full.xnnpack.pte").unlink()
    assert store.prune() == ["k1"] and not any((tmp_path / "store").iterdir())


def test_a_changed_stored_file_is_not_reused(tmp_path):
    (tmp_path / "full.xnnpack.pte").write_bytes(b"abc")
    entry = ProgramEntry(**{**stored_entry("k").__dict__, "sha256": "00" * 32, "size_bytes": 3})
    store = ProgramStore(tmp_path / "store")
    store.add(entry, tmp_path, manifest_of(entry))
    assert store.lookup("k") is None


def folder_with_shared_weights(folder, weights: bytes):
    """A folder whose one program keeps its weights in weights.ptd, and its manifest."""
    folder.mkdir()
    (folder / "full.xnnpack.pte").write_bytes(b"tiny program")
    (folder / "weights.ptd").write_bytes(weights)
    entry = ProgramEntry(**{**stored_entry("k").__dict__, "sha256": file_sha256(folder / "full.xnnpack.pte"),
                            "size_bytes": 12, "data_file": "weights.ptd", "data_keys": ["aa" * 32]})
    info = DataFileInfo("weights.ptd", file_sha256(folder / "weights.ptd"), len(weights))
    manifest = Manifest(**{**manifest_of(entry).__dict__, "data_files": [info]})
    return entry, info, manifest


def test_folders_with_the_same_data_file_share_it_and_a_stored_program_brings_its_data_file(tmp_path):
    store = ProgramStore(tmp_path / "store")
    entry, info, manifest = folder_with_shared_weights(tmp_path / "one", b"the model's weights")
    store.share_data_file(tmp_path / "one" / "weights.ptd", info)
    store.add(entry, tmp_path / "one", manifest)
    assert store.lookup("k") == StoredProgram(entry, store.data_file_path(info.sha256))
    _, same, _ = folder_with_shared_weights(tmp_path / "two", b"the model's weights")
    store.share_data_file(tmp_path / "two" / "weights.ptd", same)  # a second folder's equal file: one inode
    assert os.path.samefile(tmp_path / "one" / "weights.ptd", tmp_path / "two" / "weights.ptd")
    _, other, _ = folder_with_shared_weights(tmp_path / "three", b"other weights")
    store.share_data_file(tmp_path / "three" / "weights.ptd", other)  # different bytes: stored beside it
    assert not os.path.samefile(tmp_path / "one" / "weights.ptd", tmp_path / "three" / "weights.ptd")
    assert (tmp_path / "three" / "weights.ptd").read_bytes() == b"other weights"
    store.data_file_path(info.sha256).unlink()
    assert store.lookup("k") is None  # its weights are gone from the store: export it again
    (tmp_path / "three" / "weights.ptd").unlink()
    assert store.prune() == [other.sha256]


def test_a_stored_data_file_that_changed_is_replaced_by_the_folders(tmp_path):
    store = ProgramStore(tmp_path / "store")
    _, info, _ = folder_with_shared_weights(tmp_path / "one", b"weights")
    store.root.mkdir()
    store.data_file_path(info.sha256).write_bytes(b"damaged")
    store.share_data_file(tmp_path / "one" / "weights.ptd", info)
    assert store.data_file_path(info.sha256).read_bytes() == b"weights"
    assert (tmp_path / "one" / "weights.ptd").read_bytes() == b"weights"


def test_place_link_replaces_the_target(tmp_path):
    (tmp_path / "a").write_bytes(b"new")
    (tmp_path / "b").write_bytes(b"old")
    place_link(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == b"new" and os.path.samefile(tmp_path / "a", tmp_path / "b")


@pytest.mark.parametrize("available, requested, jobs, expected", [
    (64 * 2**30, None, 10, min(2, os.cpu_count() or 1)), (1 * 2**20, None, 10, 1), (64 * 2**30, None, 1, 1),
    (None, 3, 10, 3), (None, 3, 2, 2)])
def test_workers_follow_cores_memory_and_jobs(monkeypatch, available, requested, jobs, expected):
    monkeypatch.setattr(parallel, "available_memory_bytes", lambda: available)
    assert parallel.export_workers(requested, nn.Linear(1000, 1000), jobs) == expected


def test_runner_seconds_add_the_sweep_launches_and_the_cloud_stage_device_launches(tmp_path):
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps({"wall_s": value}) for value in (1.5, 2.5)) + "\n")
    (tmp_path / "cloud.jsonl").write_text(json.dumps({"device": {"wall_s": 0.5}}) + "\n"
                                          + json.dumps({"device": None}) + "\nnot json\n")
    assert runner_seconds(tmp_path) == pytest.approx(4.5)


def test_a_projection_is_linked_from_the_store_and_pruned_when_no_folder_links_it(tmp_path):
    store = ProgramStore(tmp_path / "store")
    (tmp_path / "one" / "pca").mkdir(parents=True)
    fitted = tmp_path / "one" / "pca" / "conv5_1_k8_abc.pt"
    fitted.write_bytes(b"projection")
    assert not store.link_projection("key", tmp_path / "two" / "pca" / "conv5_1_k8_abc.pt")
    store.add_projection("key", fitted)
    assert store.link_projection("key", tmp_path / "two" / "pca" / "conv5_1_k8_abc.pt")
    assert os.path.samefile(fitted, tmp_path / "two" / "pca" / "conv5_1_k8_abc.pt")
    fitted.unlink()
    assert store.prune() == []
    (tmp_path / "two" / "pca" / "conv5_1_k8_abc.pt").unlink()
    assert store.prune() == ["key"] and not store.projection_path("key").exists()
