"""int8 against fp32 (analysis.quantization): pairs of the same configuration, their ratios and the accuracy cost."""

import pandas as pd
import pytest

from analysis.quantization import int8_comparison


def summary_row(arch, configuration, backend, median, low, high, size, peak_kb, accuracy=(None, None, None)):
    top1, cosine, relative = accuracy
    return {"device": "d", "core": 1, "threads": 1, "arch": arch, "configuration": configuration, "format": "pte",
            "backend": backend, "median_ms": median, "median_ci_low_ms": low, "median_ci_high_ms": high,
            "model_size_bytes": size, "warm_load_median_ms": size / 1e6, "peak_memory_median_kb": peak_kb,
            "accuracy_top1_agreement": top1, "accuracy_cosine_similarity_mean": cosine,
            "accuracy_relative_error": relative}


def test_each_configuration_measured_in_both_gets_one_row():
    summary = pd.DataFrame([
        summary_row("resnet18", "full", "xnnpack", 34.0, 33.0, 35.0, 44_700_000, 92_300),
        summary_row("resnet18", "full", "xnnpack_int8", 10.6, 10.4, 10.8, 11_260_000, 28_500, (0.81, 0.998, 0.11)),
        summary_row("resnet18", "layer2_simple", "xnnpack", 10.0, 9.0, 11.0, 2_000_000, 20_000),
        summary_row("resnet18", "layer2_simple", "xnnpack_int8", 9.5, 9.2, 9.8, 500_000, 10_000, (None, 0.99, 0.1)),
        summary_row("resnet18", "layer3_simple", "xnnpack", 20.0, 19.0, 21.0, 8_000_000, 40_000),  # no int8 twin
    ])
    table = int8_comparison(summary).set_index("configuration")
    assert list(table.index) == ["full", "layer2_simple"]
    assert table.at["full", "speedup"] == pytest.approx(34.0 / 10.6)
    assert bool(table.at["full", "speedup_significant"]) is True
    assert table.at["full", "size_ratio"] == pytest.approx(11.26 / 44.7)
    assert table.at["full", "memory_ratio"] == pytest.approx(28_500 / 92_300)
    assert table.at["full", "top1_agreement"] == 0.81 and table.at["full", "cosine_similarity_mean"] == 0.998
    assert bool(table.at["layer2_simple", "speedup_significant"]) is False  # 9.2-9.8 lies within 9-11
    assert pd.isna(table.at["layer2_simple", "top1_agreement"])


def test_no_int8_program_gives_an_empty_table():
    summary = pd.DataFrame([summary_row("vgg16", "full", "xnnpack", 300.0, 299.0, 301.0, 537_000_000, 975_000)])
    assert int8_comparison(summary).empty
