// Which program file is to run, in which format, and the data file of its weights.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "options.h"
#include "program_session.h"

namespace splitbench {

enum class ModelFormat { kPte, kPtl };

struct ModelFile {
  std::string path;
  ModelFormat format = ModelFormat::kPte;
  int64_t size_bytes = 0;
};

// The ExecuTorch data file (.ptd) given with --data: the program's external weights.
struct DataFile {
  std::string path;
  int64_t size_bytes = 0;
};

const char* model_format_name(ModelFormat format);

// Stats the file and tells the format from its first bytes (a .ptl is a zip
// archive); anything else is handed to ExecuTorch, which judges it.
// Throws RunnerError(kModelMissing) when the file is not a readable regular file.
ModelFile inspect_model_file(const std::string& path);

// Stats the data file; ExecuTorch judges its contents when the program loads.
// Throws RunnerError(kModelMissing) when it is not a readable regular file.
DataFile inspect_data_file(const std::string& path);

// Creates the session of the runtime that runs this format.
// Throws RunnerError(kUnsupportedFormat) when that runtime is not built in, and
// kBadArgs for options the runtime cannot honour (--etdump, --data and
// --load-mode mmap go with .pte programs only).
std::unique_ptr<ProgramSession> make_session(const ModelFile& model,
                                             const RunnerOptions& options);

}  // namespace splitbench
