#include "peak_kernel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SPLITBENCH_PEAK_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define SPLITBENCH_PEAK_NEON 1
#endif

namespace splitbench {

namespace {

// The chain constants: acc converges to b / (1 - a) = 1, never to a denormal,
// infinity or NaN however long it runs.
constexpr float kMultiplier = 0.999999f;
constexpr float kAddend = 1e-6f;

#define SB_REPEAT12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define SB_REPEAT16(X) SB_REPEAT12(X) X(12) X(13) X(14) X(15)
#define SB_REPEAT24(X) SB_REPEAT16(X) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)

// Scalar: 8 chains; the compiler may fuse the multiply and add where it can.
float run_scalar(int64_t rounds) {
  float a = kMultiplier, b = kAddend;
#define SB_DECL(i) float acc##i = 0.001f * (i);
#define SB_STEP(i) acc##i = acc##i * a + b;
#define SB_SUM(i) sum += acc##i;
  SB_DECL(0) SB_DECL(1) SB_DECL(2) SB_DECL(3) SB_DECL(4) SB_DECL(5) SB_DECL(6) SB_DECL(7)
  for (int64_t r = 0; r < rounds; ++r) {
    SB_STEP(0) SB_STEP(1) SB_STEP(2) SB_STEP(3) SB_STEP(4) SB_STEP(5) SB_STEP(6) SB_STEP(7)
  }
  float sum = 0.0f;
  SB_SUM(0) SB_SUM(1) SB_SUM(2) SB_SUM(3) SB_SUM(4) SB_SUM(5) SB_SUM(6) SB_SUM(7)
#undef SB_DECL
#undef SB_STEP
#undef SB_SUM
  return sum;
}

bool always_supported() { return true; }

#if defined(SPLITBENCH_PEAK_X86)

// AVX-512F: 16 zmm chains of vfmadd (32 registers; latency 4 x 2 ports needs 8).
__attribute__((target("avx512f"))) float run_avx512f(int64_t rounds) {
  const __m512 a = _mm512_set1_ps(kMultiplier);
  const __m512 b = _mm512_set1_ps(kAddend);
#define SB_DECL(i) __m512 acc##i = _mm512_set1_ps(0.001f * (i));
#define SB_STEP(i) acc##i = _mm512_fmadd_ps(acc##i, a, b);
#define SB_SUM(i) sum = _mm512_add_ps(sum, acc##i);
  SB_REPEAT16(SB_DECL)
  for (int64_t r = 0; r < rounds; ++r) {
    SB_REPEAT16(SB_STEP)
  }
  __m512 sum = _mm512_setzero_ps();
  SB_REPEAT16(SB_SUM)
#undef SB_DECL
#undef SB_STEP
#undef SB_SUM
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0.0f;
  for (float lane : lanes) total += lane;
  return total;
}

// AVX2 + FMA: 12 ymm chains of vfmadd (16 registers, 2 hold a and b).
__attribute__((target("avx2,fma"))) float run_avx2_fma(int64_t rounds) {
  const __m256 a = _mm256_set1_ps(kMultiplier);
  const __m256 b = _mm256_set1_ps(kAddend);
#define SB_DECL(i) __m256 acc##i = _mm256_set1_ps(0.001f * (i));
#define SB_STEP(i) acc##i = _mm256_fmadd_ps(acc##i, a, b);
#define SB_SUM(i) sum = _mm256_add_ps(sum, acc##i);
  SB_REPEAT12(SB_DECL)
  for (int64_t r = 0; r < rounds; ++r) {
    SB_REPEAT12(SB_STEP)
  }
  __m256 sum = _mm256_setzero_ps();
  SB_REPEAT12(SB_SUM)
#undef SB_DECL
#undef SB_STEP
#undef SB_SUM
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0.0f;
  for (float lane : lanes) total += lane;
  return total;
}

// SSE2 (every x86-64): no FMA, so a multiply then an add per lane (2 flops).
__attribute__((target("sse2"))) float run_sse2(int64_t rounds) {
  const __m128 a = _mm_set1_ps(kMultiplier);
  const __m128 b = _mm_set1_ps(kAddend);
#define SB_DECL(i) __m128 acc##i = _mm_set1_ps(0.001f * (i));
#define SB_STEP(i) acc##i = _mm_add_ps(_mm_mul_ps(acc##i, a), b);
#define SB_SUM(i) sum = _mm_add_ps(sum, acc##i);
  SB_REPEAT12(SB_DECL)
  for (int64_t r = 0; r < rounds; ++r) {
    SB_REPEAT12(SB_STEP)
  }
  __m128 sum = _mm_setzero_ps();
  SB_REPEAT12(SB_SUM)
#undef SB_DECL
#undef SB_STEP
#undef SB_SUM
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

// __builtin_cpu_supports also checks that the OS saves the wider registers.
bool avx512f_supported() { return __builtin_cpu_supports("avx512f"); }
bool avx2_fma_supported() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool sse2_supported() { return __builtin_cpu_supports("sse2"); }

#endif  // SPLITBENCH_PEAK_X86

#if defined(SPLITBENCH_PEAK_NEON)

// NEON: 24 q-register chains of fmla (32 registers; up to 6 FMA pipes x
// latency 4 on the widest Arm cores). fmla accumulates in place, so the chain
// here is acc = acc + b * 1 (acc grows by 1e-6 a round: finite for any run).
float run_neon(int64_t rounds) {
  const float32x4_t a = vdupq_n_f32(1.0f);
  const float32x4_t b = vdupq_n_f32(kAddend);
#define SB_DECL(i) float32x4_t acc##i = vdupq_n_f32(0.001f * (i));
#define SB_STEP(i) acc##i = vfmaq_f32(acc##i, b, a);
#define SB_SUM(i) sum = vaddq_f32(sum, acc##i);
  SB_REPEAT24(SB_DECL)
  for (int64_t r = 0; r < rounds; ++r) {
    SB_REPEAT24(SB_STEP)
  }
  float32x4_t sum = vdupq_n_f32(0.0f);
  SB_REPEAT24(SB_SUM)
#undef SB_DECL
#undef SB_STEP
#undef SB_SUM
  return vaddvq_f32(sum);
}

#endif  // SPLITBENCH_PEAK_NEON

std::vector<PeakKernel> make_kernels() {
  std::vector<PeakKernel> kernels;
#if defined(SPLITBENCH_PEAK_X86)
  kernels.push_back({"avx512f", 512, 16, true, 16, run_avx512f, avx512f_supported});
  kernels.push_back({"avx2_fma", 256, 8, true, 12, run_avx2_fma, avx2_fma_supported});
  kernels.push_back({"sse2", 128, 4, false, 12, run_sse2, sse2_supported});
#endif
#if defined(SPLITBENCH_PEAK_NEON)
  kernels.push_back({"neon", 128, 4, true, 24, run_neon, always_supported});
#endif
  kernels.push_back({"scalar", 32, 1, false, 8, run_scalar, always_supported});
  return kernels;
}

}  // namespace

const std::vector<PeakKernel>& compiled_peak_kernels() {
  static const std::vector<PeakKernel> kernels = make_kernels();
  return kernels;
}

const PeakKernel& widest_supported_peak_kernel() {
  for (const PeakKernel& kernel : compiled_peak_kernels()) {
    if (kernel.supported()) return kernel;
  }
  return compiled_peak_kernels().back();
}

const PeakKernel* find_peak_kernel(const std::string& isa) {
  for (const PeakKernel& kernel : compiled_peak_kernels()) {
    if (isa == kernel.isa) return &kernel;
  }
  return nullptr;
}

bool is_known_peak_isa(const std::string& isa) {
  return isa == "auto" || find_peak_kernel(isa) != nullptr;
}

std::string known_peak_isas_text() {
  std::string text;
  for (const PeakKernel& kernel : compiled_peak_kernels()) {
    if (!text.empty()) text += ", ";
    text += kernel.isa;
  }
  return text;
}

}  // namespace splitbench
