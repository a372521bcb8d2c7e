"""Storage of exported programs: the fp32 XNNPACK programs of a folder (remainders, full model, clients) share one
data file, a program store hard-links a self-contained program two export folders both need, and the export in two
worker processes writes what one does."""
import os

import numpy as np
import pytest
import torch

from bench.cloud.host_runtime import HostProgram
from export.architectures import get_architecture, seeded_model
from export.cache import ProgramStore
from export.config import ExportConfig
from export.events import PROGRAM_EXPORTED, PROGRAM_REUSED
from export.models import ModelShape
from export.pipeline import run_export
from export.shared_weights import DATA_FILE, data_file_keys
from export.split_model import split_model

SMALL = dict(width_divisor=16, input_size=32, include_reduced=False, backends=("xnnpack",), calibration_count=8)
SPLITS = ("conv5_1", "pool5")


def export(out_dir, events=None, **changes):
    values = {**SMALL, "out_dir": out_dir, "splits": SPLITS, "cloud_backends": ("xnnpack",), **changes}
    sink = (lambda event: events.append(event)) if events is not None else (lambda event: None)
    return run_export(ExportConfig(**values), on_event=sink)


@pytest.mark.slow
def test_remainders_share_one_data_file_and_reproduce_the_eager_model(tmp_path):
    manifest = export(tmp_path / "study", workers=2, include_reduced=True, k_by_split={"conv5_1": 4, "pool5": 4})
    reduced = [entry for entry in manifest.programs_with_role("cloud") if entry.reduction is not None]
    remainders = [entry for entry in manifest.programs_with_role("cloud") if entry.reduction is None]
    for entry, simple in zip(reduced, remainders, strict=True):  # the trunk's and classifier's blobs are shared
        assert entry.data_file == DATA_FILE and set(simple.data_keys) == set(entry.data_keys)
        assert entry.size_bytes > simple.size_bytes  # its PCA reconstruction stays inside the program
        assert entry.size_bytes < (tmp_path / "study" / DATA_FILE).stat().st_size / 20
    assert [entry.split_point for entry in remainders] == list(SPLITS)
    assert all(entry.data_file == DATA_FILE and entry.data_keys for entry in remainders)
    conv5_1, pool5 = (set(entry.data_keys) for entry in remainders)
    assert pool5 < conv5_1  # the classifier's weights are one blob in the file, used by both
    full = manifest.program("full.xnnpack")
    assert conv5_1 <= set(full.data_keys)  # a remainder's weights are the full model's, stored once
    assert data_file_keys(tmp_path / "study" / DATA_FILE) == {
        key for entry in manifest.programs for key in entry.data_keys}
    data_bytes = (tmp_path / "study" / DATA_FILE).stat().st_size
    assert all(entry.size_bytes < data_bytes / 20 for entry in manifest.programs)  # no weights inside
    model = seeded_model("vgg16", ModelShape(2, 32, 16), 0).eval()
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    for entry in remainders:
        halves = split_model(get_architecture("vgg16"), model, entry.split_point, 32)
        with torch.no_grad():
            features = halves.client(image)
            expected = halves.cloud(features).numpy()
        program = HostProgram.load(tmp_path / "study" / entry.file, tmp_path / "study" / DATA_FILE)
        np.testing.assert_allclose(program.run(features.numpy()), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_reruns_reuse_remainders_only_while_their_weights_are_in_the_data_file(tmp_path):
    export(tmp_path / "study")
    events = []
    export(tmp_path / "study", events)
    assert {event.kind for event in events if event.name.endswith(".xnnpack")} == {PROGRAM_REUSED}
    (tmp_path / "study" / DATA_FILE).unlink()
    events = []
    export(tmp_path / "study", events)
    exported = sorted(event.name for event in events if event.kind == PROGRAM_EXPORTED)
    assert exported == ["conv5_1_simple.cloud.xnnpack", "conv5_1_simple.xnnpack", "full.xnnpack",
                        "pool5_simple.cloud.xnnpack", "pool5_simple.xnnpack"]
    assert (tmp_path / "study" / DATA_FILE).is_file()


@pytest.mark.slow
def test_a_program_two_folders_need_is_one_file_on_disk(tmp_path):
    store = tmp_path / "programs"
    one = export(tmp_path / "one", program_store=store, cloud_backends=(), workers=1, device_weights="embedded")
    events = []
    export(tmp_path / "two", events, program_store=store, splits=("pool5",), cloud_backends=("xnnpack",),
           device_weights="embedded")
    assert [e.kind for e in events if e.name == "full.xnnpack"] == [PROGRAM_REUSED]
    assert os.path.samefile(tmp_path / "one" / "full.xnnpack.pte", tmp_path / "two" / "full.xnnpack.pte")
    entry = one.program("full.xnnpack")
    assert ProgramStore(store).lookup(entry.cache_key).entry == entry
    # the store keeps no remainder (its weights are in its folder's data file) and prunes what no folder links
    assert not any(path.name.endswith(".cloud.xnnpack.pte") for path in store.iterdir())
    for path in (tmp_path / "one").glob("conv5_1_simple.*"):
        path.unlink()
    assert ProgramStore(store).prune() == [one.program("conv5_1_simple.xnnpack").cache_key]


@pytest.mark.slow
def test_two_folders_with_the_full_model_keep_one_data_file_and_reuse_its_programs(tmp_path):
    store = tmp_path / "programs"
    one = export(tmp_path / "one", program_store=store, cloud_backends=(), include_reduced=True,
                 k_by_split={"conv5_1": 4, "pool5": 4})
    events = []
    two = export(tmp_path / "two", events, program_store=store, splits=("pool5",), cloud_backends=("xnnpack",))
    assert [e.kind for e in events if e.name in ("full.xnnpack", "pool5_simple.xnnpack")] == [PROGRAM_REUSED] * 2
    assert os.path.samefile(tmp_path / "one" / DATA_FILE, tmp_path / "two" / DATA_FILE)  # one file on disk
    assert one.data_files == two.data_files
    assert data_file_keys(tmp_path / "one" / DATA_FILE) == set(one.program("full.xnnpack").data_keys)
    reduced = one.program("conv5_1_reduced.xnnpack")  # its PCA head stays inside: the data file is the model's
    assert set(reduced.data_keys) < set(one.program("full.xnnpack").data_keys)
    assert reduced.size_bytes >= one.program("conv5_1_simple.xnnpack").size_bytes + 4 * 128 * 4  # 4 x 128 floats
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    model = seeded_model("vgg16", ModelShape(2, 32, 16), 0).eval()
    with torch.no_grad():
        expected = model(image).numpy()
    program = HostProgram.load(tmp_path / "two" / "full.xnnpack.pte", tmp_path / "two" / DATA_FILE)
    np.testing.assert_allclose(program.run(image.numpy()), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_two_workers_write_the_bytes_one_worker_writes(tmp_path):
    serial = export(tmp_path / "serial", workers=1)
    parallel = export(tmp_path / "parallel", workers=2)
    assert [(e.id, e.sha256, e.data_keys) for e in serial.programs] == \
           [(e.id, e.sha256, e.data_keys) for e in parallel.programs]
    assert (tmp_path / "serial" / DATA_FILE).read_bytes() == (tmp_path / "parallel" / DATA_FILE).read_bytes()


@pytest.mark.slow
def test_the_data_file_reads_back_only_the_blobs_asked_for(tmp_path):
    from export.shared_weights import SharedWeights, read_data_file

    SharedWeights({"a" * 64: b"\x01" * 100, "b" * 64: b"\x02" * 7}).write(tmp_path / "one.ptd")
    assert data_file_keys(tmp_path / "one.ptd") == {"a" * 64, "b" * 64}
    assert read_data_file(tmp_path / "one.ptd", lambda key: key.startswith("b")) == {"b" * 64: b"\x02" * 7}
    merged = SharedWeights({"b" * 64: b"\x02" * 7, "c" * 64: b"\x03"})
    merged.add_file(tmp_path / "one.ptd")
    merged.write(tmp_path / "merged.ptd")
    assert read_data_file(tmp_path / "merged.ptd") == {"a" * 64: b"\x01" * 100, "b" * 64: b"\x02" * 7,
                                                       "c" * 64: b"\x03"}
    (tmp_path / "bad.ptd").write_bytes(b"not a data file")
    assert data_file_keys(tmp_path / "bad.ptd") == set() and data_file_keys(tmp_path / "absent.ptd") == set()
