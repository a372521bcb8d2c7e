// The single error type of the runner: every failure carries a kind that ends up
// as "error_kind" in the result JSON, and a message that says what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace splitbench {

enum class ErrorKind {
  kBadArgs,
  kModelMissing,
  kModelCorrupt,
  kInputShape,
  kCoreUnavailable,
  kOutOfMemory,
  kUnsupportedFormat,
  kRuntime,
  kCannotWrite,  // a file asked for with --write-input/--write-output/--etdump
};

// The spelling used in the runner JSON (docs/formats.md, section 2).
const char* error_kind_name(ErrorKind kind);

class RunnerError : public std::runtime_error {
 public:
  RunnerError(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace splitbench
