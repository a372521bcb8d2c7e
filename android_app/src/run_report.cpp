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
  auto path_or_null = [](const std::string& path) { return path.empty() ? Json() : Json(path); };
  options.set("write_input", path_or_null(o.write_input_path));
  options.set("write_output", path_or_null(o.write_output_path));
  options.set("etdump", path_or_null(o.etdump_path));
  return options;
}

Json model_json(const ModelFile& model) {
  Json json = Json::object();
  json.set("path", model.path);
  json.set("format", model_format_name(model.format));
  json.set("size_bytes", static_cast<long long>(model.size_bytes));
  return json;
}

Json data_json(const DataFile& data) {
  Json json = Json::object();
  json.set("path", data.path);
  json.set("size_bytes", static_cast<long long>(data.size_bytes));
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
  timing.set("inference_cpu_ms", Json::array_of(m.inference_cpu_ms));
  timing.set("traced", m.traced);
  return timing;
}

Json interference_json(const Measurement& m) {
  InterferenceSummary summary = summarize_interference(m.inference_ms, m.inference_cpu_ms,
                                                       m.involuntary_switches, m.preemption_rule);
  Json json = Json::object();
  Json switches = Json::array();
  for (int64_t n : m.involuntary_switches) switches.push(n < 0 ? Json() : Json(static_cast<long long>(n)));
  json.set("involuntary_switches", switches);
  Json margin = Json::object();
  margin.set("fraction_of_wall", m.preemption_rule.fraction_of_wall);
  margin.set("floor_ms", m.preemption_rule.floor_ms);
  json.set("preempted_margin", margin);
  json.set("preempted_samples", summary.preempted_samples);
  json.set("preempted_wall_minus_cpu_ms", summary.preempted_wall_minus_cpu_ms);
  json.set("wall_minus_cpu_total_ms", summary.wall_minus_cpu_total_ms);
  json.set("involuntary_switches_total", static_cast<long long>(summary.involuntary_switches_total));
  json.set("samples_with_switches", summary.samples_with_switches);
  json.set("frequency_core", m.frequency_core >= 0 ? Json(m.frequency_core) : Json());
  json.set("core_freq_before_khz", m.core_freq_before_khz ? Json(static_cast<long long>(*m.core_freq_before_khz)) : Json());
  json.set("core_freq_after_khz", m.core_freq_after_khz ? Json(static_cast<long long>(*m.core_freq_after_khz)) : Json());
  return json;
}

Json tensors_json(const std::vector<TensorSpec>& specs) {
  Json tensors = Json::array();
  for (const TensorSpec& spec : specs) {
    Json tensor = Json::object();
    tensor.set("shape", Json::array_of(spec.shape));
    tensor.set("dtype", dtype_name(spec.dtype));
    tensors.push(tensor);
  }
  return tensors;
}

Json files_json(const RunReport& report) {
  const Measurement* m = report.measurement;
  Json files = Json::object();
  Json input = Json();
  if (m && m->written_input) {
    input = Json::object();
    input.set("path", m->written_input->path);
    input.set("size_bytes", static_cast<long long>(m->written_input->size_bytes));
    input.set("tensors", tensors_json(m->written_input->tensors));
  }
  files.set("input", input);
  Json output = Json();
  if (m && m->written_output && !m->written_output->tensors.empty()) {
    const TensorSpec& spec = m->written_output->tensors[0];
    output = Json::object();
    output.set("path", m->written_output->path);
    output.set("size_bytes", static_cast<long long>(m->written_output->size_bytes));
    output.set("shape", Json::array_of(spec.shape));
    output.set("dtype", dtype_name(spec.dtype));
  }
  files.set("output", output);
  Json etdump = Json();
  if (m && m->etdump_size_bytes && report.options) {
    etdump = Json::object();
    etdump.set("path", report.options->etdump_path);
    etdump.set("size_bytes", static_cast<long long>(*m->etdump_size_bytes));
  }
  files.set("etdump", etdump);
  return files;
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
  return tensors_json(m.input_specs);
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
  result.set("data", report.data ? data_json(*report.data) : Json());
  result.set("options", report.options ? options_json(*report.options) : Json());
  result.set("affinity", affinity_json(report));
  result.set("threads", threads_json(report));
  const Measurement* m = report.measurement;
  result.set("inputs", m ? inputs_json(*m) : Json::array());
  result.set("timing", m ? timing_json(*m) : Json());
  result.set("interference", m ? interference_json(*m) : Json());
  result.set("memory", m ? memory_json(*m) : Json());
  result.set("output", m && m->output ? output_json(*m->output) : Json());
  result.set("files", files_json(report));
  return result;
}

}  // namespace splitbench
