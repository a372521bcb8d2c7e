"""The manifest reader refuses program files that would reach outside the export folder, collide on the device,
or hold characters a device shell cannot take; each refusal is one error naming the entry."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from formats.errors import ManifestError
from formats.manifest import load_manifest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from sweep_fakes import write_manifest  # noqa: E402


def manifest_with_file(tmp_path: Path, file: str, configuration: str = "conv5_1_simple") -> Path:
    path = write_manifest(tmp_path / "export", ["full", "conv5_1_simple"])
    data = json.loads(path.read_text())
    next(p for p in data["programs"] if p["configuration"] == configuration)["file"] = file
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("file, complaint", [
    ("/etc/passwd", "is an absolute path"),
    ("../outside.pte", "leaves the manifest's folder"),
    ("sub/../../outside.pte", "leaves the manifest's folder"),
    ("sub//x.pte", "has an empty part"),
    ("bad\nname.pte", "U+000A"),
    ("bad\\name.pte", "U+005C"),
    ("bad\x00name.pte", "U+0000"),
    ("bad\tname.pte", "U+0009"),
    ("bad\x1bname.pte", "U+001B"),
])
def test_a_file_outside_the_folder_or_unfit_for_a_shell_is_refused_naming_the_entry(tmp_path, file, complaint):
    path = manifest_with_file(tmp_path, file)
    with pytest.raises(ManifestError) as refused:
        load_manifest(path)
    message = str(refused.value)
    assert complaint in message and "'conv5_1_simple.xnnpack'" in message and "re-export" in message
    assert str(path) in message


def test_two_entries_with_one_base_name_are_refused(tmp_path):
    path = manifest_with_file(tmp_path, "other/full.xnnpack.pte")
    with pytest.raises(ManifestError, match="'conv5_1_simple.xnnpack': file 'other/full.xnnpack.pte' has the same "
                                            "base name as program 'full.xnnpack'"):
        load_manifest(path)


def test_plain_names_and_subfolders_are_read(tmp_path):
    path = manifest_with_file(tmp_path, "sub/conv5_1 simple.xnnpack.pte")
    manifest = load_manifest(path)
    assert manifest.program("conv5_1_simple.xnnpack").file == "sub/conv5_1 simple.xnnpack.pte"
