#include "executorch_session.h"

#include <executorch/extension/data_loader/buffer_data_loader.h>
#include <executorch/extension/data_loader/file_data_loader.h>
#include <executorch/extension/data_loader/mmap_data_loader.h>
#include <executorch/extension/flat_tensor/flat_tensor_data_map.h>
#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>
#include <executorch/runtime/backend/interface.h>
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
using executorch::runtime::DataLoader;
using executorch::runtime::Error;
using executorch::runtime::EValue;
using executorch::runtime::Program;

const char* kMethodName = "forward";

// An ExecuTorch data file (FlatTensor .ptd) whose one entry, 16 zero bytes under
// the key "splitbench.no_weights", no program asks for: byte for byte what
// export.shared_weights.SharedWeights({"splitbench.no_weights": bytes(16)}).write
// writes (the last 112 bytes, zero, are left to the initialiser). ExecuTorch
// refuses a data file with no entry at all.
alignas(16) constexpr uint8_t kPlaceholderDataFile[272] = {
    0x44, 0x00, 0x00, 0x00, 0x46, 0x54, 0x30, 0x31, 0x46, 0x48, 0x30, 0x31, 0x28, 0x00, 0x00, 0x00,
    0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x0c, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x08, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x08, 0x00, 0x04, 0x00,
    0x06, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, 0x73, 0x70, 0x6c, 0x69,
    0x74, 0x62, 0x65, 0x6e, 0x63, 0x68, 0x2e, 0x6e, 0x6f, 0x5f, 0x77, 0x65, 0x69, 0x67, 0x68, 0x74,
    0x73, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0c, 0x00,
    0x00, 0x00, 0x04, 0x00, 0x08, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

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
  ExecutorchSession(std::string path, std::string data_path, LoadMode load_mode,
                    std::string etdump_path)
      : path_(std::move(path)),
        data_path_(std::move(data_path)),
        load_mode_(load_mode),
        etdump_path_(std::move(etdump_path)) {
    executorch::runtime::runtime_init();
  }

  const char* runtime_name() const override { return "executorch"; }

  int set_thread_count(int threads) override {
    return reset_executorch_threadpool(threads);
  }

  void load_program() override {
    module_ = make_module();
    // Full flatbuffer verification: a damaged file is refused instead of read
    // out of bounds.
    Error error = module_->load(Program::Verification::InternalConsistency);
    if (error != Error::Ok) throw program_load_error(error);
  }

  bool has_method_load_step() const override { return true; }

  void load_method() override {
    Error error = module_->load_method(kMethodName);
    if (error != Error::Ok) throw method_load_error(error);
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
  Module::LoadMode module_load_mode() const {
    return load_mode_ == LoadMode::kMmap ? Module::LoadMode::Mmap : Module::LoadMode::File;
  }

  // The program with its --data file. Without one, the program gets the
  // placeholder data map: ExecuTorch 1.5.1's XNNPACK delegate dereferences a
  // null map when the program's weights live in a data file (a segfault), and
  // with a map that lacks them it fails with NotFound (see method_load_error).
  std::unique_ptr<Module> make_module() {
    if (!data_path_.empty()) {
      return std::make_unique<Module>(path_, data_path_, module_load_mode(), make_tracer());
    }
    return std::make_unique<Module>(
        make_program_loader(), nullptr, nullptr, make_tracer(),
        std::make_unique<executorch::extension::BufferDataLoader>(kPlaceholderDataFile,
                                                                  sizeof(kPlaceholderDataFile)));
  }

  // What Module itself opens the program with in each load mode.
  std::unique_ptr<DataLoader> make_program_loader() const {
    using executorch::extension::FileDataLoader;
    using executorch::extension::MmapDataLoader;
    if (load_mode_ == LoadMode::kMmap) {
      auto loader = MmapDataLoader::from(path_.c_str(), MmapDataLoader::MlockConfig::NoMlock);
      if (loader.ok()) return std::make_unique<MmapDataLoader>(std::move(*loader));
      throw program_file_error(loader.error());
    }
    auto loader = FileDataLoader::from(path_.c_str());
    if (loader.ok()) return std::make_unique<FileDataLoader>(std::move(*loader));
    throw program_file_error(loader.error());
  }

  RunnerError program_load_error(Error error) const {
    if (is_memory_error(error)) {
      return RunnerError(ErrorKind::kOutOfMemory, describe("loading the program", error));
    }
    // Module loads the data file before the program: when the program loads
    // alone, the data file is the one at fault.
    if (!data_path_.empty() && program_loads_alone()) return data_file_error(error);
    return program_file_error(error);
  }

  bool program_loads_alone() const {
    Module program(path_, module_load_mode());
    return program.load(Program::Verification::InternalConsistency) == Error::Ok;
  }

  RunnerError program_file_error(Error error) const {
    if (error == Error::AccessFailed) {
      return RunnerError(ErrorKind::kModelMissing, describe("reading '" + path_ + "'", error) +
                                                       "; check the path and its permissions");
    }
    return RunnerError(ErrorKind::kModelCorrupt,
                       describe("loading '" + path_ + "'", error) +
                           "; the file is not a valid ExecuTorch program, re-export it");
  }

  RunnerError data_file_error(Error error) const {
    if (error == Error::AccessFailed) {
      return RunnerError(ErrorKind::kModelMissing,
                         describe("reading the data file '" + data_path_ + "'", error) +
                             "; check the --data path and its permissions");
    }
    if (data_file_is_empty()) {
      return RunnerError(ErrorKind::kBadArgs,
                         describe("loading the data file '" + data_path_ + "'", error) +
                             ": it holds no weights, and ExecuTorch refuses an empty data file; "
                             "drop --data for a program without weights, else pass the data file "
                             "exported with it");
    }
    return RunnerError(ErrorKind::kModelCorrupt,
                       describe("loading the data file '" + data_path_ + "'", error) +
                           "; it is not a valid ExecuTorch data file (.ptd), re-export it");
  }

  // A well-formed data file without a single entry, which ExecuTorch 1.5.1
  // refuses to merge ("No non-empty named data maps provided to merge").
  bool data_file_is_empty() const {
    auto loader = executorch::extension::FileDataLoader::from(data_path_.c_str());
    if (!loader.ok()) return false;
    auto map = executorch::extension::FlatTensorDataMap::load(&*loader);
    if (!map.ok()) return false;
    auto keys = map->get_num_keys();
    return keys.ok() && *keys == 0;
  }

  // NotFound: a backend the runner lacks, else a weight key no data map holds
  // (measured with ExecuTorch 1.5.1: the data file of another model, or none).
  RunnerError method_load_error(Error error) {
    const std::string what = describe("loading method forward", error);
    if (is_memory_error(error)) return RunnerError(ErrorKind::kOutOfMemory, what);
    if (error == Error::NotFound) {
      std::string backend = missing_backend();
      if (!backend.empty()) {
        return RunnerError(ErrorKind::kRuntime, what + "; this runner lacks the backend " +
                                                    backend + " the program needs");
      }
      return missing_weights_error(what);
    }
    if (error == Error::InvalidProgram || error == Error::InvalidExternalData) {
      return RunnerError(ErrorKind::kModelCorrupt,
                         what + (data_path_.empty() ? "; re-export the program"
                                                    : "; re-export the program and its data file"));
    }
    return RunnerError(ErrorKind::kRuntime,
                       what + "; the runner may lack a kernel or backend this program needs");
  }

  RunnerError missing_weights_error(const std::string& what) const {
    if (data_path_.empty()) {
      return RunnerError(ErrorKind::kBadArgs,
                         what + ": '" + path_ + "' keeps its weights in an ExecuTorch data file "
                         "(.ptd); pass that file with --data");
    }
    return RunnerError(ErrorKind::kModelCorrupt,
                       what + ": the data file '" + data_path_ + "' lacks weights this program "
                       "needs; pass the data file exported with it");
  }

  // The first backend method forward delegates to that is not built into this
  // runner, or "" when it has them all.
  std::string missing_backend() {
    auto meta = module_->method_meta(kMethodName);
    if (!meta.ok()) return "";
    for (size_t i = 0; i < meta->num_backends(); ++i) {
      auto name = meta->get_backend_name(i);
      if (name.ok() && executorch::runtime::get_backend_class(*name) == nullptr) return *name;
    }
    return "";
  }

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
  std::string data_path_;  // empty = the program holds all its weights
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
                                                        const std::string& data_path,
                                                        LoadMode load_mode,
                                                        const std::string& etdump_path) {
  return std::make_unique<ExecutorchSession>(path, data_path, load_mode, etdump_path);
}

}  // namespace splitbench
