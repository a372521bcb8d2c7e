"""Writes the hand-made results folders used by tests/analysis/test_analysis*.py (run once; the output is kept in the repository).

Numbers are chosen so that every statistic can be worked out by hand:
each ok launch L (0, 1, 2) of a program holds the four timed inferences base + 4L + (0, 1, 2, 3) ms,
so a program's twelve samples are base + 0 ... base + 11 ms.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUN_ID = "20261123T100000Z-handmade"
CORE = 4

DEVICE = {
    "serial": "HANDMADE01", "model": "Test Phone 6P", "manufacturer": "Testmaker", "android_sdk": 25,
    "fingerprint": "test/handmade/1", "soc_model": None, "abi": "arm64-v8a", "platform": "android",
    "kernel_os": "Android", "machine": "aarch64",
    "cores": [
        {"index": 0, "max_freq_khz": 1555200, "governor": "interactive"},
        {"index": 4, "max_freq_khz": 1958400, "governor": "interactive"},
    ],
    "thermal_zones": [{"zone": 0, "type": "cpu", "temp_c": 35.0}],
    "storage_free_bytes": 8_000_000_000, "is_root": False, "can_drop_caches": False,
    "schema": "splitbench.device_facts", "schema_version": 1,
}

# configuration -> (inference base ms, first load ms, warm load ms x2, peak kB, steady kB, flops, output bytes, k)
XNNPACK_PROGRAMS = {
    "full": (1000.0, 700.0, (500.0, 520.0), 300000, 250000, 30_000_000_000, 8, None),
    "conv5_1_simple": (100.0, 150.0, (80.0, 80.0), 100000, 90000, 1_000_000_000, 401408, None),
    "conv5_2_simple": (110.0, 150.0, (90.0, 90.0), 110000, 95000, 1_100_000_000, 401408, None),
    "conv5_3_simple": (120.0, 150.0, (100.0, 100.0), 120000, 100000, 1_200_000_000, 401408, None),
    "conv5_1_reduced": (101.0, 150.0, (80.0, 80.0), 100000, 90000, 1_000_000_000, 32, 8),
    "conv5_2_reduced": (111.0, 150.0, (90.0, 90.0), 110000, 95000, 1_100_000_000, 24, 6),
    "conv5_3_reduced": (121.0, 150.0, (100.0, 100.0), 120000, 100000, 1_200_000_000, 16, 4),
}
LITE_PROGRAMS = {
    "full": (2000.0, 1400.0, (1000.0, 1000.0), 600000, 500000, 30_000_000_000, 8, None),
    "conv5_1_simple": (200.0, 300.0, (200.0, 200.0), 150000, 120000, 1_000_000_000, 401408, None),
}


def manifest_entry(configuration, backend, flops, output_bytes, k):
    file_format = "ptl" if backend == "lite" else "pte"
    split_point = None if configuration == "full" else configuration.split("_")[0] + "_" + configuration.split("_")[1]
    output_shape = [1, 2] if configuration == "full" else ([1, k] if k else [1, 512, 14, 14])
    return {
        "id": f"{configuration}.{backend}", "configuration": configuration,
        "role": "full" if configuration == "full" else "client", "split_point": split_point,
        "reduction": {"k": k, "explained_variance_ratio": 0.9, "projection_file": f"pca/{split_point}_k{k}.pt"} if k else None,
        "noise": None, "format": file_format, "backend": backend, "dtype": "float32",
        "file": f"{configuration}.{backend}.{file_format}", "sha256": "0" * 64, "size_bytes": 1000,
        "input_shape": [1, 3, 224, 224], "input_dtype": "float32",
        "output_shape": output_shape, "output_dtype": "float32", "output_size_bytes": output_bytes,
        "param_count": 1000, "flops": flops, "ptl_bytecode_version": 8 if file_format == "ptl" else None,
        "export_time_s": 1.0, "cache_key": "handmade",
    }


def runner_result(program_file, file_format, inference_ms, load_ms, peak_kb, steady_kb):
    return {
        "schema": "splitbench.runner_result", "schema_version": 1, "status": "ok", "error_kind": None, "message": None,
        "runner": {"version": "0.1.0", "executorch_version": "1.5.1", "abi": "arm64-v8a", "runtimes": ["executorch", "lite"]},
        "model": {"path": f"/data/local/tmp/splitbench/models/{program_file}", "format": file_format, "size_bytes": 1000},
        "options": {"iterations": 4, "warmup": 1, "min_time_ms": 0, "max_time_ms": 0, "core": CORE, "threads": 1,
                    "load_mode": "file", "input": "random", "seed": 0},
        "affinity": {"requested_core": CORE, "cpus_allowed_list": str(CORE), "cpus_observed": [CORE]},
        "threads": {"requested": 1, "threadpool_size": 1},
        "timing": {"program_load_ms": load_ms * 0.1, "method_load_ms": load_ms * 0.9, "load_ms": load_ms,
                   "first_inference_ms": inference_ms[0] * 2, "warmup_ms": [inference_ms[0]], "inference_ms": inference_ms},
        "memory": {"rss_baseline_kb": 4000, "rss_after_load_kb": steady_kb - 1000, "rss_after_runs_kb": steady_kb,
                   "vm_hwm_kb": peak_kb, "pss_kb": steady_kb - 2000, "swap_kb": 0},
        "output": {"shape": [1, 2], "dtype": "float32", "sum": 1.0, "checksum": "0123456789abcdef", "first_values": [0.5, 0.5]},
    }


def result_row(row_index, entry, launch_index, status, runner, exit_code=0, stderr=""):
    return {
        "schema": "splitbench.result_row", "schema_version": 1, "run_id": RUN_ID, "row_index": row_index,
        "program_id": entry["id"], "launch_index": launch_index, "launch_kind": "first" if launch_index == 0 else "warm",
        "page_cache_dropped": False, "status": status, "core": CORE, "threads": 1, "device": DEVICE,
        "manifest_entry": entry, "runner": runner, "runner_exit_code": exit_code, "runner_stderr": stderr,
        "env_before": {"cpu_cur_freq_khz": 1958400, "temperatures_c": {"zone0:cpu": 35.0}},
        "env_after": {"cpu_cur_freq_khz": 1958400, "temperatures_c": {"zone0:cpu": 38.5}},
        "started_utc": "2026-11-23T10:00:00Z", "wall_s": 2.0,
    }


def paper_like_rows():
    rows = []
    for backend, programs in (("xnnpack", XNNPACK_PROGRAMS), ("lite", LITE_PROGRAMS)):
        for configuration, (base, first_load, warm_loads, peak, steady, flops, output_bytes, k) in programs.items():
            entry = manifest_entry(configuration, backend, flops, output_bytes, k)
            for launch_index, load_ms in enumerate((first_load, *warm_loads)):
                times = [base + 4 * launch_index + offset for offset in range(4)]
                runner = runner_result(entry["file"], entry["format"], times, load_ms, peak, steady)
                rows.append(result_row(len(rows), entry, launch_index, "ok", runner))
    full_entry = manifest_entry("full", "xnnpack", *XNNPACK_PROGRAMS["full"][5:])
    rows.append(result_row(len(rows), full_entry, 3, "timeout", None, exit_code=None, stderr="no answer within 600 s"))
    portable_entry = manifest_entry("conv5_3_reduced", "portable", 1_200_000_000, 16, 4)
    failed_runner = {
        "schema": "splitbench.runner_result", "schema_version": 1, "status": "error", "error_kind": "out_of_memory",
        "message": "could not allocate 512 MB for the method", "runner": {"version": "0.1.0"},
    }
    rows.append(result_row(len(rows), portable_entry, 0, "runner_error", failed_runner, exit_code=3,
                           stderr="E splitbench: out of memory\n"))
    return rows


def run_info(iterations=4, launches=3):
    return {
        "schema": "splitbench.run", "schema_version": 1, "run_id": RUN_ID, "created_utc": "2026-11-23T10:00:00Z",
        "settings": {"iterations": iterations, "warmup": 1, "launches": launches, "cooldown_s": 5, "cooldown_max_s": 60,
                     "core": CORE, "threads": 1, "configurations": None, "formats": None, "max_time_ms": 0},
        "harness": {"splitbench": "0.1.0", "python": "3.11.7", "host": "Linux-x86_64", "runner_version": "0.1.0"},
        "manifest": {"path": "artifacts/export/manifest.json", "sha256": "f" * 64},
        "device": DEVICE,
    }


def write_folder(name, lines, with_run_info=True):
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    (folder / "results.jsonl").write_text("".join(lines), encoding="utf-8")
    if with_run_info:
        (folder / "run.json").write_text(json.dumps(run_info(), indent=2) + "\n", encoding="utf-8")


def main():
    rows = paper_like_rows()
    write_folder("paper_like", [json.dumps(row) + "\n" for row in rows])
    newer = dict(rows[1], schema_version=2)
    write_folder("mixed_versions", [json.dumps(rows[0]) + "\n", json.dumps(newer) + "\n"])
    write_folder("empty", [])
    truncated_last = json.dumps(rows[2])[:150]
    write_folder("truncated", [json.dumps(rows[0]) + "\n", json.dumps(rows[1]) + "\n", truncated_last])


if __name__ == "__main__":
    main()
