// --measure-peak: the peak fp32 FMA throughput of the (pinned) core, as its own
// JSON object (splitbench.core_peak, version 1). A calibration run sizes one
// repetition to about repetition_target_ms of CPU time; the best repetition
// is the peak. After min_repetitions, repetitions go on (up to
// max_repetitions) until the best two agree within confirm_fraction: on a
// shared (virtual) machine a neighbour can slow the core for a whole burst of
// repetitions without the thread's CPU time showing it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "affinity.h"
#include "interference.h"
#include "json.h"
#include "options.h"
#include "peak_kernel.h"
#include "runner_error.h"

namespace splitbench {

constexpr int kCorePeakSchemaVersion = 1;

struct CorePeakPlan {
  int core = -1;                // -1 = not pinned
  std::string isa = "auto";     // "auto" or a compiled kernel's name
  int min_repetitions = 10;
  int max_repetitions = 100;
  double confirm_fraction = 0.01;
  double repetition_target_ms = 30.0;

  static CorePeakPlan from_options(const RunnerOptions& options);
};

// Filled step by step, so a failure part-way still reports what was measured.
struct CorePeak {
  const PeakKernel* kernel = nullptr;
  int64_t rounds_per_repetition = 0;
  std::vector<double> repetition_ms;      // wall time of each repetition
  std::vector<double> repetition_cpu_ms;  // the thread's CPU time in it
  // Rates over the thread's CPU time: what the core does while the runner
  // holds it, so another task on the core does not lower the peak (wall-time
  // rates would; peak_wall_gflops is the best of those, and
  // preempted_repetitions says whether the core was shared).
  std::vector<double> repetition_gflops;  // 2 flops per lane operation / CPU time
  std::optional<double> peak_gflops;      // best repetition
  std::optional<double> median_gflops;
  std::optional<double> peak_wall_gflops;
  PreemptionRule preemption_rule;  // as for the timed inferences
  int preempted_repetitions = 0;
  int frequency_core = -1;
  std::optional<int64_t> core_freq_before_khz;
  std::optional<int64_t> core_freq_after_khz;
  CpuObserver cpus;
};

// Runs the kernel (the process is already pinned). Throws RunnerError(kBadArgs)
// when the requested ISA is not supported by this CPU.
void measure_core_peak(const CorePeakPlan& plan, CorePeak& peak);

struct CorePeakFailure {
  ErrorKind kind;
  std::string message;
};

Json core_peak_json(const std::optional<CorePeakPlan>& plan, const CorePeak& peak,
                    const std::optional<CorePeakFailure>& failure);

}  // namespace splitbench
