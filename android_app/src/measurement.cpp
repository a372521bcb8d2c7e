#include "measurement.h"

#include <algorithm>
#include <chrono>

#include "input_data.h"
#include "runner_error.h"

namespace splitbench {

namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

template <typename Step>
double time_ms(Step&& step) {
  Clock::time_point start = Clock::now();
  step();
  return elapsed_ms(start, Clock::now());
}

// The program's own input specs, checked against --input-shape when both exist.
std::vector<TensorSpec> resolve_input_specs(
    const std::optional<std::vector<TensorSpec>>& recorded,
    const std::optional<std::vector<int64_t>>& requested_shape) {
  if (recorded) {
    if (requested_shape) {
      if (recorded->size() != 1 || (*recorded)[0].shape != *requested_shape) {
        std::string found;
        for (const TensorSpec& spec : *recorded) found += (found.empty() ? "" : ", ") + spec.describe();
        throw RunnerError(ErrorKind::kInputShape,
                          "--input-shape does not match the program's inputs (" + found +
                              "); drop --input-shape or fix it");
      }
    }
    return *recorded;
  }
  if (!requested_shape) {
    throw RunnerError(ErrorKind::kBadArgs,
                      "this program does not record its input shape; pass "
                      "--input-shape, e.g. --input-shape 1,3,224,224");
  }
  TensorSpec spec;
  spec.shape = *requested_shape;
  spec.dtype = DType::kFloat32;
  return {spec};
}

// Times one inference; the CPU it ran on is sampled outside the timed span.
double timed_inference_ms(ProgramSession& session, CpuObserver& cpus) {
  double ms = time_ms([&] { session.run_inference(); });
  cpus.sample();
  return ms;
}

// One timed run: wall time from before the inference to after the thread CPU
// clock reading that closes it; the run's CPU time is the difference from the
// reading that closed the run before (or the one taken just before the loop).
// The reading goes inside the wall span because it is where a pending
// preemption lands: reading a running thread's CPU clock updates its scheduler
// accounting, and a thread past its time slice is switched out on the return
// from that system call. Read outside, the lost time would fall between the
// runs, unseen. The CPU span therefore covers the wall span except its last
// reading, plus the loop's bookkeeping (under a microsecond), so wall - cpu is
// not inflated by the readings. Involuntary switches (getrusage, which does
// not update the accounting) are read after the wall span, the same way.
void timed_sample(ProgramSession& session, Measurement& m, int64_t& cpu_ns, int64_t& switches) {
  Clock::time_point start = Clock::now();
  session.run_inference();
  int64_t cpu_now = thread_cpu_ns();
  Clock::time_point end = Clock::now();
  int64_t switches_now = thread_involuntary_switches();
  m.cpus.sample();
  m.inference_ms.push_back(elapsed_ms(start, end));
  m.inference_cpu_ms.push_back(cpu_ns_to_ms(cpu_now - cpu_ns));
  m.involuntary_switches.push_back(switches < 0 || switches_now < 0 ? -1 : switches_now - switches);
  cpu_ns = cpu_now;
  switches = switches_now;
}

}  // namespace

MeasurementPlan MeasurementPlan::from_options(const RunnerOptions& options) {
  MeasurementPlan plan;
  plan.iterations = options.iterations;
  plan.warmup = options.warmup;
  plan.min_time_ms = options.min_time_ms;
  plan.max_time_ms = options.max_time_ms;
  plan.input_source = options.input;
  plan.seed = options.seed;
  plan.input_shape = options.input_shape;
  plan.core = options.core;
  plan.write_input_path = options.write_input_path;
  plan.write_output_path = options.write_output_path;
  return plan;
}

void measure_program(ProgramSession& session, const MeasurementPlan& plan,
                     Measurement& m) {
  m.memory_baseline = read_memory_snapshot();

  m.program_load_ms = time_ms([&] { session.load_program(); });
  m.input_specs = resolve_input_specs(session.recorded_input_specs(), plan.input_shape);
  std::vector<std::vector<uint8_t>> input_buffers =
      make_input_buffers(m.input_specs, plan.input_source, plan.seed);
  if (!plan.write_input_path.empty()) {
    std::vector<const std::vector<uint8_t>*> views;
    for (const std::vector<uint8_t>& buffer : input_buffers) views.push_back(&buffer);
    m.written_input = write_raw_file(plan.write_input_path, m.input_specs, views);
  }
  session.bind_inputs(std::move(input_buffers), m.input_specs);
  if (session.has_method_load_step()) {
    m.method_load_ms = time_ms([&] { session.load_method(); });
    m.load_ms = *m.program_load_ms + *m.method_load_ms;
  } else {
    m.load_ms = *m.program_load_ms;
  }
  m.memory_after_load = read_memory_snapshot();

  m.first_inference_ms = timed_inference_ms(session, m.cpus);
  for (int i = 0; i < plan.warmup; ++i) {
    m.warmup_ms.push_back(timed_inference_ms(session, m.cpus));
  }

  // No allocation inside the loop for usual counts.
  size_t expected = static_cast<size_t>(std::min(plan.iterations, 1 << 16));
  m.inference_ms.reserve(expected);
  m.inference_cpu_ms.reserve(expected);
  m.involuntary_switches.reserve(expected);
  m.frequency_core = plan.core >= 0 ? plan.core : current_core();
  m.core_freq_before_khz = core_frequency_khz(m.frequency_core);
  m.traced = session.traced();
  session.begin_traced_runs();
  int64_t switches = thread_involuntary_switches();
  int64_t cpu_ns = thread_cpu_ns();
  Clock::time_point loop_start = Clock::now();
  for (;;) {
    double loop_ms = elapsed_ms(loop_start, Clock::now());
    bool count_reached = static_cast<int>(m.inference_ms.size()) >= plan.iterations;
    if (count_reached && loop_ms >= plan.min_time_ms) break;
    if (plan.max_time_ms > 0 && loop_ms >= plan.max_time_ms) break;
    timed_sample(session, m, cpu_ns, switches);
  }
  m.core_freq_after_khz = core_frequency_khz(m.frequency_core);

  m.memory_after_runs = read_memory_snapshot();
  m.output = session.copy_output();
  m.etdump_size_bytes = session.write_trace();
  if (!plan.write_output_path.empty()) {
    m.written_output = write_raw_file(plan.write_output_path, {m.output->spec}, {&m.output->bytes});
  }
}

}  // namespace splitbench
