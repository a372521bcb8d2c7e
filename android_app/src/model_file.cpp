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

namespace {

// How the messages about one kind of input file name it and say what to do.
struct FileRole {
  const char* name;          // "model" or "data"
  const char* open_hint;     // when the file cannot be opened
  const char* regular_hint;  // when the path is not a regular file
};

const FileRole kModelRole = {"model", "check the path", "pass a .pte or .ptl file"};
const FileRole kDataRole = {"data", "check the --data path (the .ptd file exported with the program)",
                            "pass the program's .ptd data file"};

// Opens a readable regular file; its size goes to `size_bytes`.
// Throws RunnerError(kModelMissing) saying what is wrong with it.
std::ifstream open_regular_file(const std::string& path, const FileRole& role,
                                int64_t& size_bytes) {
  const std::string what = std::string(role.name) + " file '" + path + "'";
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    throw RunnerError(ErrorKind::kModelMissing, what + " cannot be opened (" +
                                                    std::strerror(errno) + "); " + role.open_hint);
  }
  if (!S_ISREG(info.st_mode)) {
    throw RunnerError(ErrorKind::kModelMissing, std::string(role.name) + " path '" + path +
                                                    "' is not a regular file; " + role.regular_hint);
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw RunnerError(ErrorKind::kModelMissing, what + " is not readable; check its permissions");
  }
  size_bytes = static_cast<int64_t>(info.st_size);
  return file;
}

}  // namespace

ModelFile inspect_model_file(const std::string& path) {
  ModelFile model;
  model.path = path;
  std::ifstream file = open_regular_file(path, kModelRole, model.size_bytes);
  char magic[4] = {0, 0, 0, 0};
  file.read(magic, sizeof(magic));
  bool is_zip = file.gcount() == 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0;
  model.format = is_zip ? ModelFormat::kPtl : ModelFormat::kPte;
  return model;
}

DataFile inspect_data_file(const std::string& path) {
  DataFile data;
  data.path = path;
  open_regular_file(path, kDataRole, data.size_bytes);
  return data;
}

std::unique_ptr<ProgramSession> make_session(const ModelFile& model,
                                             const RunnerOptions& options) {
  if (model.format == ModelFormat::kPte) {
    return make_executorch_session(model.path, options.data_path, options.load_mode,
                                   options.etdump_path);
  }
  if (!options.data_path.empty()) {
    throw RunnerError(ErrorKind::kBadArgs,
                      "--data goes with ExecuTorch (.pte) programs only; drop it for '" +
                          model.path + "'");
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
