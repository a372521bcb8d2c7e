// The fixed measurement sequence: load program (timed), check and bind inputs,
// load method (timed), first inference (timed, kept apart), warm-up runs, then
// timed runs until both the iteration count and the minimum time are reached,
// capped by the maximum time. Memory is read before load, after load and after
// the runs; the CPU is sampled at every inference. Each timed run also records
// the thread's CPU time and involuntary context switches (interference.h), and
// the core's frequency is read before and after the timed runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "affinity.h"
#include "interference.h"
#include "options.h"
#include "process_memory.h"
#include "program_session.h"
#include "raw_file.h"
#include "tensor_spec.h"

namespace splitbench {

struct MeasurementPlan {
  int iterations = 60;
  int warmup = 1;
  double min_time_ms = 0.0;
  double max_time_ms = 0.0;  // 0 = no cap; caps the timed runs only
  std::string input_source = "random";
  uint64_t seed = 0;
  std::optional<std::vector<int64_t>> input_shape;
  int core = -1;                  // the pinned core, -1 = not pinned
  std::string write_input_path;   // empty = do not write
  std::string write_output_path;  // empty = do not write

  static MeasurementPlan from_options(const RunnerOptions& options);
};

// Filled step by step, so a failure part-way still reports what was measured.
struct Measurement {
  std::optional<double> program_load_ms;
  std::optional<double> method_load_ms;
  std::optional<double> load_ms;
  std::optional<double> first_inference_ms;
  std::vector<double> warmup_ms;
  std::vector<double> inference_ms;
  // Parallel to inference_ms: the thread's CPU time and involuntary context
  // switches (-1 = unavailable) over each timed inference.
  std::vector<double> inference_cpu_ms;
  std::vector<int64_t> involuntary_switches;
  PreemptionRule preemption_rule;
  int frequency_core = -1;  // the core whose frequency was read
  std::optional<int64_t> core_freq_before_khz;
  std::optional<int64_t> core_freq_after_khz;
  bool traced = false;  // an event tracer (ETDump) was attached during the timed runs
  std::optional<int64_t> etdump_size_bytes;
  std::optional<MemorySnapshot> memory_baseline;
  std::optional<MemorySnapshot> memory_after_load;
  std::optional<MemorySnapshot> memory_after_runs;
  CpuObserver cpus;
  std::vector<TensorSpec> input_specs;
  std::optional<OutputTensor> output;
  std::optional<WrittenFile> written_input;
  std::optional<WrittenFile> written_output;
};

// Runs the sequence on `session` (threads already configured). Throws
// RunnerError on failure; `measurement` keeps what was measured until then.
void measure_program(ProgramSession& session, const MeasurementPlan& plan,
                     Measurement& measurement);

}  // namespace splitbench
