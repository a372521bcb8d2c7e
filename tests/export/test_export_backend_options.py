"""--backends / --cloud-backends, and the deprecated --formats / --cloud-formats that still work."""
import pytest

from export.cli import build_parser, config_from_args, main
from export.errors import ConfigError


def test_backend_options_reach_the_configuration(tmp_path):
    args = build_parser().parse_args(["--out", str(tmp_path), "--backends", "lite,portable",
                                      "--cloud-backends", "none"])
    config = config_from_args(args)
    assert config.backends == ("lite", "portable") and config.cloud_backends == ()


def test_deprecated_format_options_still_set_the_backends(tmp_path):
    args = build_parser().parse_args(["--out", str(tmp_path), "--formats", "portable", "--cloud-formats", "lite"])
    config = config_from_args(args)
    assert config.backends == ("portable",) and config.cloud_backends == ("lite",)


def test_old_and_new_option_together_are_refused(tmp_path):
    args = build_parser().parse_args(["--out", str(tmp_path), "--formats", "lite", "--backends", "lite"])
    with pytest.raises(ConfigError, match="--formats and --backends both given; pass only --backends"):
        config_from_args(args)


def test_deprecated_option_prints_one_line_on_stderr(tmp_path, capsys):
    # An unknown backend stops the run before any export, after the deprecation line.
    assert main(["--out", str(tmp_path), "--formats", "tflite"]) == 2
    err_lines = capsys.readouterr().err.splitlines()
    assert err_lines[0] == "export: warning: --formats is deprecated (it names backends); use --backends"
    assert "unknown backend 'tflite'" in err_lines[1] and len(err_lines) == 2


def test_new_options_print_no_deprecation(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--backends", "tflite"]) == 2
    assert "deprecated" not in capsys.readouterr().err
