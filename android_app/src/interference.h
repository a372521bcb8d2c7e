// Interference caught where it happens: the calling thread's CPU time and its
// involuntary context switches around each timed inference, and the pinned
// core's frequency. A sample whose wall time exceeds its CPU time by more than
// the margin of PreemptionRule lost the core for that long (another task, or a
// hypervisor's steal time where the kernel accounts it).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace splitbench {

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in ns; subtract
// two readings and convert with cpu_ns_to_ms (exact to the nanosecond).
int64_t thread_cpu_ns();
inline double cpu_ns_to_ms(int64_t ns) { return static_cast<double>(ns) * 1e-6; }

// Involuntary context switches of the calling thread so far
// (getrusage RUSAGE_THREAD, ru_nivcsw); -1 where unavailable.
int64_t thread_involuntary_switches();

// scaling_cur_freq of cpu`core` in kHz; nullopt where cpufreq is not readable
// (virtual machines, some SELinux policies) or core < 0.
std::optional<int64_t> core_frequency_khz(int core);

// The core the calling thread runs on now (sched_getcpu), -1 if unknown.
int current_core();

// A sample is preempted when wall - cpu > max(fraction_of_wall * wall, floor_ms).
struct PreemptionRule {
  double fraction_of_wall = 0.02;
  double floor_ms = 0.2;

  double margin_ms(double wall_ms) const;
  bool preempted(double wall_ms, double cpu_ms) const;
};

struct InterferenceSummary {
  int preempted_samples = 0;
  double preempted_wall_minus_cpu_ms = 0.0;  // summed over the preempted samples only
  double wall_minus_cpu_total_ms = 0.0;      // summed over every sample (negative terms kept)
  int64_t involuntary_switches_total = 0;
  int samples_with_switches = 0;
};

// wall_ms[i] and cpu_ms[i] belong to the same sample; switches may be empty.
InterferenceSummary summarize_interference(const std::vector<double>& wall_ms,
                                           const std::vector<double>& cpu_ms,
                                           const std::vector<int64_t>& switches,
                                           const PreemptionRule& rule);

}  // namespace splitbench
