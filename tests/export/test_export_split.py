"""Split points and the client/cloud cut of VGG-16."""
import pytest
import torch
from torch import nn

from export.errors import ConfigError
from export.models import ModelShape, seeded_vgg16
from export.split_model import split_vgg16
from export.split_points import SPLIT_POINT_NAMES, check_split_point, split_point_ends

SMALL = ModelShape(num_classes=2, input_size=32, width_divisor=16)


@pytest.fixture(scope="module")
def small_model() -> nn.Module:
    return seeded_vgg16(SMALL, seed=0)


def test_split_point_ends_match_caffe_names_on_torchvision_layout(small_model):
    ends = split_point_ends(small_model.features)
    assert tuple(ends) == SPLIT_POINT_NAMES
    # torchvision vgg16 features: conv5_1 at index 24, its ReLU at 25; pool5 is the last layer (30).
    assert ends["conv1_1"] == 2 and ends["pool1"] == 5
    assert ends["conv5_1"] == 26 and ends["conv5_2"] == 28 and ends["conv5_3"] == 30 and ends["pool5"] == 31


def test_conv_split_includes_its_relu(small_model):
    client = split_vgg16(small_model, "conv5_1", 32).client
    ops = [node.target for node in client.graph_module.graph.nodes if node.op == "call_function"]
    assert ops[-1] == torch.ops.aten.relu.default and ops[-2] == torch.ops.aten.conv2d.default


def test_unknown_split_point_lists_valid_names():
    with pytest.raises(ConfigError, match="unknown split point 'conv6_1'.*conv5_3"):
        check_split_point("conv6_1")


@pytest.mark.parametrize("split", SPLIT_POINT_NAMES)
def test_client_then_cloud_equals_full_model(small_model, split):
    image = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    halves = split_vgg16(small_model, split, 32)
    with torch.no_grad():
        expected = torch.cat([small_model(image[i:i + 1].clone()) for i in range(2)])  # the graph is batch 1
        joined = halves.cloud(halves.client(image.clone()))
    torch.testing.assert_close(joined, expected, rtol=0, atol=0)


@pytest.mark.parametrize("split", ["conv5_1", "conv5_2", "conv5_3", "pool3"])
def test_client_output_is_the_full_models_activation_at_the_split(small_model, split):
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    captured = {}
    layer_index = split_point_ends(small_model.features)[split] - 1
    hook = small_model.features[layer_index].register_forward_hook(
        lambda module, inputs, output: captured.setdefault("activation", output.clone()))
    try:
        with torch.no_grad():
            small_model(image.clone())
            client_output = split_vgg16(small_model, split, 32).client(image.clone())
    finally:
        hook.remove()
    torch.testing.assert_close(client_output, captured["activation"], rtol=0, atol=0)


def test_conv5_feature_sizes_at_full_size_match_the_paper():
    model = seeded_vgg16(ModelShape(input_size=224, width_divisor=16), seed=0)  # 1/16 of the channels
    cut = split_vgg16(model, "conv5_3", 224).cut
    assert cut.output_shape == (1, 512 // 16, 14, 14)  # 512x14x14 = 100352 values at full width, as in the paper
