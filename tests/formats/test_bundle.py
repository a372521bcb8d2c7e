"""bundle.json: its reader (schema, version 1 and 2, every file confined to the bundle folder) and its Python writer,
which must describe a folder exactly as the build's CMake writer does."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from formats.bundle import BUNDLE_FILE, BundleError, SourceWheel, read_bundle, write_bundle
from formats.errors import UnsupportedSchema

REPO = Path(__file__).resolve().parents[2]
CMAKE_WRITER = REPO / "android_app" / "cmake" / "write_bundle_manifest.cmake"


def make_build(folder: Path) -> Path:
    """A folder shaped like a runner build: the runner and two libraries (not ELF files)."""
    (folder / "lib").mkdir(parents=True)
    (folder / "splitbench_runner").write_bytes(b"#!/bin/sh\necho runner\n")
    (folder / "lib" / "libone.so").write_bytes(b"one" * 100)
    (folder / "lib" / "ld-test.so.1").write_bytes(b"loader")
    return folder


def edit(folder: Path, change) -> None:
    document = json.loads((folder / BUNDLE_FILE).read_text())
    change(document)
    (folder / BUNDLE_FILE).write_text(json.dumps(document))


def test_the_python_writer_describes_a_folder_as_the_cmake_writer_does(tmp_path):
    ours, theirs = make_build(tmp_path / "ours"), make_build(tmp_path / "theirs")
    wheel = SourceWheel("executorch", "1.5.1", "executorch.whl", "ab" * 32)
    write_bundle(ours, "android", "arm64-v8a", "0.1.0", libc="glibc-bundled", loader="lib/ld-test.so.1",
                 source_wheel=wheel)
    subprocess.run(["cmake", f"-DBUNDLE_DIR={theirs}", "-DBUNDLE_PLATFORM=android", "-DBUNDLE_ABI=arm64-v8a",
                    "-DRUNNER_VERSION=0.1.0", "-DBUNDLE_LIBC=glibc-bundled", "-DBUNDLE_LOADER=lib/ld-test.so.1",
                    "-DWHEEL_NAME=executorch", "-DWHEEL_VERSION=1.5.1", "-DWHEEL_FILE=executorch.whl",
                    f"-DWHEEL_SHA256={'ab' * 32}", "-P", str(CMAKE_WRITER)], check=True, capture_output=True)
    assert json.loads((ours / BUNDLE_FILE).read_text()) == json.loads((theirs / BUNDLE_FILE).read_text())
    read_back = read_bundle(theirs)
    assert read_back.loader == "lib/ld-test.so.1" and read_back.library_path == ("lib",)
    assert read_back.source_wheel == wheel and read_back.libc == "glibc-bundled"
    assert [f.path for f in read_back.files] == ["lib/ld-test.so.1", "lib/libone.so", "splitbench_runner"]
    assert read_back.total_size_bytes == sum((theirs / f.path).stat().st_size for f in read_back.files)


def test_a_version_1_bundle_reads_as_a_plain_build(tmp_path):
    folder = make_build(tmp_path / "b")
    write_bundle(folder, "linux", "x86_64", "t")
    edit(folder, lambda d: [d.update(schema_version=1)] + [d.pop(k) for k in ("launch", "libc", "source_wheel")])
    bundle = read_bundle(folder)
    assert (bundle.loader, bundle.library_path, bundle.libc, bundle.schema_version) == (None, ("lib",), "system", 1)


def test_an_unknown_schema_version_is_refused(tmp_path):
    folder = make_build(tmp_path / "b")
    write_bundle(folder, "linux", "x86_64", "t")
    edit(folder, lambda d: d.update(schema_version=3))
    with pytest.raises(UnsupportedSchema, match="schema_version 3 is not supported"):
        read_bundle(folder)


def test_a_symlink_to_a_host_file_is_refused_before_anything_can_push_it(tmp_path):
    """A planted bundle whose library is a link to a file of this host must not get that file pushed."""
    secret = tmp_path / "host_secret"
    secret.write_bytes(b"private key of this host")
    folder = make_build(tmp_path / "b")
    (folder / "lib" / "libone.so").unlink()
    os.symlink(secret, folder / "lib" / "libone.so")
    write_bundle(folder, "linux", "x86_64", "t")  # lists the link with the secret's size and hash
    with pytest.raises(BundleError, match=r"lib/libone.so resolves to .*host_secret, outside the bundle folder"):
        read_bundle(folder)


def test_a_symlinked_folder_out_of_the_bundle_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "libtwo.so").write_bytes(b"two")
    folder = make_build(tmp_path / "b")
    os.symlink(outside, folder / "lib" / "more")
    write_bundle(folder, "linux", "x86_64", "t")
    edit(folder, lambda d: d["files"].append({"path": "lib/more/libtwo.so", "sha256": "0" * 64, "size_bytes": 3,
                                              "mode": "755"}))
    with pytest.raises(BundleError, match="outside the bundle folder"):
        read_bundle(folder)


def test_a_link_inside_the_bundle_and_a_bundle_folder_reached_through_a_link_are_fine(tmp_path):
    folder = make_build(tmp_path / "real")
    os.symlink("libone.so", folder / "lib" / "libone.so.1")
    write_bundle(folder, "linux", "x86_64", "t")
    os.symlink(folder, tmp_path / "linked")
    assert "lib/libone.so.1" in {f.path for f in read_bundle(tmp_path / "linked").files}


@pytest.mark.parametrize(("path", "words"), [
    ("/etc/passwd", "not a plain path inside the bundle folder"),
    ("../outside.so", "not a plain path inside the bundle folder"),
    ("lib//x.so", "not a plain path inside the bundle folder"),
    ("lib\\x.so", "backslash or control character"),
    ("lib/x\n.so", "backslash or control character"),
    (7, "is not a path"),
])
def test_file_paths_must_be_plain_and_relative(tmp_path, path, words):
    folder = make_build(tmp_path / "b")
    write_bundle(folder, "linux", "x86_64", "t")
    edit(folder, lambda d: d["files"].append({"path": path, "sha256": "0" * 64, "size_bytes": 1, "mode": "644"}))
    with pytest.raises(BundleError, match=words):
        read_bundle(folder)


def test_the_loader_and_library_folders_must_be_plain_and_relative(tmp_path):
    folder = make_build(tmp_path / "b")
    write_bundle(folder, "linux", "x86_64", "t", loader="lib/ld-test.so.1")
    edit(folder, lambda d: d["launch"].update(library_path=["/usr/lib"]))
    with pytest.raises(BundleError, match="launch.library_path folder '/usr/lib'"):
        read_bundle(folder)
    edit(folder, lambda d: d["launch"].update(library_path=["lib"], loader="../ld.so"))
    with pytest.raises(BundleError, match="launch.loader '../ld.so'"):
        read_bundle(folder)


def test_a_missing_runner_a_wrong_size_and_a_malformed_entry_are_one_error_each(tmp_path):
    folder = make_build(tmp_path / "b")
    write_bundle(folder, "linux", "x86_64", "t")
    (folder / "lib" / "libone.so").write_bytes(b"changed")
    with pytest.raises(BundleError, match="libone.so is missing or differs"):
        read_bundle(folder)
    edit(folder, lambda d: d.update(files=[f for f in d["files"] if f["path"] != "splitbench_runner"]))
    with pytest.raises(BundleError, match="lists no splitbench_runner"):
        read_bundle(folder)
    edit(folder, lambda d: d["files"].append({"path": "x", "sha256": "0", "size_bytes": "big"}))
    with pytest.raises(BundleError, match="malformed field"):
        read_bundle(folder)
    (folder / BUNDLE_FILE).write_text("{not json")
    with pytest.raises(BundleError, match="unreadable"):
        read_bundle(folder)
