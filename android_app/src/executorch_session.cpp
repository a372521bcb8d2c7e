#include "executorch_session.h"

#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>
#include <executorch/runtime/platform/runtime.h>

#ifdef SPLITBENCH_WITH_ETDUMP
#include <executorch/devtools/etdump/etdump_flatcc.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "runner_error.h"
#include "threadpool_control.h"

namespace splitbench {

namespace {

using executorch::aten::ScalarType;
using executorch::extension::TensorPtr;
using executorch::extension::module::Module;
using executorch::runtime::Error;
using executorch::runtime::EValue;

const char* kMethodName = "forward";

DType to_dtype(ScalarType type) {
  switch (type) {
    case ScalarType::Float:
      return DType::kFloat32;
    case ScalarType::Double:
      return DType::kFloat64;
    case ScalarType::Half:
      return DType::kFloat16;
    case ScalarType::Char:
      return DType::kInt8;
    case ScalarType::Byte:
      return DType::kUInt8;
    case ScalarType::Int:
      return DType::kInt32;
    case ScalarType::Long:
      return DType::kInt64;
    case ScalarType::Bool:
      return DType::kBool;
    default:
      return DType::kOther;
  }
}

ScalarType to_scalar_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
      return ScalarType::Double;
    case DType::kFloat16:
      return ScalarType::Half;
    case DType::kInt8:
      return ScalarType::Char;
    case DType::kUInt8:
      return ScalarType::Byte;
    case DType::kInt32:
      return ScalarType::Int;
    case DType::kInt64:
      return ScalarType::Long;
    case DType::kBool:
      return ScalarType::Bool;
    default:
      return ScalarType::Float;
  }
}

bool is_memory_error(Error error) {
  return error == Error::MemoryAllocationFailed ||
         error == Error::DelegateMemoryAllocationFailed ||
         error == Error::OutOfResources;
}

std::string describe(const std::string& what, Error error) {
  char code[16];
  std::snprintf(code, sizeof(code), " (0x%x)", static_cast<unsigned>(error));
  return what + " failed: ExecuTorch error " + executorch::runtime::to_string(error) + code;
}

class ExecutorchSession final : public ProgramSession {
 public:
  ExecutorchSession(std::string path, LoadMode load_mode, std::string etdump_path)
      : path_(std::move(path)), load_mode_(load_mode), etdump_path_(std::move(etdump_path)) {
    executorch::runtime::runtime_init();
  }

  const char* runtime_name() const override { return "executorch"; }

  int set_thread_count(int threads) override {
    return reset_executorch_threadpool(threads);
  }

  void load_program() override {
    module_ = std::make_unique<Module>(
        path_, load_mode_ == LoadMode::kMmap ? Module::LoadMode::Mmap
                                             : Module::LoadMode::File,
        make_tracer());
    // Full flatbuffer verification: a damaged file is refused instead of read
    // out of bounds.
    Error error = module_->load(executorch::runtime::Program::Verification::InternalConsistency);
    if (error == Error::Ok) return;
    if (is_memory_error(error)) {
      throw RunnerError(ErrorKind::kOutOfMemory, describe("loading the program", error));
    }
    if (error == Error::AccessFailed) {
      throw RunnerError(ErrorKind::kModelMissing,
                        describe("reading '" + path_ + "'", error) +
                            "; check the path and its permissions");
    }
    throw RunnerError(ErrorKind::kModelCorrupt,
                      describe("loading '" + path_ + "'", error) +
                          "; the file is not a valid ExecuTorch program, re-export it");
  }

  bool has_method_load_step() const override { return true; }

  void load_method() override {
    Error error = module_->load_method(kMethodName);
    if (error == Error::Ok) return;
    if (is_memory_error(error)) {
      throw RunnerError(ErrorKind::kOutOfMemory, describe("loading method forward", error));
    }
    if (error == Error::InvalidProgram || error == Error::InvalidExternalData) {
      throw RunnerError(ErrorKind::kModelCorrupt,
                        describe("loading method forward", error) + "; re-export the program");
    }
    throw RunnerError(ErrorKind::kRuntime,
                      describe("loading method forward", error) +
                          "; the runner may lack a kernel or backend this program needs");
  }

  std::optional<std::vector<TensorSpec>> recorded_input_specs() override {
    auto meta = module_->method_meta(kMethodName);
    if (!meta.ok()) {
      throw RunnerError(ErrorKind::kModelCorrupt,
                        describe("reading the inputs of method forward", meta.error()));
    }
    std::vector<TensorSpec> specs;
    for (size_t i = 0; i < meta->num_inputs(); ++i) {
      auto tensor_meta = meta->input_tensor_meta(i);
      if (!tensor_meta.ok()) {
        throw RunnerError(ErrorKind::kInputShape,
                          "input " + std::to_string(i) +
                              " of method forward is not a tensor; the runner feeds tensors only");
      }
      TensorSpec spec;
      for (int32_t dim : tensor_meta->sizes()) spec.shape.push_back(dim);
      spec.dtype = to_dtype(tensor_meta->scalar_type());
      specs.push_back(spec);
    }
    return specs;
  }

  void bind_inputs(std::vector<std::vector<uint8_t>> buffers,
                   const std::vector<TensorSpec>& specs) override {
    input_buffers_ = std::move(buffers);
    inputs_.clear();
    input_tensors_.clear();
    for (size_t i = 0; i < specs.size(); ++i) {
      std::vector<executorch::aten::SizesType> sizes(specs[i].shape.begin(),
                                                     specs[i].shape.end());
      input_tensors_.push_back(executorch::extension::make_tensor_ptr(
          std::move(sizes), input_buffers_[i].data(), to_scalar_type(specs[i].dtype)));
      inputs_.emplace_back(input_tensors_.back());
    }
  }

  void run_inference() override {
    auto result = module_->execute(kMethodName, inputs_);
    if (!result.ok()) {
      ErrorKind kind = is_memory_error(result.error()) ? ErrorKind::kOutOfMemory
                                                       : ErrorKind::kRuntime;
      throw RunnerError(kind, describe("running method forward", result.error()));
    }
    outputs_ = std::move(*result);
  }

  bool traced() const override { return tracer_ != nullptr; }

  void begin_traced_runs() override {
#ifdef SPLITBENCH_WITH_ETDUMP
    // Drops what load, first run and warm-ups logged: the trace holds the timed runs.
    if (tracer_) tracer_->reset();
#endif
  }

  std::optional<int64_t> write_trace() override {
#ifdef SPLITBENCH_WITH_ETDUMP
    if (!tracer_) return std::nullopt;
    executorch::etdump::ETDumpResult dump = tracer_->get_etdump_data();
    if (dump.buf == nullptr || dump.size == 0) {
      throw RunnerError(ErrorKind::kRuntime,
                        "the ETDump tracer recorded nothing; this ExecuTorch runtime was built "
                        "without event tracing, drop --etdump");
    }
    std::FILE* file = std::fopen(etdump_path_.c_str(), "wb");
    bool ok = file && std::fwrite(dump.buf, 1, dump.size, file) == dump.size;
    if (file && std::fclose(file) != 0) ok = false;
    std::free(dump.buf);
    if (!ok) {
      throw RunnerError(ErrorKind::kCannotWrite, "cannot write the ETDump to '" + etdump_path_ +
                                                     "'; check the folder exists and is writable");
    }
    return static_cast<int64_t>(dump.size);
#else
    return std::nullopt;
#endif
  }

  OutputTensor copy_output() override {
    if (outputs_.empty() || !outputs_[0].isTensor()) {
      throw RunnerError(ErrorKind::kRuntime,
                        "method forward returned no tensor output; the runner reports tensors only");
    }
    const auto& tensor = outputs_[0].toTensor();
    OutputTensor output;
    for (auto dim : tensor.sizes()) output.spec.shape.push_back(dim);
    output.spec.dtype = to_dtype(tensor.scalar_type());
    const uint8_t* data = static_cast<const uint8_t*>(tensor.const_data_ptr());
    output.bytes.assign(data, data + tensor.nbytes());
    return output;
  }

 private:
  // The ETDump event tracer when --etdump was given; the Module owns it.
  std::unique_ptr<executorch::runtime::EventTracer> make_tracer() {
#ifdef SPLITBENCH_WITH_ETDUMP
    if (!etdump_path_.empty()) {
      auto tracer = std::make_unique<executorch::etdump::ETDumpGen>();
      tracer_ = tracer.get();
      return tracer;
    }
#endif
    return nullptr;
  }

  std::string path_;
  LoadMode load_mode_;
  [[maybe_unused]] std::string etdump_path_;  // empty = no tracing
#ifdef SPLITBENCH_WITH_ETDUMP
  executorch::etdump::ETDumpGen* tracer_ = nullptr;
#else
  void* tracer_ = nullptr;
#endif
  std::unique_ptr<Module> module_;
  std::vector<std::vector<uint8_t>> input_buffers_;
  std::vector<TensorPtr> input_tensors_;
  std::vector<EValue> inputs_;
  std::vector<EValue> outputs_;
};

}  // namespace

std::unique_ptr<ProgramSession> make_executorch_session(const std::string& path,
                                                        LoadMode load_mode,
                                                        const std::string& etdump_path) {
  return std::make_unique<ExecutorchSession>(path, load_mode, etdump_path);
}

}  // namespace splitbench
