#include "lite_session.h"

#include <ATen/Parallel.h>
#include <ATen/ops/from_blob.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/mobile/import.h>
#include <torch/csrc/jit/mobile/module.h>

#include <optional>
#include <utility>

#include "runner_error.h"

namespace splitbench {

namespace {

DType to_dtype(c10::ScalarType type) {
  switch (type) {
    case c10::ScalarType::Float:
      return DType::kFloat32;
    case c10::ScalarType::Double:
      return DType::kFloat64;
    case c10::ScalarType::Half:
      return DType::kFloat16;
    case c10::ScalarType::Char:
      return DType::kInt8;
    case c10::ScalarType::Byte:
      return DType::kUInt8;
    case c10::ScalarType::Int:
      return DType::kInt32;
    case c10::ScalarType::Long:
      return DType::kInt64;
    case c10::ScalarType::Bool:
      return DType::kBool;
    default:
      return DType::kOther;
  }
}

c10::ScalarType to_scalar_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
      return c10::ScalarType::Double;
    case DType::kFloat16:
      return c10::ScalarType::Half;
    case DType::kInt8:
      return c10::ScalarType::Char;
    case DType::kUInt8:
      return c10::ScalarType::Byte;
    case DType::kInt32:
      return c10::ScalarType::Int;
    case DType::kInt64:
      return c10::ScalarType::Long;
    case DType::kBool:
      return c10::ScalarType::Bool;
    default:
      return c10::ScalarType::Float;
  }
}

// The first line of a c10::Error, without its C++ backtrace.
std::string first_line(const c10::Error& error) {
  std::string text = error.what_without_backtrace();
  size_t newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

class LiteSession final : public ProgramSession {
 public:
  explicit LiteSession(std::string path) : path_(std::move(path)) {}

  const char* runtime_name() const override { return "torchscript_lite"; }

  int set_thread_count(int threads) override {
    at::set_num_threads(threads);
    return at::get_num_threads();
  }

  void load_program() override {
    try {
      module_.emplace(torch::jit::_load_for_mobile(path_));
    } catch (const c10::Error& error) {
      throw RunnerError(ErrorKind::kModelCorrupt,
                        "loading '" + path_ + "' as TorchScript Lite failed: " + first_line(error) +
                            "; re-export it with _save_for_lite_interpreter");
    }
  }

  bool has_method_load_step() const override { return false; }
  void load_method() override {}

  std::optional<std::vector<TensorSpec>> recorded_input_specs() override {
    return std::nullopt;  // .ptl files record no input shapes
  }

  void bind_inputs(std::vector<std::vector<uint8_t>> buffers,
                   const std::vector<TensorSpec>& specs) override {
    buffers_ = std::move(buffers);
    inputs_.clear();
    for (size_t i = 0; i < specs.size(); ++i) {
      inputs_.emplace_back(at::from_blob(buffers_[i].data(), specs[i].shape,
                                         at::TensorOptions().dtype(to_scalar_type(specs[i].dtype))));
    }
  }

  void run_inference() override {
    c10::InferenceMode inference_mode;
    try {
      std::vector<c10::IValue> inputs = inputs_;
      output_ = module_->forward(std::move(inputs));
    } catch (const c10::Error& error) {
      // A .ptl records no input shape, so a wrong --input-shape surfaces here.
      throw RunnerError(ErrorKind::kRuntime, "running forward failed: " + first_line(error) +
                                                 "; check --input-shape against the model");
    }
  }

  OutputTensor copy_output() override {
    c10::IValue value = output_;
    if (value.isTuple() && !value.toTupleRef().elements().empty()) {
      value = value.toTupleRef().elements()[0];
    }
    if (!value.isTensor()) {
      throw RunnerError(ErrorKind::kRuntime,
                        "forward returned no tensor output; the runner reports tensors only");
    }
    at::Tensor tensor = value.toTensor().contiguous();
    OutputTensor output;
    output.spec.shape.assign(tensor.sizes().begin(), tensor.sizes().end());
    output.spec.dtype = to_dtype(tensor.scalar_type());
    const uint8_t* data = static_cast<const uint8_t*>(tensor.const_data_ptr());
    output.bytes.assign(data, data + tensor.nbytes());
    return output;
  }

 private:
  std::string path_;
  std::optional<torch::jit::mobile::Module> module_;
  std::vector<std::vector<uint8_t>> buffers_;
  std::vector<c10::IValue> inputs_;
  c10::IValue output_;
};

}  // namespace

std::unique_ptr<ProgramSession> make_lite_session(const std::string& path) {
  return std::make_unique<LiteSession>(path);
}

}  // namespace splitbench
