#include "input_data.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "runner_error.h"

namespace splitbench {

uint64_t SplitMix64::next() {
  state_ += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

float SplitMix64::next_unit_float() {
  return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f);
}

namespace {

std::string describe_all(const std::vector<TensorSpec>& specs) {
  std::string text;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i) text += " + ";
    text += specs[i].describe();
  }
  return text;
}

std::vector<std::vector<uint8_t>> allocate(const std::vector<TensorSpec>& specs) {
  std::vector<std::vector<uint8_t>> buffers;
  for (const TensorSpec& spec : specs) {
    if (dtype_size_bytes(spec.dtype) == 0) {
      throw RunnerError(ErrorKind::kInputShape,
                        "the program has an input of an unsupported dtype; "
                        "only plain numeric inputs can be fed");
    }
    buffers.emplace_back(spec.size_bytes(), 0);
  }
  return buffers;
}

void fill_random(const std::vector<TensorSpec>& specs,
                 std::vector<std::vector<uint8_t>>& buffers, uint64_t seed) {
  SplitMix64 generator(seed);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].dtype != DType::kFloat32) {
      throw RunnerError(ErrorKind::kBadArgs,
                        "--input random fills float32 inputs only, input " +
                            std::to_string(i) + " is " + specs[i].describe() +
                            "; pass --input zeros or a raw file");
    }
    float* values = reinterpret_cast<float*>(buffers[i].data());
    int64_t count = specs[i].element_count();
    for (int64_t k = 0; k < count; ++k) values[k] = generator.next_unit_float();
  }
}

void fill_from_file(const std::vector<TensorSpec>& specs,
                    std::vector<std::vector<uint8_t>>& buffers,
                    const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw RunnerError(ErrorKind::kBadArgs,
                      "cannot read input file '" + path +
                          "'; pass random, zeros or an existing raw file");
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  size_t expected = 0;
  for (const TensorSpec& spec : specs) expected += spec.size_bytes();
  if (bytes.size() != expected) {
    throw RunnerError(ErrorKind::kInputShape,
                      "input file '" + path + "' has " +
                          std::to_string(bytes.size()) + " bytes but the program needs " +
                          std::to_string(expected) + " (" + describe_all(specs) +
                          "); write exactly that many raw bytes");
  }
  size_t offset = 0;
  for (auto& buffer : buffers) {
    if (!buffer.empty()) std::memcpy(buffer.data(), bytes.data() + offset, buffer.size());
    offset += buffer.size();
  }
}

}  // namespace

std::vector<std::vector<uint8_t>> make_input_buffers(
    const std::vector<TensorSpec>& specs, const std::string& source, uint64_t seed) {
  std::vector<std::vector<uint8_t>> buffers = allocate(specs);
  if (source == "zeros") return buffers;
  if (source == "random") {
    fill_random(specs, buffers, seed);
  } else {
    fill_from_file(specs, buffers, source);
  }
  return buffers;
}

}  // namespace splitbench
