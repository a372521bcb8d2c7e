#include "core_peak.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "build_info.h"
#include "interference.h"

namespace splitbench {

namespace {

using Clock = std::chrono::steady_clock;

// Keeps every kernel result alive, so no call can be dropped.
volatile float g_sink = 0.0f;

struct Span {
  double wall_ms;
  double cpu_ms;  // the thread's CPU time: excludes time the core was taken away
};

Span run_span(const PeakKernel& kernel, int64_t rounds) {
  // The closing CPU clock reading inside the wall span, as for the timed
  // inferences (measurement.cpp): a pending preemption lands there.
  int64_t cpu_before = thread_cpu_ns();
  Clock::time_point start = Clock::now();
  g_sink = g_sink + kernel.run(rounds);
  int64_t cpu_after = thread_cpu_ns();
  Clock::time_point end = Clock::now();
  return {std::chrono::duration<double, std::milli>(end - start).count(),
          cpu_ns_to_ms(cpu_after - cpu_before)};
}

const PeakKernel& choose_kernel(const std::string& isa) {
  if (isa == "auto") return widest_supported_peak_kernel();
  const PeakKernel* kernel = find_peak_kernel(isa);
  if (!kernel) {
    throw RunnerError(ErrorKind::kBadArgs, "--peak-isa '" + isa + "' is not compiled into this runner; use one of " +
                                               known_peak_isas_text());
  }
  if (!kernel->supported()) {
    throw RunnerError(ErrorKind::kBadArgs, "this CPU cannot run --peak-isa " + isa +
                                               "; use --peak-isa auto (the widest it supports: " +
                                               widest_supported_peak_kernel().isa + ")");
  }
  return *kernel;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

Json affinity_json(const std::optional<CorePeakPlan>& plan, const CorePeak& peak) {
  Json affinity = Json::object();
  affinity.set("requested_core", plan ? Json(plan->core) : Json());
  std::string allowed = cpus_allowed_list();
  affinity.set("cpus_allowed_list", allowed.empty() ? Json() : Json(allowed));
  affinity.set("cpus_observed", Json::array_of(peak.cpus.observed()));
  return affinity;
}

template <typename T>
Json optional_json(const std::optional<T>& value) {
  return value ? Json(*value) : Json();
}

// The two highest rates differ by at most `fraction` of the highest.
bool best_two_agree(std::vector<double> rates, double fraction) {
  if (rates.size() < 2) return false;
  std::partial_sort(rates.begin(), rates.begin() + 2, rates.end(), std::greater<double>());
  return rates[1] >= rates[0] * (1.0 - fraction);
}

}  // namespace

CorePeakPlan CorePeakPlan::from_options(const RunnerOptions& options) {
  CorePeakPlan plan;
  plan.core = options.core;
  plan.isa = options.peak_isa;
  return plan;
}

void measure_core_peak(const CorePeakPlan& plan, CorePeak& peak) {
  const PeakKernel& kernel = choose_kernel(plan.isa);
  peak.kernel = &kernel;
  peak.frequency_core = plan.core >= 0 ? plan.core : current_core();
  peak.core_freq_before_khz = core_frequency_khz(peak.frequency_core);

  // Calibration (also the warm-up: clocks and power states settle): double the
  // rounds until one call takes 10 ms of CPU time, then size a repetition to
  // the target. CPU time, so a busy core does not shrink the repetitions.
  int64_t rounds = 1 << 12;
  double ms = run_span(kernel, rounds).cpu_ms;
  while (ms < 10.0 && rounds < (int64_t{1} << 40)) {
    rounds *= 2;
    ms = run_span(kernel, rounds).cpu_ms;
  }
  peak.rounds_per_repetition =
      std::max<int64_t>(1, static_cast<int64_t>(rounds * (plan.repetition_target_ms / std::max(ms, 1e-3))));

  double gflop = 2e-9 * static_cast<double>(kernel.lane_ops_per_round()) *
                 static_cast<double>(peak.rounds_per_repetition);
  std::vector<double> wall_gflops;
  for (int i = 0; i < plan.max_repetitions; ++i) {
    if (i >= plan.min_repetitions && best_two_agree(peak.repetition_gflops, plan.confirm_fraction)) break;
    Span span = run_span(kernel, peak.rounds_per_repetition);
    peak.cpus.sample();
    peak.repetition_ms.push_back(span.wall_ms);
    peak.repetition_cpu_ms.push_back(span.cpu_ms);
    peak.repetition_gflops.push_back(gflop / (std::max(span.cpu_ms, 1e-6) * 1e-3));
    wall_gflops.push_back(gflop / (span.wall_ms * 1e-3));
    if (peak.preemption_rule.preempted(span.wall_ms, span.cpu_ms)) ++peak.preempted_repetitions;
  }
  peak.peak_gflops = *std::max_element(peak.repetition_gflops.begin(), peak.repetition_gflops.end());
  peak.median_gflops = median(peak.repetition_gflops);
  peak.peak_wall_gflops = *std::max_element(wall_gflops.begin(), wall_gflops.end());
  peak.core_freq_after_khz = core_frequency_khz(peak.frequency_core);
}

Json core_peak_json(const std::optional<CorePeakPlan>& plan, const CorePeak& peak,
                    const std::optional<CorePeakFailure>& failure) {
  Json result = Json::object();
  result.set("schema", "splitbench.core_peak");
  result.set("schema_version", kCorePeakSchemaVersion);
  result.set("status", failure ? "error" : "ok");
  result.set("error_kind", failure ? Json(error_kind_name(failure->kind)) : Json());
  result.set("message", failure ? Json(failure->message) : Json());
  result.set("runner", runner_summary_json());
  result.set("core", plan && plan->core >= 0 ? Json(plan->core) : Json());
  result.set("requested_isa", plan ? Json(plan->isa) : Json());
  result.set("affinity", affinity_json(plan, peak));
  Json kernel = Json();
  if (peak.kernel) {
    kernel = Json::object();
    kernel.set("isa", peak.kernel->isa);
    kernel.set("vector_bits", peak.kernel->vector_bits);
    kernel.set("fp32_lanes", peak.kernel->fp32_lanes);
    kernel.set("fused", peak.kernel->fused);
    kernel.set("accumulators", peak.kernel->accumulators);
    kernel.set("flops_per_lane_op", 2);
  }
  result.set("kernel", kernel);
  Json supported = Json::array();
  for (const PeakKernel& k : compiled_peak_kernels()) {
    if (k.supported()) supported.push(k.isa);
  }
  result.set("isas_supported", supported);
  result.set("repetitions", static_cast<int>(peak.repetition_ms.size()));
  result.set("lane_ops_per_repetition",
             peak.kernel ? Json(static_cast<long long>(peak.kernel->lane_ops_per_round() *
                                                       peak.rounds_per_repetition))
                         : Json());
  result.set("repetition_ms", Json::array_of(peak.repetition_ms));
  result.set("repetition_cpu_ms", Json::array_of(peak.repetition_cpu_ms));
  result.set("repetition_gflops", Json::array_of(peak.repetition_gflops));
  result.set("rate_basis", "thread_cpu_time");
  result.set("peak_gflops", optional_json(peak.peak_gflops));
  result.set("median_gflops", optional_json(peak.median_gflops));
  result.set("peak_wall_gflops", optional_json(peak.peak_wall_gflops));
  result.set("preempted_repetitions", peak.preempted_repetitions);
  Json margin = Json::object();
  margin.set("fraction_of_wall", peak.preemption_rule.fraction_of_wall);
  margin.set("floor_ms", peak.preemption_rule.floor_ms);
  result.set("preempted_margin", margin);
  result.set("frequency_core", peak.frequency_core >= 0 ? Json(peak.frequency_core) : Json());
  result.set("core_freq_before_khz", optional_json(peak.core_freq_before_khz));
  result.set("core_freq_after_khz", optional_json(peak.core_freq_after_khz));
  return result;
}

}  // namespace splitbench
