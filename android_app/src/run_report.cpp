#include "run_report.h"

#include "affinity.h"
#include "build_info.h"
#include "output_summary.h"

namespace splitbench {

namespace {

template <typename T>
Json optional_json(const std::optional<T>& value) {
  return value ? Json(*value) : Json();
}

Json options_json(const RunnerOptions& o) {
  Json options = Json::object();
  options.set("iterations", o.iterations);
  options.set("warmup", o.warmup);
  options.set("min_time_ms", o.min_time_ms);
  options.set("max_time_ms", o.max_time_ms);
  options.set("core", o.core);
  options.set("threads", o.threads);
  options.set("load_mode", load_mode_name(o.load_mode));
  options.set("input", o.input);
  options.set("seed", static_cast<unsigned long long>(o.seed));
  options.set("input_shape", o.input_shape ? Json::array_of(*o.input_shape) : Json());
  return options;
}

Json model_json(const ModelFile& model) {
  Json json = Json::object();
  json.set("path", model.path);
  json.set("format", model_format_name(model.format));
  json.set("size_bytes", static_cast<long long>(model.size_bytes));
  return json;
}

Json affinity_json(const RunReport& report) {
  Json affinity = Json::object();
  affinity.set("requested_core", report.options ? Json(report.options->core) : Json());
  std::string allowed = cpus_allowed_list();
  affinity.set("cpus_allowed_list", allowed.empty() ? Json() : Json(allowed));
  affinity.set("cpus_observed", report.measurement
                                    ? Json::array_of(report.measurement->cpus.observed())
                                    : Json::array());
  return affinity;
}

Json threads_json(const RunReport& report) {
  Json threads = Json::object();
  threads.set("requested", report.options ? Json(report.options->threads) : Json());
  threads.set("threadpool_size", optional_json(report.threadpool_size));
  return threads;
}

Json timing_json(const Measurement& m) {
  Json timing = Json::object();
  timing.set("program_load_ms", optional_json(m.program_load_ms));
  timing.set("method_load_ms", optional_json(m.method_load_ms));
  timing.set("load_ms", optional_json(m.load_ms));
  timing.set("first_inference_ms", optional_json(m.first_inference_ms));
  timing.set("warmup_ms", Json::array_of(m.warmup_ms));
  timing.set("inference_ms", Json::array_of(m.inference_ms));
  return timing;
}

template <typename Field>
Json memory_field(const std::optional<MemorySnapshot>& snapshot, Field field) {
  if (!snapshot) return Json();
  const std::optional<int64_t>& value = (*snapshot).*field;
  return value ? Json(static_cast<long long>(*value)) : Json();
}

Json memory_json(const Measurement& m) {
  // The latest snapshot holds the high-water mark, Pss and swap of the run.
  const std::optional<MemorySnapshot>& latest =
      m.memory_after_runs ? m.memory_after_runs
                          : (m.memory_after_load ? m.memory_after_load : m.memory_baseline);
  Json memory = Json::object();
  memory.set("rss_baseline_kb", memory_field(m.memory_baseline, &MemorySnapshot::vm_rss_kb));
  memory.set("rss_after_load_kb", memory_field(m.memory_after_load, &MemorySnapshot::vm_rss_kb));
  memory.set("rss_after_runs_kb", memory_field(m.memory_after_runs, &MemorySnapshot::vm_rss_kb));
  memory.set("vm_hwm_kb", memory_field(latest, &MemorySnapshot::vm_hwm_kb));
  memory.set("pss_kb", memory_field(latest, &MemorySnapshot::pss_kb));
  memory.set("swap_kb", memory_field(latest, &MemorySnapshot::vm_swap_kb));
  return memory;
}

Json output_json(const OutputTensor& output) {
  OutputSummary summary = summarize_output(output);
  Json json = Json::object();
  json.set("shape", Json::array_of(summary.spec.shape));
  json.set("dtype", dtype_name(summary.spec.dtype));
  json.set("sum", optional_json(summary.sum));
  json.set("checksum", summary.checksum_fnv1a64_hex);
  json.set("first_values", Json::array_of(summary.first_values));
  return json;
}

Json inputs_json(const Measurement& m) {
  Json inputs = Json::array();
  for (const TensorSpec& spec : m.input_specs) {
    Json input = Json::object();
    input.set("shape", Json::array_of(spec.shape));
    input.set("dtype", dtype_name(spec.dtype));
    inputs.push(input);
  }
  return inputs;
}

}  // namespace

Json run_report_json(const RunReport& report) {
  Json result = Json::object();
  result.set("schema", "splitbench.runner_result");
  result.set("schema_version", kRunnerResultSchemaVersion);
  result.set("status", report.failure ? "error" : "ok");
  result.set("error_kind", report.failure ? Json(error_kind_name(report.failure->kind)) : Json());
  result.set("message", report.failure ? Json(report.failure->message) : Json());
  result.set("runner", runner_summary_json());
  result.set("model", report.model ? model_json(*report.model) : Json());
  result.set("options", report.options ? options_json(*report.options) : Json());
  result.set("affinity", affinity_json(report));
  result.set("threads", threads_json(report));
  const Measurement* m = report.measurement;
  result.set("inputs", m ? inputs_json(*m) : Json::array());
  result.set("timing", m ? timing_json(*m) : Json());
  result.set("memory", m ? memory_json(*m) : Json());
  result.set("output", m && m->output ? output_json(*m->output) : Json());
  return result;
}

}  // namespace splitbench
