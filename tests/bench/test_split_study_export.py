"""The split study's export: a split point that does not exist is one clear error before anything is exported."""

from scripts.split_study_export import main, parse_splits


def test_an_unknown_split_point_is_one_clear_error(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "study"), "--splits", "conv1_1,conv9_9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown split point 'conv9_9'" in err[0] and "valid split points: conv1_1" in err[0]
    assert not (tmp_path / "study" / "manifest.json").exists()


def test_all_means_every_vgg16_split_point_in_network_order():
    splits = parse_splits("all")
    assert len(splits) == 18 and splits[0] == "conv1_1" and splits[-1] == "pool5"
    assert parse_splits("pool3, conv5_1") == ("pool3", "conv5_1")
