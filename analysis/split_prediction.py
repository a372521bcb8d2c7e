"""A Neurosurgeon-style prediction of each split's client time from the full model's per-layer profile (the
sum of the profiled layers up to and including the cut), set beside the client time the sweep measured.

The profile comes from one traced launch of the full program (layer_profile.json; its times include the
tracing overhead); layout conversions and the delegate's own overhead are not in any layer, so the prediction
leaves them out. A reduced client also runs the PCA projection, which the full model does not have: its
prediction is its simple split's."""

from __future__ import annotations

import pandas as pd

from formats.layer_profile import LayerProfile
from formats.split_points import VGG16_SPLIT_POINTS, split_configuration_key, split_of


def predicted_client_ms(profile: LayerProfile, split_point: str) -> float | None:
    """Sum of the profiled layers from conv1_1 to `split_point`; None if a layer up to it is missing."""
    times = profile.layer_ms()
    layers = VGG16_SPLIT_POINTS[: VGG16_SPLIT_POINTS.index(split_point) + 1]
    if any(layer not in times for layer in layers):
        return None
    return float(sum(times[layer] for layer in layers))


def prediction_table(profile: LayerProfile, candidates: pd.DataFrame) -> pd.DataFrame:
    """Per split configuration: predicted and measured client time (ms) and their ratio (predicted / measured);
    the full model's row compares the sum of every profiled layer and the traced Method::execute with it."""
    records = []
    for _, row in candidates.iterrows():
        configuration = row["configuration"]
        measured = float(row["device_ms"])
        predicted: float | None
        if row["kind"] == "on device":
            predicted = float(sum(profile.layer_ms().values()))
        elif row["kind"] == "split" and (split := split_of(configuration)[0]) is not None:
            predicted = predicted_client_ms(profile, split)
        else:
            continue
        records.append(dict(configuration=configuration, predicted_ms=predicted, measured_ms=measured,
                            ratio=(predicted / measured) if predicted is not None and measured > 0 else None))
    table = pd.DataFrame.from_records(records, columns=["configuration", "predicted_ms", "measured_ms", "ratio"])
    return table.sort_values("configuration", key=lambda c: c.map(split_configuration_key),
                             kind="stable").reset_index(drop=True)
