#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "interference.h"

#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace splitbench {

int64_t thread_cpu_ns() {
  timespec now{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) != 0) return 0;
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

int64_t thread_involuntary_switches() {
#ifdef RUSAGE_THREAD
  rusage usage{};
  if (getrusage(RUSAGE_THREAD, &usage) == 0) return usage.ru_nivcsw;
#endif
  return -1;
}

std::optional<int64_t> core_frequency_khz(int core) {
  if (core < 0) return std::nullopt;
  std::ifstream file("/sys/devices/system/cpu/cpu" + std::to_string(core) +
                     "/cpufreq/scaling_cur_freq");
  long long khz = 0;
  if (!(file >> khz) || khz <= 0) return std::nullopt;
  return khz;
}

int current_core() { return sched_getcpu(); }

double PreemptionRule::margin_ms(double wall_ms) const {
  return std::max(fraction_of_wall * wall_ms, floor_ms);
}

bool PreemptionRule::preempted(double wall_ms, double cpu_ms) const {
  return wall_ms - cpu_ms > margin_ms(wall_ms);
}

InterferenceSummary summarize_interference(const std::vector<double>& wall_ms,
                                           const std::vector<double>& cpu_ms,
                                           const std::vector<int64_t>& switches,
                                           const PreemptionRule& rule) {
  InterferenceSummary summary;
  size_t count = std::min(wall_ms.size(), cpu_ms.size());
  for (size_t i = 0; i < count; ++i) {
    double excess = wall_ms[i] - cpu_ms[i];
    summary.wall_minus_cpu_total_ms += excess;
    if (rule.preempted(wall_ms[i], cpu_ms[i])) {
      ++summary.preempted_samples;
      summary.preempted_wall_minus_cpu_ms += excess;
    }
  }
  for (int64_t n : switches) {
    if (n > 0) {
      summary.involuntary_switches_total += n;
      ++summary.samples_with_switches;
    }
  }
  return summary;
}

}  // namespace splitbench
