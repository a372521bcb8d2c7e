"""The folder's shared data file while an export adds programs: blobs read only when missing, the file rewritten
only when its keys change, a stored data file with exactly the folder's keys linked instead."""
import os

from export.shared_weights import FolderWeights, SharedWeights, read_data_file

A, B, C = "a" * 64, "b" * 64, "c" * 64


def data_file(path, blobs):
    SharedWeights(blobs).write(path)
    return path


def test_parts_bring_only_their_missing_blobs_and_the_file_is_rewritten_with_exactly_the_kept_keys(tmp_path):
    folder_file = data_file(tmp_path / "weights.ptd", {A: b"\x01" * 32})
    weights = FolderWeights(folder_file)
    weights.add_part(data_file(tmp_path / "one.part", {A: b"\x01" * 32, B: b"\x02" * 16}))
    assert set(weights.new.blobs) == {B}  # A is on disk already: not read again
    weights.add_part(data_file(tmp_path / "two.part", {B: b"\x02" * 16, C: b"\x03" * 8}))
    assert weights.finish({A, C}) is None
    assert read_data_file(folder_file) == {A: b"\x01" * 32, C: b"\x03" * 8}


def test_an_unchanged_file_is_left_alone_and_no_keys_remove_it(tmp_path):
    folder_file = data_file(tmp_path / "weights.ptd", {A: b"\x01" * 32})
    before = os.stat(folder_file).st_ino
    weights = FolderWeights(folder_file)
    weights.add_part(data_file(tmp_path / "one.part", {A: b"\x01" * 32}))
    weights.finish({A})
    assert os.stat(folder_file).st_ino == before
    FolderWeights(folder_file).finish(set())
    assert not folder_file.exists()


def test_a_stored_file_with_exactly_the_folders_keys_is_linked_and_otherwise_read(tmp_path):
    stored = data_file(tmp_path / "stored.ptd", {A: b"\x01" * 32, B: b"\x02" * 16})
    weights = FolderWeights(tmp_path / "weights.ptd")  # a fresh folder
    weights.add_stored(stored, [A])
    weights.add_stored(stored, [B])
    assert weights.finish({A, B}) == stored
    assert os.path.samefile(stored, tmp_path / "weights.ptd")
    other = FolderWeights(tmp_path / "other.ptd")
    other.add_stored(stored, [A])
    other.add_part(data_file(tmp_path / "c.part", {C: b"\x03" * 8}))
    assert other.finish({A, C}) is None  # the stored file has B too: the folder's own file is written
    assert read_data_file(tmp_path / "other.ptd") == {A: b"\x01" * 32, C: b"\x03" * 8}
