// Pinning the process to one CPU core and reporting the affinity it really holds.
#pragma once

#include <string>
#include <vector>

namespace splitbench {

// Pins the calling thread (and so every thread it starts later) to `core`.
// Throws RunnerError(kCoreUnavailable) when the core is out of range, offline,
// or not in the set the process may use.
void pin_to_core(int core);

// "Cpus_allowed_list" of /proc/self/status, e.g. "0" or "0-3"; empty if unreadable.
std::string cpus_allowed_list();

// Collects sched_getcpu() samples; reports the sorted unique CPUs seen.
class CpuObserver {
 public:
  void sample();
  std::vector<int> observed() const;

 private:
  std::vector<bool> seen_;
};

}  // namespace splitbench
