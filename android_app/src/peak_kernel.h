// Kernels for the peak fp32 FMA throughput of one core: independent chains of
// acc = acc * a + b on the widest vector unit the core has, chosen at run time.
// One binary carries every kernel of its architecture (x86-64: AVX-512F,
// AVX2+FMA, SSE2, scalar, compiled with target attributes; aarch64: NEON fmla,
// scalar; elsewhere: scalar) and runs only those the CPU supports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace splitbench {

struct PeakKernel {
  const char* isa;   // "avx512f", "avx2_fma", "sse2", "neon", "scalar"
  int vector_bits;   // width of one operand (32 for scalar)
  int fp32_lanes;    // vector_bits / 32
  bool fused;        // true: fused multiply-add; false: a multiply then an add
  int accumulators;  // independent dependency chains (registers)
  // Runs `rounds` rounds of one operation per accumulator; returns a value
  // derived from every accumulator, so no chain can be optimised away.
  float (*run)(int64_t rounds);
  // Whether this CPU (and OS) can run it.
  bool (*supported)();

  // Lane operations per round; each is 2 flops (a multiply and an add).
  int64_t lane_ops_per_round() const { return static_cast<int64_t>(fp32_lanes) * accumulators; }
};

// Every kernel compiled into this binary, widest first.
const std::vector<PeakKernel>& compiled_peak_kernels();

// The widest kernel this CPU supports (the scalar one always is).
const PeakKernel& widest_supported_peak_kernel();

// The compiled kernel named `isa`, or nullptr.
const PeakKernel* find_peak_kernel(const std::string& isa);

// "auto" or the name of a compiled kernel.
bool is_known_peak_isa(const std::string& isa);
std::string known_peak_isas_text();  // e.g. "avx512f, avx2_fma, sse2, scalar"

}  // namespace splitbench
