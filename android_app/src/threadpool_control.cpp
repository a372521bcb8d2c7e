#include "threadpool_control.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "runner_error.h"

// The wheel ships libexecutorch_threadpool.so but not threadpool.h. These
// declarations match executorch v1.5.1, extension/threadpool/threadpool.h
// (namespace executorch::extension::threadpool); only the member functions used
// here are declared, and the object is only ever handled through a pointer.
namespace executorch::extension::threadpool {
class ThreadPool final {
 public:
  size_t get_thread_count() const;
  bool _unsafe_reset_threadpool(uint32_t num_threads);
};
ThreadPool* get_threadpool();
}  // namespace executorch::extension::threadpool

namespace splitbench {

int reset_executorch_threadpool(int threads) {
  auto* pool = executorch::extension::threadpool::get_threadpool();
  if (pool == nullptr) {
    throw RunnerError(ErrorKind::kRuntime, "ExecuTorch's thread pool is unavailable");
  }
  if (!pool->_unsafe_reset_threadpool(static_cast<uint32_t>(threads))) {
    throw RunnerError(ErrorKind::kRuntime,
                      "cannot resize ExecuTorch's thread pool to " +
                          std::to_string(threads) + " threads");
  }
  return static_cast<int>(pool->get_thread_count());
}

}  // namespace splitbench
