#include "runner_error.h"

namespace splitbench {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kBadArgs:
      return "bad_args";
    case ErrorKind::kModelMissing:
      return "model_missing";
    case ErrorKind::kModelCorrupt:
      return "model_corrupt";
    case ErrorKind::kInputShape:
      return "input_shape";
    case ErrorKind::kCoreUnavailable:
      return "core_unavailable";
    case ErrorKind::kOutOfMemory:
      return "out_of_memory";
    case ErrorKind::kUnsupportedFormat:
      return "unsupported_format";
    case ErrorKind::kRuntime:
      return "runtime";
    case ErrorKind::kCannotWrite:
      return "cannot_write";
  }
  return "runtime";
}

}  // namespace splitbench
