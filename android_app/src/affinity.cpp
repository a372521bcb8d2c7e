#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "affinity.h"

#include <sched.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "runner_error.h"

namespace splitbench {

namespace {

// cpuN/online is absent for CPUs that cannot go offline (often cpu0): online.
bool core_is_online(int core) {
  std::ifstream online("/sys/devices/system/cpu/cpu" + std::to_string(core) +
                       "/online");
  if (!online) return true;
  int state = 1;
  online >> state;
  return state == 1;
}

}  // namespace

void pin_to_core(int core) {
  if (core < 0 || core >= CPU_SETSIZE) {
    throw RunnerError(ErrorKind::kCoreUnavailable,
                      "core " + std::to_string(core) +
                          " is out of range; pick one listed in Cpus_allowed_list");
  }
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    throw RunnerError(ErrorKind::kCoreUnavailable,
                      std::string("cannot read the CPU affinity: ") +
                          std::strerror(errno));
  }
  if (!CPU_ISSET(core, &allowed)) {
    throw RunnerError(ErrorKind::kCoreUnavailable,
                      "core " + std::to_string(core) +
                          " is not in this process's allowed set (" +
                          cpus_allowed_list() + "); pick one of those");
  }
  if (!core_is_online(core)) {
    throw RunnerError(ErrorKind::kCoreUnavailable,
                      "core " + std::to_string(core) +
                          " is offline; pick an online core");
  }
  cpu_set_t wanted;
  CPU_ZERO(&wanted);
  CPU_SET(core, &wanted);
  if (sched_setaffinity(0, sizeof(wanted), &wanted) != 0) {
    throw RunnerError(ErrorKind::kCoreUnavailable,
                      "cannot pin to core " + std::to_string(core) + ": " +
                          std::strerror(errno));
  }
}

std::string cpus_allowed_list() {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string key = "Cpus_allowed_list:";
  while (std::getline(status, line)) {
    if (line.compare(0, key.size(), key) == 0) {
      size_t start = line.find_first_not_of(" \t", key.size());
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

void CpuObserver::sample() {
  int cpu = sched_getcpu();
  if (cpu < 0) return;
  if (static_cast<size_t>(cpu) >= seen_.size()) seen_.resize(cpu + 1, false);
  seen_[cpu] = true;
}

std::vector<int> CpuObserver::observed() const {
  std::vector<int> cpus;
  for (size_t i = 0; i < seen_.size(); ++i) {
    if (seen_[i]) cpus.push_back(static_cast<int>(i));
  }
  return cpus;
}

}  // namespace splitbench
