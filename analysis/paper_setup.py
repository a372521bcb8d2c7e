"""The paper's setup (section VI-C) and how a measured run differs from it, derived from the data."""

import pandas as pd

from analysis.devices import device_label, timings_are_emulated
from analysis.run_context import VGG16_FULL_PARAM_COUNT, RunContext
from formats.backends import BACKENDS
from formats.display_text import shown_in_markdown
from formats.paper import order_backends

PAPER_DEVICE = "Google (Huawei) Nexus 6P (Snapdragon 810 v2.1, 3 GB LPDDR4, Android 7.1.2)"
PAPER_RUNTIME = "Caffe Mobile v1.0"
PAPER_INFERENCES_PER_CONFIGURATION = 60



def _runtime_difference(backends: list[str]) -> str:
    runtimes = [BACKENDS[backend].label if backend in BACKENDS else f"backend {backend}" for backend in backends]
    return f"Runtime: {'; '.join(runtimes)} instead of {PAPER_RUNTIME}."


def _device_difference(context: RunContext) -> str:
    device = context.device
    abi = device.abi or "unknown ABI"
    if device.loopback and timings_are_emulated(device):
        return (f"Device (run {context.run_id}): the loopback device \"{device_label(device)}\" ({device.platform or 'unknown platform'}, "
                f"{abi}): the runner ran on this host computer with its {abi} instructions translated by "
                f"{shown_in_markdown(device.cpu_emulation)}, so its timings mean nothing, not even for this host; the run shows "
                f"that the {abi} runner works; the paper used a {PAPER_DEVICE}.")
    if device.loopback:
        return (f"Device (run {context.run_id}): the loopback device \"{device_label(device)}\" ({device.platform or 'unknown platform'}, "
                f"{abi}): the runner ran on this host computer, not on a phone, so the numbers come from "
                f"this {abi} host and say nothing about phone speed; the paper used a {PAPER_DEVICE}.")
    if not device.is_android:
        return (f"Device (run {context.run_id}): {shown_in_markdown(device.model)} ({device.platform or 'unknown platform'}, {abi}) is not an "
                f"Android phone; the paper used a {PAPER_DEVICE}.")
    return (f"Device (run {context.run_id}): {shown_in_markdown(device.manufacturer or '')} {shown_in_markdown(device.model)} ({device.platform or 'unknown platform'}, "
            f"{abi}, SDK {device.android_sdk or 'unknown'}) instead of the {PAPER_DEVICE}.").replace("  ", " ")


def _core_difference(context: RunContext) -> str:
    parts = []
    for core in context.cores:
        freq = context.core_max_freq_khz.get(core)
        freq_text = f"{freq / 1e6:.2f} GHz max" if freq else "max frequency not readable"
        governor = context.core_governor.get(core)
        parts.append(f"core {core} ({freq_text}{', governor ' + shown_in_markdown(governor) if governor else ''})")
    threads = ", ".join(str(value) for value in context.threads)
    return (f"CPU: pinned to {', '.join(parts)} with {threads} thread(s); the paper says only \"one core\" "
            "and does not say which core, frequency or governor.")


def _iterations_difference(context: RunContext) -> str:
    iterations = "/".join(str(value) for value in context.iterations) or "unknown"
    warmup = "/".join(str(value) for value in context.warmup) or "unknown"
    return (f"Repetitions: {iterations} timed inferences per launch after {warmup} warm-up, {context.launches_per_program} "
            f"launch(es) per program; the paper ran {PAPER_INFERENCES_PER_CONFIGURATION} inferences per configuration "
            "and does not describe warm-up or repeated loads.")


def _weights_difference(context: RunContext) -> str:
    if context.model_weights:
        source = f"the export's manifest records weights \"{context.model_weights}\""
    else:
        source = "the results do not record where the weights came from (the manifest named in run.json was not found)"
    return (f"Weights: {source}; the paper ran its trained gender classifier. Time and memory depend on the layer "
            "shapes, not the weight values, but accuracy is not reproduced here.")


def _model_size_difference(context: RunContext) -> str | None:
    if context.full_param_count is None:
        return None
    if context.full_param_count < 0.9 * VGG16_FULL_PARAM_COUNT:
        ratio = VGG16_FULL_PARAM_COUNT / context.full_param_count
        return (f"Model size: the full model has {context.full_param_count:,} parameters, about {ratio:.0f} times fewer than "
                f"VGG-16's {VGG16_FULL_PARAM_COUNT:,}: a reduced-size model, so absolute times and memory are not comparable "
                "with the paper's.")
    return f"Model size: the full model has {context.full_param_count:,} parameters, as VGG-16 (2-way head)."


def _cold_load_difference(context: RunContext) -> str:
    if context.page_cache_dropped_launches:
        return (f"Cold loads: the page cache was dropped before {context.page_cache_dropped_launches} of "
                f"{context.first_launches} first launches, so those first loads read the model from storage.")
    possible = {True: "possible but not done", False: "not possible (no root)", None: "of unknown possibility"}[context.drop_caches_possible]
    return (f"Cold loads: dropping the page cache was {possible}; first loads may have read the model from the page cache, "
            "so they are not true cold loads. The paper does not say whether its loads were cold.")


def differences_from_paper(contexts: list[RunContext], summary: pd.DataFrame) -> list[str]:
    backends = order_backends(summary["backend"]) if not summary.empty else []
    items = [_runtime_difference(backends)]
    for context in contexts:
        items += [_device_difference(context), _core_difference(context), _iterations_difference(context),
                  _weights_difference(context)]
        model_size = _model_size_difference(context)
        if model_size:
            items.append(model_size)
        items.append(_cold_load_difference(context))
    items.append("Memory: peak (VmHWM) and steady (VmRSS after the timed runs) resident memory of the runner process; "
                 "the paper does not say how its memory figure was measured.")
    items.append("Loading time: the runner's program + method load (file read, delegate initialisation and weight packing); "
                 "Caffe Mobile's load parses the prototxt and reads the caffemodel.")
    return items
