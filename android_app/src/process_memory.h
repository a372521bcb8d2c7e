// Memory of this process, read from /proc/self/status and /proc/self/smaps_rollup.
#pragma once

#include <cstdint>
#include <optional>

namespace splitbench {

struct MemorySnapshot {
  std::optional<int64_t> vm_rss_kb;
  std::optional<int64_t> vm_hwm_kb;
  std::optional<int64_t> vm_swap_kb;
  std::optional<int64_t> pss_kb;  // null where smaps_rollup is not readable
};

MemorySnapshot read_memory_snapshot();

}  // namespace splitbench
