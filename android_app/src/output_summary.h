// What the runner reports about the program's output: enough for the host to
// check it against ExecuTorch's Python runtime without shipping the tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tensor_spec.h"

namespace splitbench {

struct OutputSummary {
  TensorSpec spec;
  std::optional<double> sum;        // null for dtypes without a numeric reading
  std::vector<double> first_values;
  std::string checksum_fnv1a64_hex;  // FNV-1a 64 over the raw bytes, 16 hex digits
};

uint64_t fnv1a64(const uint8_t* data, size_t size);

OutputSummary summarize_output(const OutputTensor& output, size_t first_value_count = 8);

}  // namespace splitbench
