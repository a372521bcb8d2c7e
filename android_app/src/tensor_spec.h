// Plain descriptions of tensors crossing the runner's boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace splitbench {

enum class DType { kFloat32, kFloat64, kFloat16, kInt8, kUInt8, kInt32, kInt64, kBool, kOther };

const char* dtype_name(DType dtype);
size_t dtype_size_bytes(DType dtype);  // 0 for kOther

struct TensorSpec {
  std::vector<int64_t> shape;
  DType dtype = DType::kFloat32;

  int64_t element_count() const;
  size_t size_bytes() const { return element_count() * dtype_size_bytes(dtype); }
  std::string describe() const;  // e.g. "float32[1,3,224,224]"
};

// A copy of one output tensor, taken after the last inference.
struct OutputTensor {
  TensorSpec spec;
  std::vector<uint8_t> bytes;
};

}  // namespace splitbench
