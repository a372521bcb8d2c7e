#include "output_summary.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace splitbench {

uint64_t fnv1a64(const uint8_t* data, size_t size) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

namespace {

template <typename T>
double element_at(const uint8_t* bytes, int64_t index) {
  T value;
  std::memcpy(&value, bytes + index * sizeof(T), sizeof(T));
  return static_cast<double>(value);
}

// Reads element `index` as a double; false for dtypes without a plain reading.
bool read_element(DType dtype, const uint8_t* bytes, int64_t index, double* out) {
  switch (dtype) {
    case DType::kFloat32:
      *out = element_at<float>(bytes, index);
      return true;
    case DType::kFloat64:
      *out = element_at<double>(bytes, index);
      return true;
    case DType::kInt8:
      *out = element_at<int8_t>(bytes, index);
      return true;
    case DType::kUInt8:
    case DType::kBool:
      *out = element_at<uint8_t>(bytes, index);
      return true;
    case DType::kInt32:
      *out = element_at<int32_t>(bytes, index);
      return true;
    case DType::kInt64:
      *out = element_at<int64_t>(bytes, index);
      return true;
    default:
      return false;
  }
}

}  // namespace

OutputSummary summarize_output(const OutputTensor& output, size_t first_value_count) {
  OutputSummary summary;
  summary.spec = output.spec;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016" PRIx64,
                fnv1a64(output.bytes.data(), output.bytes.size()));
  summary.checksum_fnv1a64_hex = hex;

  int64_t count = output.spec.element_count();
  if (dtype_size_bytes(output.spec.dtype) == 0 ||
      output.bytes.size() < static_cast<size_t>(count) * dtype_size_bytes(output.spec.dtype)) {
    return summary;
  }
  double total = 0.0;
  double value = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    if (!read_element(output.spec.dtype, output.bytes.data(), i, &value)) return summary;
    total += value;
    if (static_cast<size_t>(i) < first_value_count) summary.first_values.push_back(value);
  }
  summary.sum = total;
  return summary;
}

}  // namespace splitbench
