// Assembles the runner result JSON (schema splitbench.runner_result, version 3,
// docs/formats.md section 2) from what one run produced.
#pragma once

#include <optional>
#include <string>

#include "json.h"
#include "measurement.h"
#include "model_file.h"
#include "options.h"
#include "runner_error.h"

namespace splitbench {

struct RunFailure {
  ErrorKind kind;
  std::string message;
};

struct RunReport {
  std::optional<RunnerOptions> options;  // null when the command line was refused
  std::optional<ModelFile> model;
  std::optional<DataFile> data;  // --data, once the file was found
  std::optional<int> threadpool_size;
  const Measurement* measurement = nullptr;
  std::optional<RunFailure> failure;
};

// 2: timing.inference_cpu_ms and timing.traced, interference, files, the
// options write_input/write_output/etdump, error kind cannot_write.
// 3: data, the ExecuTorch data file (.ptd) of --data.
constexpr int kRunnerResultSchemaVersion = 3;

Json run_report_json(const RunReport& report);

}  // namespace splitbench
