"""The full model's ETDump (the runner's --etdump) read with executorch.devtools.Inspector into a per-layer
table of VGG-16.

How events map to layers: the ETDump lists the events of one `forward` in execution order. XNNPACK reports
its own operators inside each DELEGATE_CALL ("Convolution (NHWC, F32) IGEMM #n", "Max Pooling (NHWC, F32) #n",
"Fully Connected (NC, F32) GEMM #n", with the ReLU fused into the convolution or GEMM); the portable kernels
report `native_call_<op>` events. The n-th convolution is VGG-16's n-th conv layer (conv1_1 ... conv5_3), the
n-th max pooling pool1 ... pool5, the n-th fully connected layer fc6 ... fc8, adaptive average pooling is
`avgpool`; a ReLU kernel event (portable) belongs to the layer before it. Layout conversions (Transpose,
Static Reshape), the delegate call around the operators and the method itself stay unmapped: they appear in
the event list with layer null. Times are medians over the traced runs (one sample per timed run)."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.cloud.errors import CloudStageError
from formats.layer_profile import LayerProfile, LayerTime, ProfileEvent
from formats.run_folder import utc_now_text

CONV_LAYERS = ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
               "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3")
POOL_LAYERS = ("pool1", "pool2", "pool3", "pool4", "pool5")
FC_LAYERS = ("fc6", "fc7", "fc8")
VGG16_LAYER_ORDER = ("conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2",
                     "conv3_1", "conv3_2", "conv3_3", "pool3", "conv4_1", "conv4_2", "conv4_3", "pool4",
                     "conv5_1", "conv5_2", "conv5_3", "pool5", "avgpool", "fc6", "fc7", "fc8")
MAPPING_TEXT = ("events in execution order; the n-th convolution event (XNNPACK 'Convolution ...' or portable "
                "'native_call_convolution') is VGG-16's n-th conv layer with its ReLU (fused by XNNPACK), the "
                "n-th max pooling pool<n>, the n-th fully connected / linear / addmm fc6..fc8, adaptive average "
                "pooling 'avgpool', a portable ReLU event the layer before it; layout conversions, delegate calls "
                "and Method::execute unmapped")
SOURCE_TEXT = "runner --etdump (ETDumpGen over the timed runs), read with executorch.devtools.Inspector"


def event_kind(name: str, delegated: bool) -> str:
    if name == "Method::execute":
        return "method"
    if name == "DELEGATE_CALL":
        return "delegate_call"
    if delegated:
        return "delegate_operator"
    if name.startswith("native_call_"):
        return "operator"
    return "other"


def _operator_family(name: str) -> str | None:
    lowered = name.lower()
    if lowered.startswith("convolution") or "native_call_convolution" in lowered:
        return "conv"
    if lowered.startswith("max pooling") or "max_pool2d" in lowered:
        return "pool"
    if lowered.startswith("fully connected") or any(op in lowered for op in ("native_call_linear",
                                                                             "native_call_addmm")):
        return "fc"
    if "adaptive_avg_pool2d" in lowered:
        return "avgpool"
    if "native_call_relu" in lowered or lowered.startswith("clamp"):
        return "relu"
    return None


class LayerMapper:
    """Assigns VGG-16 layer names to operator events met in execution order."""

    def __init__(self):
        self.counts = {"conv": 0, "pool": 0, "fc": 0}
        self.previous: str | None = None

    def layer_of(self, name: str, kind: str) -> str | None:
        if kind not in ("operator", "delegate_operator"):
            return None
        family = _operator_family(name)
        if family == "relu":
            return self.previous
        if family == "avgpool":
            self.previous = "avgpool"
            return "avgpool"
        if family is None:
            return None
        names = {"conv": CONV_LAYERS, "pool": POOL_LAYERS, "fc": FC_LAYERS}[family]
        index = self.counts[family]
        self.counts[family] += 1
        layer = names[index] if index < len(names) else f"{family}#{index + 1}"
        self.previous = layer
        return layer


def profile_events(etdump_path: Path) -> list[ProfileEvent]:
    """The ETDump's events (first block), each with its kind, VGG layer and median time in ms."""
    try:
        from executorch.devtools import Inspector

        inspector = Inspector(etdump_path=str(etdump_path))
    except Exception as error:  # noqa: BLE001 - the Inspector raises many kinds on a bad file
        raise CloudStageError(f"the ETDump {etdump_path} cannot be read by executorch.devtools.Inspector "
                              f"({error}); re-run the cloud stage with a runner built with ETDump") from error
    blocks = inspector.event_blocks
    if not blocks:
        raise CloudStageError(f"the ETDump {etdump_path} holds no event block; the traced runs recorded nothing")
    mapper = LayerMapper()
    events = []
    for event in blocks[0].events:
        samples = list(event.perf_data.raw) if event.perf_data is not None else []
        if not samples:
            continue
        kind = event_kind(event.name, bool(event.is_delegated_op))
        events.append(ProfileEvent(name=event.name, kind=kind, layer=mapper.layer_of(event.name, kind),
                                   samples=len(samples), median_ms=round(float(statistics.median(samples)), 6)))
    return events


def layer_times(events: list[ProfileEvent]) -> list[LayerTime]:
    """Per layer: the sum of its events' medians, in VGG-16 order (then any unknown layer by first appearance)."""
    totals: dict[str, list[float]] = {}
    for event in events:
        if event.layer is not None:
            totals.setdefault(event.layer, []).append(event.median_ms)
    order = [name for name in VGG16_LAYER_ORDER if name in totals] + [
        name for name in totals if name not in VGG16_LAYER_ORDER]
    return [LayerTime(layer=name, median_ms=round(sum(totals[name]), 6), events=len(totals[name])) for name in order]


def build_layer_profile(etdump_path: Path, run_id: str, program_id: str, backend: str, core: int,
                        iterations: int) -> LayerProfile:
    events = profile_events(etdump_path)
    method = [event.median_ms for event in events if event.kind == "method"]
    return LayerProfile(run_id=run_id, program_id=program_id, backend=backend, core=core, iterations=iterations,
                        source=SOURCE_TEXT, mapping=MAPPING_TEXT,
                        method_execute_median_ms=method[0] if method else None, events=events,
                        layers=layer_times(events), measured_utc=utc_now_text())
