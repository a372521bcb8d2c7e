#include "model_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "executorch_session.h"
#include "runner_error.h"
#ifdef SPLITBENCH_WITH_LITE
#include "lite_session.h"
#endif

namespace splitbench {

const char* model_format_name(ModelFormat format) {
  return format == ModelFormat::kPtl ? "ptl" : "pte";
}

ModelFile inspect_model_file(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    throw RunnerError(ErrorKind::kModelMissing,
                      "model file '" + path + "' cannot be opened (" +
                          std::strerror(errno) + "); check the path");
  }
  if (!S_ISREG(info.st_mode)) {
    throw RunnerError(ErrorKind::kModelMissing,
                      "model path '" + path + "' is not a regular file; pass a .pte or .ptl file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw RunnerError(ErrorKind::kModelMissing,
                      "model file '" + path + "' is not readable; check its permissions");
  }
  char magic[4] = {0, 0, 0, 0};
  file.read(magic, sizeof(magic));
  ModelFile model;
  model.path = path;
  model.size_bytes = static_cast<int64_t>(info.st_size);
  bool is_zip = file.gcount() == 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0;
  model.format = is_zip ? ModelFormat::kPtl : ModelFormat::kPte;
  return model;
}

std::unique_ptr<ProgramSession> make_session(const ModelFile& model,
                                             const RunnerOptions& options) {
  if (model.format == ModelFormat::kPte) {
    return make_executorch_session(model.path, options.load_mode, options.etdump_path);
  }
  if (!options.etdump_path.empty()) {
    throw RunnerError(ErrorKind::kBadArgs,
                      "--etdump traces ExecuTorch (.pte) programs only; drop it for '" +
                          model.path + "'");
  }
#ifdef SPLITBENCH_WITH_LITE
  if (options.load_mode != LoadMode::kFile) {
    throw RunnerError(ErrorKind::kBadArgs,
                      "--load-mode mmap is not available for TorchScript Lite (.ptl) programs; "
                      "use --load-mode file");
  }
  return make_lite_session(model.path);
#else
  throw RunnerError(ErrorKind::kUnsupportedFormat,
                    "'" + model.path +
                        "' is a TorchScript Lite (.ptl) program but this runner was built "
                        "without the Lite interpreter; use the bundle built with "
                        "SPLITBENCH_WITH_LITE=ON (see android_app/README.md)");
#endif
}

}  // namespace splitbench
