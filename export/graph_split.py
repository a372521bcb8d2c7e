"""Split points found in a model's exported graph, and the two halves cut from that graph.

`trace_model` exports any `nn.Module` with `torch.export` (batch 1, the given input size) and walks the graph in
execution order. A *cut point* is a node after which exactly one value is still needed by the rest of the
network: the node's own output tensor (weights are constants both halves may use). Inside a residual block or any
other branch, the block's input (or another branch) is also still live, so no cut is offered there.

Each cut point is named after the outermost module whose call ends at that node (`_blocks.7`, `layer2`,
`features.3`); the other modules ending there are its aliases (`features` and `features.18` end together).
Operations called at the top level of a forward (no module of their own) are named by their graph node
(`view`, `flatten`). A module called twice gets `_2`, `_3`... after its name for the later calls.

The client is the graph up to the cut, the remainder the graph after it with the cut tensor as its input; both
are built from the graph's own nodes (no per-architecture code) and share the model's weights. In-place ATen ops
(`relu_`, `add_`) are replaced by their functional forms first, so that neither half mutates its input.
The graph is specialised to batch 1; the halves accept a batch and run it one image at a time.
"""
from __future__ import annotations

import contextlib
import io
import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import fx, nn
from torch.utils.flop_counter import FlopCounterMode

from export.errors import ConfigError, ExportError

FP32_BYTES = 4
# |full - client∘remainder| must stay within this times max|full| (the same ops in the same order: exact in practice).
SPLIT_CHECK_RTOL = 1e-6
# |graph - eager| after the in-place ops became functional: the same arithmetic, so this is loose on purpose.
GRAPH_CHECK_RTOL = 1e-4


class ModelNotExportable(ExportError):
    """torch.export cannot export the model (data-dependent control flow, unsupported ops, wrong input size)."""


class SplitPointError(ConfigError):
    """A split point the graph does not offer: unknown, or inside a branch (more than one live activation)."""


@dataclass(frozen=True)
class CutPoint:
    """One place where the graph can be cut: after `node`, only its output is needed by the rest.

    `index` counts cut points in execution order (0 = nearest the input); `cumulative_flops` are those of the
    client (torch.utils.flop_counter, a multiply-add counts 2).
    """

    name: str
    aliases: tuple[str, ...]
    node: str
    index: int
    output_shape: tuple[int, ...]
    cumulative_flops: int

    @property
    def output_bytes_fp32(self) -> int:
        values = 1
        for side in self.output_shape:
            values *= side
        return values * FP32_BYTES


@dataclass(frozen=True)
class BranchPoint:
    """A module's end that is not a cut point: `live` names the other values still needed after it."""

    name: str
    live: tuple[str, ...]


class BatchOfOne(nn.Module):
    """Runs a graph specialised to batch 1 on each image of a batch and concatenates the results.

    torch.export and torch.jit.trace see batch 1 and so record the graph alone.
    """

    def __init__(self, graph_module: fx.GraphModule, input_shape: tuple[int, ...]):
        super().__init__()
        self.graph_module = graph_module
        self.input_shape = tuple(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.input_shape[1:]:
            raise ValueError(f"this graph was exported for inputs of shape {list(self.input_shape[1:])} per image, "
                             f"got {list(x.shape[1:])}; trace the model at this input size")
        if x.shape[0] == 1:
            return self.graph_module(x)
        return torch.cat([self.graph_module(x[i:i + 1]) for i in range(x.shape[0])])


@dataclass
class GraphHalves:
    """The two halves of a graph cut at `cut`; client followed by remainder equals the full graph."""

    cut: CutPoint
    client: BatchOfOne
    remainder: BatchOfOne


class ModelGraph:
    """A model's exported graph (functional ATen ops, batch 1), its cut points and the modules inside branches.

    `rename` maps a graph name (a module path) to the name the project already used for it (VGG-16's conv5_1,
    ResNet's layer2_0); it is tried on the aliases in order and the first answer wins.
    """

    def __init__(self, graph_module: fx.GraphModule, input_shape: tuple[int, ...],
                 rename: Callable[[str], str | None] | None = None):
        self.graph_module = graph_module
        self.input_shape = input_shape
        self.cut_points, self.branch_points = _find_cut_points(graph_module, input_shape, rename)
        self._by_name = {name: cut for cut in self.cut_points for name in (cut.name, *cut.aliases)}
        self._check_reference: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(cut.name for cut in self.cut_points)

    def check_reference(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The seeded random input of check_halves and the full graph's output on it, computed once (a study
        checks 18 cuts of one graph: a full-size VGG-16 pass each, 4 s, measured)."""
        if self._check_reference is None:
            example = torch.randn(self.input_shape, generator=torch.Generator().manual_seed(2))
            with torch.no_grad():
                self._check_reference = (example, self.graph_module(example.clone()))
        return self._check_reference

    def cut_point(self, name: str) -> CutPoint:
        """The cut point called `name` (or one of its aliases); SplitPointError saying why not otherwise."""
        if name in self._by_name:
            return self._by_name[name]
        if name in self.branch_points:
            live = self.branch_points[name].live
            raise SplitPointError(
                f"split point {name!r} is inside a branch (e.g. a residual block): after it "
                f"{len(live) + 1} activations are still needed ({name} and {', '.join(live[:3])}), so the client "
                f"would have to send more than one tensor; choose a cut point from `--splits list`, such as the "
                f"end of the enclosing block")
        raise SplitPointError(f"unknown split point {name!r}; valid split points: {', '.join(self.names)}")

    def split(self, name: str, check: bool = True) -> GraphHalves:
        """Client and remainder cut at `name`; with `check`, verifies client∘remainder == full on a random input."""
        cut = self.cut_point(name)
        client, remainder = _cut_graph(self.graph_module, cut.node)
        halves = GraphHalves(cut, BatchOfOne(client, self.input_shape).eval(),
                             BatchOfOne(remainder, cut.output_shape).eval())
        if check and not _on_meta(self.graph_module):
            check_halves(self, halves)
        return halves

    def activations(self, images: torch.Tensor, names: Iterable[str],
                    perturb: Callable[[str, torch.Tensor], torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """Flattened outputs (N, D) at the cut points `names` for a batch of images, in one pass per image.

        `perturb(name, value)`, if given, replaces the value at every cut point in `names` as the pass goes on.
        """
        wanted = {self.cut_point(name).node: name for name in names}
        collected: dict[str, list[torch.Tensor]] = {name: [] for name in wanted.values()}
        probe = None if perturb is not None else _probe(self.graph_module, list(wanted))
        with torch.no_grad():
            for index in range(images.shape[0]):
                image = images[index:index + 1]
                if probe is not None:
                    values = dict(zip(wanted, probe(image), strict=True))
                else:
                    recorder = _Recorder(self.graph_module, wanted, perturb)
                    recorder.run(image)
                    values = recorder.values
                for node, value in values.items():
                    collected[wanted[node]].append(value.flatten(1).clone())
        return {name: torch.cat(parts) for name, parts in collected.items()}


def _probe(graph_module: fx.GraphModule, node_names: list[str]) -> fx.GraphModule:
    """A GraphModule returning the values of `node_names` (in that order), run only as deep as the deepest."""
    graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    remaining = set(node_names)
    for node in graph_module.graph.nodes:
        if node.op == "get_attr":
            env[node] = graph.get_attr(str(node.target))
        elif node.op == "placeholder":
            env[node] = graph.placeholder("x")
        elif node.op == "call_function":
            env[node] = graph.node_copy(node, lambda arg: env[arg])
        remaining.discard(node.name)
        if not remaining:
            break
    by_name = {node.name: new for node, new in env.items()}
    graph.output(tuple(by_name[name] for name in node_names))
    graph.eliminate_dead_code()
    return fx.GraphModule(graph_module, graph).eval()


class _Recorder(fx.Interpreter):
    def __init__(self, module: fx.GraphModule, nodes: dict[str, str],
                 perturb: Callable[[str, torch.Tensor], torch.Tensor] | None):
        super().__init__(module)
        self.nodes, self.perturb = nodes, perturb
        self.values: dict[str, torch.Tensor] = {}

    def run_node(self, n: fx.Node):
        result = super().run_node(n)
        if n.name in self.nodes:
            if self.perturb is not None:
                result = self.perturb(self.nodes[n.name], result)
            self.values[n.name] = result
        return result


_TRACED: weakref.WeakKeyDictionary[nn.Module, dict[tuple, ModelGraph]] = weakref.WeakKeyDictionary()


def trace_model(model: nn.Module, input_size: int, rename: Callable[[str], str | None] | None = None,
                channels: int = 3) -> ModelGraph:
    """The graph of `model` (eval mode) for one `channels` x `input_size` x `input_size` image.

    Cached per model object and size; ModelNotExportable with torch's first message line if export fails.
    """
    cached = _TRACED.setdefault(model, {})
    key = (input_size, channels, rename)
    if key not in cached:
        input_shape = (1, channels, input_size, input_size)
        graph_module = export_graph(model, input_shape)
        graph = ModelGraph(graph_module, input_shape, rename)
        if not _on_meta(model):  # a model on the meta device has shapes but no values to compare
            check_graph(model, graph)
        cached[key] = graph
    return cached[key]


def export_graph(model: nn.Module, input_shape: tuple[int, ...]) -> fx.GraphModule:
    """torch.export's graph of `model` with in-place ops made functional; ModelNotExportable on failure."""
    model.eval()
    example = torch.randn(input_shape, generator=torch.Generator().manual_seed(0))
    if _on_meta(model):
        example = example.to("meta")
    torch_logger = logging.getLogger("torch")
    level = torch_logger.level
    torch_logger.setLevel(logging.CRITICAL)  # a failed export logs pages to stderr; the error below is one line
    try:
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            program = torch.export.export(model, (example,))
    except Exception as error:  # torch raises many types (UserError, RuntimeError, shape errors...)
        text = str(error).strip().splitlines()
        first = text[0][:200] if text else type(error).__name__
        raise ModelNotExportable(
            f"torch.export cannot export this model for input {'x'.join(map(str, input_shape))} "
            f"({type(error).__name__}: {first}); check --input-size and that forward has no data-dependent "
            "control flow") from error
    finally:
        torch_logger.setLevel(level)
    graph_module = program.module()
    _make_functional(graph_module)
    outputs = _output_nodes(graph_module)
    if len(outputs) != 1:
        raise ModelNotExportable(f"the model returns {len(outputs)} values; splitting needs a model with one "
                                 "output tensor (wrap it so forward returns the logits)")
    return _rebuild(graph_module, graph_module.graph.nodes, None, outputs[0])


def _on_meta(module: nn.Module) -> bool:
    tensor: torch.Tensor | None = next(iter(module.parameters()), None)
    if tensor is None:
        tensor = next(iter(module.buffers()), None)
    return tensor is not None and tensor.device.type == "meta"


def check_graph(model: nn.Module, graph: ModelGraph) -> None:
    """The graph computes what the model computes (on a seeded random input); ExportError otherwise."""
    example = torch.randn(graph.input_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(example.clone())
        actual = graph.graph_module(example.clone())
    if not isinstance(expected, torch.Tensor) or expected.shape != actual.shape:
        raise ModelNotExportable("the exported graph's output differs in shape from the model's; the model's "
                                 "forward must return one tensor")
    _assert_close(actual, expected, GRAPH_CHECK_RTOL, "the exported graph differs from the model in eager mode")


def check_halves(graph: ModelGraph, halves: GraphHalves) -> None:
    """client followed by remainder equals the full graph on a seeded random input; ExportError otherwise."""
    example, expected = graph.check_reference()
    with torch.no_grad():
        actual = halves.remainder(halves.client(example.clone()))
    _assert_close(actual, expected, SPLIT_CHECK_RTOL, f"client + remainder at {halves.cut.name} differ from the "
                                                      "full model")


def _assert_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float, what: str) -> None:
    scale = float(expected.abs().max()) if expected.numel() else 0.0
    error = float((actual - expected).abs().max()) if expected.numel() else 0.0
    if not error <= rtol * scale + 1e-6:
        raise ExportError(f"{what}: max |difference| {error:.3g} at output scale {scale:.3g}; "
                          "this model cannot be split by its graph")


def _make_functional(graph_module: fx.GraphModule) -> None:
    """Replace in-place ATen ops (`relu_`, `add_`, `hardtanh_` ...) by their functional forms, in place."""
    for node in graph_module.graph.nodes:
        target = node.target
        if node.op != "call_function" or not isinstance(target, torch._ops.OpOverload):
            continue
        packet = target.overloadpacket.__name__
        if not packet.endswith("_") or packet.startswith("_"):
            continue
        functional = getattr(torch.ops.aten, packet[:-1], None)
        if functional is not None and hasattr(functional, target._overloadname):
            node.target = getattr(functional, target._overloadname)
    graph_module.recompile()


def _output_nodes(graph_module: fx.GraphModule) -> list[fx.Node]:
    output = next(node for node in graph_module.graph.nodes if node.op == "output")
    flat: list[fx.Node] = []
    fx.node.map_arg(output.args[0], flat.append)
    return flat


def _rebuild(root: fx.GraphModule, nodes: Iterable[fx.Node], start: fx.Node | None, end: fx.Node) -> fx.GraphModule:
    """A GraphModule of the nodes up to `end`; `start` (if given) becomes its input and nothing before it runs."""
    graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    started = start is None
    for node in nodes:
        if node.op == "get_attr":
            env[node] = graph.get_attr(str(node.target))
            continue
        if not started:
            if node is start:
                env[node] = graph.placeholder("x")
                started = True
            continue
        if node.op == "placeholder":
            env[node] = graph.placeholder("x")
        elif node.op == "call_function":
            env[node] = graph.node_copy(node, lambda arg: env[arg])
        if node is end:
            break
    graph.output(env[end])
    graph.eliminate_dead_code()
    module = fx.GraphModule(root, graph)
    return module.eval()


def _cut_graph(graph_module: fx.GraphModule, node_name: str) -> tuple[fx.GraphModule, fx.GraphModule]:
    nodes = list(graph_module.graph.nodes)
    cut = next(node for node in nodes if node.name == node_name)
    end = _output_nodes(graph_module)[0]
    return _rebuild(graph_module, nodes, None, cut), _rebuild(graph_module, nodes, cut, end)


def _module_calls(node: fx.Node) -> list[tuple[str, str]]:
    """(call key, module path) of every module `node` runs inside, outermost first (the root left out)."""
    stack = node.meta.get("nn_module_stack") or {}
    return [(key, value[0]) for key, value in stack.items() if value[0]]


def _find_cut_points(graph_module: fx.GraphModule, input_shape: tuple[int, ...],
                     rename: Callable[[str], str | None] | None
                     ) -> tuple[tuple[CutPoint, ...], dict[str, BranchPoint]]:
    nodes = [node for node in graph_module.graph.nodes if node.op in ("placeholder", "call_function")]
    position = {node: index for index, node in enumerate(nodes)}
    last_use = {node: max((position.get(user, len(nodes)) for user in node.users), default=position[node])
                for node in nodes}
    call_end: dict[str, int] = {}
    for index, node in enumerate(nodes):
        for key, _ in _module_calls(node):
            call_end[key] = index
    flops = _cumulative_flops(graph_module, input_shape)
    output = _output_nodes(graph_module)[0]
    cuts: list[CutPoint] = []
    branches: dict[str, BranchPoint] = {}
    used: dict[str, int] = {}
    live: set[fx.Node] = set()
    for index, node in enumerate(nodes):
        live = {other for other in live if last_use[other] > index}
        if last_use[node] > index:
            live.add(node)
        if node.op != "call_function" or node is output:
            continue
        calls = _module_calls(node)
        paths = [path for key, path in calls if call_end[key] == index]
        if calls and not paths:
            continue  # inside a module, not its output (e.g. a residual add before the block's last ReLU)
        paths = paths or [node.name]
        aliases = []
        for path in paths:
            used[path] = used.get(path, 0) + 1
            aliases.append(path if used[path] == 1 else f"{path}_{used[path]}")
        value = node.meta.get("val")
        others = sorted({_label(other) for other in live if other is not node})
        if others or node not in live or not isinstance(value, torch.Tensor):
            for alias in aliases:
                branches.setdefault(alias, BranchPoint(alias, tuple(others) or ("a non-tensor value",)))
            continue
        name = (next((new for new in map(rename, aliases) if new), None) if rename else None) or aliases[0]
        cuts.append(CutPoint(name, tuple(a for a in aliases if a != name), node.name, len(cuts),
                             tuple(value.shape), flops.get(node.name, 0)))
    return tuple(cuts), branches


def _label(node: fx.Node) -> str:
    """The innermost module that produced `node` (the model's input is `input`), else the node's name."""
    if node.op == "placeholder":
        return "input"
    calls = _module_calls(node)
    return calls[-1][1] if calls else node.name


def _cumulative_flops(graph_module: fx.GraphModule, input_shape: tuple[int, ...]) -> dict[str, int]:
    """FLOPs of the graph up to and including each node, counted on fake tensors (no arithmetic is done)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    totals: dict[str, int] = {}

    class Counter(fx.Interpreter):
        def run_node(self, n: fx.Node):
            result = super().run_node(n)
            totals[n.name] = int(counter.get_total_flops())
            return result

    with FakeTensorMode(allow_non_fake_inputs=True) as mode, FlopCounterMode(display=False) as counter:
        Counter(graph_module).run(mode.from_tensor(torch.empty(input_shape)))
    return totals
