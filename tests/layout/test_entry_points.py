"""The commands of [project.scripts] name functions that exist, and the scripts import the installed packages
rather than putting the repository on sys.path themselves."""

import importlib
import inspect
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_command_names_a_main_that_takes_argv():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert {"splitbench-export", "splitbench-sweep", "splitbench-cloud", "splitbench-analyse"} <= set(scripts)
    for command, target in scripts.items():
        module_name, _, function_name = target.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        assert list(inspect.signature(function).parameters) == ["argv"], command


def test_no_script_puts_the_repository_on_sys_path():
    files = [*sorted((REPO / "scripts").glob("*.py")), REPO / "bench" / "run_device.py"]
    offenders = [str(path.relative_to(REPO)) for path in files if "sys.path.insert" in path.read_text()]
    assert offenders == []
