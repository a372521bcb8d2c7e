// One loaded program of one runtime, driven step by step by the measurement.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tensor_spec.h"

namespace splitbench {

class ProgramSession {
 public:
  virtual ~ProgramSession() = default;

  // "executorch" or "torchscript_lite".
  virtual const char* runtime_name() const = 0;

  // Sizes the runtime's intra-op thread pool; called before anything is loaded.
  // Returns the pool size in effect afterwards.
  virtual int set_thread_count(int threads) = 0;

  // Reads and parses the program (ExecuTorch: Program; Lite: the whole module).
  virtual void load_program() = 0;

  // False when the runtime has no step between program load and the first
  // inference (Lite); the method load time is then reported as null.
  virtual bool has_method_load_step() const = 0;

  // Prepares the method for execution (ExecuTorch: memory planning and
  // delegate initialisation, e.g. XNNPACK weight packing).
  virtual void load_method() = 0;

  // The input tensors as recorded in the program, or nullopt when the format
  // does not record them. Valid after load_program().
  virtual std::optional<std::vector<TensorSpec>> recorded_input_specs() = 0;

  // Hands over the input bytes, one buffer per input; the session keeps them.
  virtual void bind_inputs(std::vector<std::vector<uint8_t>> buffers,
                           const std::vector<TensorSpec>& specs) = 0;

  // Runs the method once on the bound inputs.
  virtual void run_inference() = 0;

  // A copy of the first output of the last inference.
  virtual OutputTensor copy_output() = 0;

  // Event tracing (ETDump, ExecuTorch only). True when a tracer is attached.
  virtual bool traced() const { return false; }
  // Called right before the timed runs: the trace keeps those runs only.
  virtual void begin_traced_runs() {}
  // Writes the trace after the timed runs; returns its size in bytes
  // (nullopt when untraced). Throws RunnerError(kCannotWrite).
  virtual std::optional<int64_t> write_trace() { return std::nullopt; }
};

}  // namespace splitbench
