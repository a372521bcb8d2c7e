// Control of ExecuTorch's shared intra-op thread pool (used by XNNPACK and the
// optimized kernels). Its default size comes from the CPU count and ignores the
// affinity mask, so a pinned process must resize it before a model loads.
#pragma once

namespace splitbench {

// Resizes the pool to `threads`; returns the size in effect afterwards.
// Throws RunnerError(kRuntime) when the pool cannot be resized.
int reset_executorch_threadpool(int threads);

}  // namespace splitbench
