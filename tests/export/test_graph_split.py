"""Split points from the exported graph: a model from a third-party package (EfficientNet-Lite0, trained) listed
and cut at every point, a branch named as a split point, and the bring-your-own-model errors (one line each)."""
from __future__ import annotations

import pytest
import torch

from export.cli import main
from export.errors import ConfigError
from export.graph_split import SplitPointError, trace_model
from export.trained import efficientnet_lite0

LITE_SIZE = 96  # a small input keeps the test quick; the network is the trained one


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.slow
def test_a_third_party_model_is_cut_at_every_graph_point_and_client_plus_remainder_is_the_model():
    model = efficientnet_lite0()
    assert type(model).__module__ == "efficientnet_lite_pytorch.model"  # not a class of this project
    graph = trace_model(model, LITE_SIZE)
    names = graph.names
    assert len(names) == len(set(names)) > 40
    assert "_blocks.7" not in graph.names or graph.cut_point("_blocks.7")
    flops = [cut.cumulative_flops for cut in graph.cut_points]
    assert flops == sorted(flops) and flops[0] < flops[-1]
    image = torch.randn(2, 3, LITE_SIZE, LITE_SIZE, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = torch.cat([model(image[i:i + 1]) for i in range(2)])
        for name in names:
            halves = graph.split(name)
            joined = halves.remainder(halves.client(image))
            torch.testing.assert_close(joined, expected, rtol=0, atol=float(1e-5 * expected.abs().max()),
                                       msg=f"split at {name}")
            assert tuple(halves.client(image[:1]).shape) == halves.cut.output_shape
    # residual blocks (same channels in and out, stride 1) offer no cut inside them
    with pytest.raises(SplitPointError, match="inside a branch"):
        graph.cut_point("_blocks.2._depthwise_conv")


def test_the_list_shows_shape_bytes_and_flops_of_each_cut_point(capsys):
    assert main(["--model", "byom_models:residual", "--input-size", "32", "--splits", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in out[2:]}
    assert list(rows) == ["stem", "add", "out", "pool", "flatten"]  # nothing inside body: the skip is live
    assert rows["stem"][1:3] == ["4x32x32", str(4 * 4 * 32 * 32)]
    assert float(rows["out"][3]) > float(rows["stem"][3])


def test_a_split_point_inside_a_branch_is_refused_with_the_reason(tmp_path, capsys):
    code = main(["--model", "byom_models:residual", "--input-size", "32", "--splits", "body.1", "--no-reduced",
                 "--out", str(tmp_path)])
    lines = error_lines(capsys)
    assert code == 2 and len(lines) == 1
    assert "'body.1' is inside a branch" in lines[0] and "stem" in lines[0]
    graph = trace_model(__import__("byom_models").residual(), 32)
    with pytest.raises(ConfigError, match="inside a branch"):
        graph.split("body.0")


@pytest.mark.parametrize(("model", "extra", "expected"), [
    ("no_such_module:build", [], "cannot be imported"),
    ("byom_models:not_a_module", [], "returned dict, not a torch.nn.Module"),
    ("byom_models:raise_on_call", [], "has no attribute"),
    ("byom_models", [], "must be MODULE:CALLABLE"),
    ("byom_models:data_dependent", [], "torch.export cannot export this model"),
    ("byom_models:fixed_size", ["--input-size", "40"], "torch.export cannot export this model for input 1x3x40x40"),
    ("byom_models:fixed_size", ["--num-classes", "5"], "takes no num_classes argument"),
])
def test_bad_models_are_one_clear_line(tmp_path, capsys, model, extra, expected):
    code = main(["--model", model, "--out", str(tmp_path), "--no-reduced", "--backends", "xnnpack", *extra])
    lines = error_lines(capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("export: error:")
    assert expected in lines[0]


def test_weights_that_do_not_match_are_one_clear_line(tmp_path, capsys):
    weights = tmp_path / "other.pt"
    torch.save(__import__("byom_models").fixed_size().state_dict(), weights)
    code = main(["--model", "byom_models:residual", "--input-size", "32", "--weights", str(weights),
                 "--out", str(tmp_path / "out"), "--no-reduced"])
    lines = error_lines(capsys)
    assert code == 2 and len(lines) == 1 and "lacks key" in lines[0]
