#include "process_memory.h"

#include <fstream>
#include <sstream>
#include <string>

namespace splitbench {

namespace {

// Reads "Key:   1234 kB" from a /proc file; nullopt when absent.
std::optional<int64_t> read_kb_field(const char* path, const std::string& key) {
  std::ifstream file(path);
  std::string line;
  const std::string prefix = key + ":";
  while (std::getline(file, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      std::istringstream fields(line.substr(prefix.size()));
      int64_t value = 0;
      if (fields >> value) return value;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

MemorySnapshot read_memory_snapshot() {
  MemorySnapshot snapshot;
  snapshot.vm_rss_kb = read_kb_field("/proc/self/status", "VmRSS");
  snapshot.vm_hwm_kb = read_kb_field("/proc/self/status", "VmHWM");
  snapshot.vm_swap_kb = read_kb_field("/proc/self/status", "VmSwap");
  snapshot.pss_kb = read_kb_field("/proc/self/smaps_rollup", "Pss");
  return snapshot;
}

}  // namespace splitbench
