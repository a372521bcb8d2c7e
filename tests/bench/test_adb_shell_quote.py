import subprocess

import pytest

from bench.adb.quoting import MARKER_PREFIX, mark_command, quote_argv

AWKWARD = ["it's", 'say "hi"', "$HOME and `id`", "a b\tc", "semi;colon", "back\\slash", "", "*"]


def run_locally(command: str) -> str:
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout


def test_every_argument_survives_the_shell_intact():
    command = quote_argv(["printf", r"[%s]\n", *AWKWARD])
    assert run_locally(command) == "".join(f"[{arg}]\n" for arg in AWKWARD)


def test_a_string_is_refused_as_argv():
    with pytest.raises(ValueError, match="list of arguments"):
        quote_argv("ls -l")


@pytest.mark.parametrize(
    ("command", "exit_code", "output"),
    [
        ("echo hi; exit 3", 3, "hi\n"),
        ("printf 'no newline'", 0, "no newline"),
        ("false # a trailing comment", 1, ""),
        ("(exit 7)", 7, ""),
    ],
)
def test_marker_brings_back_the_exit_code_and_the_exact_output(command, exit_code, output):
    marked = mark_command(command)
    assert marked.parse(run_locally(marked.wire_command)) == (exit_code, output)


def test_output_without_the_marker_is_not_a_result():
    marked = mark_command("echo hi")
    assert marked.parse("hi\n") is None
    assert marked.parse(f"hi\n{MARKER_PREFIX}someone-else=0\n") is None


def test_markers_are_unique():
    assert mark_command("true").marker != mark_command("true").marker
