"""The trained network end to end on the loopback device: a real photo (the coffee cup) in, the client of EfficientNet-Lite0 on
the device, its remainder on the host on the device's own bytes, and the predicted class equal to the fp32 full
model's, for the fp32 and the int8 client (int8 calibrated on the calibration photos only); on the arm64
loopback device too (the aarch64 runner under qemu, fp32)."""

from __future__ import annotations

import pytest
import torch

from bench.adb.reconnect import DeviceLink
from bench.adb.target import device_connector
from bench.cloud.photo_run import PhotoInput, run_photos_on_device
from bench.sweep.programs import load_manifest_file
from export.config import ExportConfig
from export.photos import evaluation_set, imagenet_class_names
from export.pipeline import MANIFEST_NAME, run_export
from export.trained import efficientnet_lite0

pytestmark = pytest.mark.slow
SPLIT = "_blocks.7"  # mid-network, the end of an MBConv block whose input is not carried along
ESPRESSO = 967  # ImageNet class of the coffee photo: the trained network gives it p = 0.84 (margin 2.4 logits)


@pytest.fixture(scope="module")
def trained_export(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    config = ExportConfig(out_dir=out, model_factory="export.trained:efficientnet_lite0", num_classes=None,
                          splits=(SPLIT,), include_reduced=False, include_full=False,
                          backends=("xnnpack", "xnnpack_int8"), cloud_backends=("xnnpack",),
                          calibration_photos=True, calibration_count=8, accuracy_count=6)
    run_export(config)
    return out / MANIFEST_NAME


@pytest.fixture(scope="module")
def coffee_photo():
    """The evaluation photo with the clearest top-1 (the cat's top two, Egyptian cat and tabby, are 0.2 logits
    apart: int8 may swap them, which says nothing about the split)."""
    images, names = evaluation_set(224)
    index = names.index("coffee")
    image = images[index:index + 1]
    with torch.no_grad():
        reference = efficientnet_lite0()(image).reshape(-1)
    return PhotoInput("coffee", image.numpy()), reference


def run_on(serial: str, manifest_path, program_ids, photo, tmp_path):
    manifest = load_manifest_file(manifest_path)
    with device_connector(serial) as connect:
        link = DeviceLink(connect)
        try:
            return run_photos_on_device(manifest, program_ids, [photo], serial, link, core=0, run_id="test-photos",
                                        local_dir=tmp_path)
        finally:
            link.close()


def test_a_real_photo_through_the_device_client_and_host_remainder_gives_the_full_models_class(
        trained_export, coffee_photo, host_runner_bundle, tmp_path):
    photo, reference = coffee_photo
    assert int(reference.argmax()) == ESPRESSO  # the trained network sees the espresso
    outcomes = run_on("loopback", trained_export, [f"{SPLIT}_simple.xnnpack", f"{SPLIT}_simple.xnnpack_int8"],
                      photo, tmp_path)
    assert [o.status for o in outcomes] == ["ok", "ok"], [o.message for o in outcomes]
    names = imagenet_class_names()
    for outcome in outcomes:
        assert outcome.remainder_id == f"{SPLIT}_simple.cloud.xnnpack"
        assert int(outcome.logits.argmax()) == int(reference.argmax()), (
            f"{outcome.program_id}: {names[int(outcome.logits.argmax())]} vs {names[int(reference.argmax())]}")
    fp32, int8 = outcomes
    assert fp32.device_output_bytes == 4 * 80 * 14 * 14  # _blocks.7 ends at 80 channels, 14x14
    scale = float(reference.abs().max())
    assert float((torch.from_numpy(fp32.logits) - reference).abs().max()) <= 2e-3 * scale
    assert not torch.equal(torch.from_numpy(int8.logits), torch.from_numpy(fp32.logits))  # int8 really ran


def test_the_same_on_the_arm64_loopback_device(trained_export, coffee_photo, host_runner_bundle, tmp_path):
    from android_bundle_builds import ensure_android_bundle

    ensure_android_bundle("arm64-v8a")
    photo, reference = coffee_photo
    (outcome,) = run_on("loopback-arm64", trained_export, [f"{SPLIT}_simple.xnnpack"], photo, tmp_path)
    assert outcome.status == "ok", outcome.message
    assert int(outcome.logits.argmax()) == int(reference.argmax())
