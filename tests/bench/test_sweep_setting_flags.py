"""The sweep's flags are made from SweepConfig's fields: each setting with a help text has exactly one flag of its
type, the flags read back into the same SweepConfig, and --resume sees which were given."""

import argparse
from dataclasses import fields

import pytest

from bench import run_device
from bench.sweep.setting_flags import add_setting_flags, config_from_args, given_setting_flags, setting_flags
from bench.sweep.settings import SweepConfig


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_setting_flags(parser)
    return parser.parse_args(argv)


def test_every_setting_with_a_help_has_one_flag_and_the_others_none():
    declared = {item.name for item in fields(SweepConfig) if item.metadata.get("help")}
    flags = setting_flags()
    assert {flag.field for flag in flags} == declared
    assert {"cooldown_margin_c", "threads", "reconnect_backoff_s"}.isdisjoint(declared)
    assert [flag.flag for flag in flags if flag.field in ("configurations", "drop_caches", "measure_core_peak")] == [
        "--configs", "--no-drop-caches", "--no-core-peak"]
    assert "(default 60)" in next(flag.help for flag in flags if flag.field == "iterations")


def test_flags_read_back_into_the_settings():
    args = parse(["--iterations", "5", "--cooldown-s", "0.5", "--cooldown-max-s", "1", "--configs", "full,conv5_1_simple",
                  "--formats", "pte", "--no-drop-caches", "--no-core-peak", "--target-ci-pct", "2", "--core", "0"])
    config = config_from_args(args)
    assert config == SweepConfig(iterations=5, cooldown_s=0.5, cooldown_max_s=1.0,
                                 configurations=("full", "conv5_1_simple"), formats=("pte",), drop_caches=False,
                                 measure_core_peak=False, target_ci_pct=2.0, core=0)
    assert config_from_args(parse([])) == SweepConfig()
    assert given_setting_flags(args) == ["--iterations", "--cooldown-s", "--cooldown-max-s", "--core", "--configs",
                                         "--formats", "--no-drop-caches", "--no-core-peak", "--target-ci-pct"]


def test_a_bad_value_is_refused_by_the_parser():
    with pytest.raises(SystemExit):
        parse(["--iterations", "many"])
    with pytest.raises(SystemExit):
        parse(["--backends", ","])


def test_the_command_line_has_the_generated_flags_and_a_runner_bundle_option_per_runtime():
    options = {option for action in run_device.build_parser()._actions for option in action.option_strings}
    assert {flag.flag for flag in setting_flags()} <= options
    assert {"--runner-bundle", "--lite-runner-bundle"} <= options
