// Facts about this build of the runner, for the result JSON and --version.
#pragma once

#include <string>
#include <vector>

#include "json.h"

namespace splitbench {

struct BuildInfo {
  std::string runner_version;
  std::string executorch_version;
  std::string torch_version;  // empty without the Lite interpreter
  std::string abi;            // Android ABI name: arm64-v8a, x86_64, ...
  std::string platform;       // "android" or "linux"
  std::string compiler;
  std::string build_type;
  std::vector<std::string> runtimes;  // "executorch", "torchscript_lite"
};

const BuildInfo& build_info();

// The "runner" object of the result JSON.
Json runner_summary_json();

// The --version answer: {"schema": "splitbench.runner_capabilities", ...}.
Json capabilities_json();

}  // namespace splitbench
