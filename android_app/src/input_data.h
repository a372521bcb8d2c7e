// The bytes fed to the program: deterministic random floats, zeros, or a raw file.
//
// Random inputs come from splitmix64 seeded with --seed: for every element, in
// order over all inputs, the state advances by 0x9E3779B97F4A7C15, the state is
// mixed (xor-shift 30, * 0xBF58476D1CE4E5B9, xor-shift 27, * 0x94D049BB133111EB,
// xor-shift 31), and the top 24 bits become the float (z >> 40) * 2^-24 in [0, 1).
// android_app/input_gen.py is the Python twin.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor_spec.h"

namespace splitbench {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  float next_unit_float();  // uniform in [0, 1), 24 random bits

 private:
  uint64_t state_;
};

// One buffer per input spec. `source` is "random", "zeros" or a file path whose
// size must equal the sum of the inputs' sizes (inputs concatenated in order).
// Throws RunnerError: kInputShape on a size mismatch, kBadArgs for an unreadable
// file or random values asked for a non-float32 input.
std::vector<std::vector<uint8_t>> make_input_buffers(
    const std::vector<TensorSpec>& specs, const std::string& source, uint64_t seed);

}  // namespace splitbench
