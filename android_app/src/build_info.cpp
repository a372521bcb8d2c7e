#include "build_info.h"

#include "build_config.h"
#include "core_peak.h"
#include "peak_kernel.h"
#include "run_report.h"

#if defined(__ANDROID__)
#include <android/api-level.h>
#endif

namespace splitbench {

namespace {

const char* compiled_abi() {
#if defined(__aarch64__)
  return "arm64-v8a";
#elif defined(__arm__)
  return "armeabi-v7a";
#elif defined(__x86_64__)
  return "x86_64";
#elif defined(__i386__)
  return "x86";
#else
  return "unknown";
#endif
}

std::string compiled_compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

BuildInfo collect() {
  BuildInfo info;
  info.runner_version = SPLITBENCH_RUNNER_VERSION;
  info.executorch_version = SPLITBENCH_EXECUTORCH_VERSION;
  info.abi = compiled_abi();
#if defined(__ANDROID__)
  info.platform = "android";
#else
  info.platform = "linux";
#endif
  info.compiler = compiled_compiler();
  info.build_type = SPLITBENCH_BUILD_TYPE;
  info.runtimes.push_back("executorch");
#ifdef SPLITBENCH_WITH_LITE
  info.torch_version = SPLITBENCH_TORCH_VERSION;
  info.runtimes.push_back("torchscript_lite");
#endif
  return info;
}

}  // namespace

const BuildInfo& build_info() {
  static const BuildInfo info = collect();
  return info;
}

Json runner_summary_json() {
  const BuildInfo& info = build_info();
  Json runner = Json::object();
  runner.set("version", info.runner_version);
  runner.set("executorch_version", info.executorch_version);
  runner.set("abi", info.abi);
  runner.set("runtimes", Json::array_of(info.runtimes));
  return runner;
}

Json capabilities_json() {
  const BuildInfo& info = build_info();
  Json caps = Json::object();
  caps.set("schema", "splitbench.runner_capabilities");
  caps.set("schema_version", 1);
  caps.set("runner_version", info.runner_version);
  caps.set("runtimes", Json::array_of(info.runtimes));
  caps.set("formats", [&] {
    Json formats = Json::array();
    formats.push("pte");
    if (info.runtimes.size() > 1) formats.push("ptl");
    return formats;
  }());
  caps.set("executorch_version", info.executorch_version);
  caps.set("torch_version", info.torch_version.empty() ? Json() : Json(info.torch_version));
  caps.set("abi", info.abi);
  caps.set("platform", info.platform);
#if defined(__ANDROID__)
  caps.set("android_api_level", __ANDROID_API__);
#else
  caps.set("android_api_level", Json());
#endif
  caps.set("compiler", info.compiler);
  caps.set("build_type", info.build_type);
  caps.set("load_modes", Json::array_of(std::vector<std::string>{"file", "mmap"}));
  caps.set("inputs", Json::array_of(std::vector<std::string>{"random", "zeros", "path"}));
  caps.set("random_input", "splitmix64 -> (z >> 40) * 2^-24, float32 in [0, 1)");
  caps.set("checksum", "fnv1a64 over the raw output bytes");
  caps.set("runner_result_schema_version", kRunnerResultSchemaVersion);
  caps.set("core_peak_schema_version", kCorePeakSchemaVersion);
  Json compiled = Json::array();
  Json supported = Json::array();
  for (const PeakKernel& kernel : compiled_peak_kernels()) {
    compiled.push(kernel.isa);
    if (kernel.supported()) supported.push(kernel.isa);
  }
  caps.set("peak_kernel_isas", compiled);
  caps.set("peak_kernel_isas_supported", supported);
  caps.set("write_files", Json::array_of(std::vector<std::string>{"input", "output"}));
  caps.set("data_files", true);  // --data: external weights in an ExecuTorch .ptd file
#ifdef SPLITBENCH_WITH_ETDUMP
  caps.set("etdump", true);
#else
  caps.set("etdump", false);
#endif
  return caps;
}

}  // namespace splitbench
