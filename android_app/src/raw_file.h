// Files the runner writes besides its JSON: the raw bytes of the generated input
// (--write-input) and of the first output tensor (--write-output), as they lie in
// memory (little-endian on every ABI the runner is built for).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor_spec.h"

namespace splitbench {

struct WrittenFile {
  std::string path;
  std::vector<TensorSpec> tensors;  // what the bytes hold, concatenated in order
  int64_t size_bytes = 0;
};

// Checks up front that `path` can be created (creates or truncates it), so a
// bad path fails before the program is loaded. Throws RunnerError(kCannotWrite).
void check_writable(const std::string& path, const char* flag);

// Writes the buffers one after the other. Throws RunnerError(kCannotWrite).
WrittenFile write_raw_file(const std::string& path, const std::vector<TensorSpec>& tensors,
                           const std::vector<const std::vector<uint8_t>*>& buffers);

}  // namespace splitbench
