// splitbench_runner: loads one program, times it on one pinned core and prints
// one JSON object (docs/formats.md, section 2). One process per measurement.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <new>
#include <optional>

#include "affinity.h"
#include "build_info.h"
#include "core_peak.h"
#include "measurement.h"
#include "model_file.h"
#include "options.h"
#include "raw_file.h"
#include "run_report.h"
#include "runner_error.h"

namespace {

using namespace splitbench;

constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitBadArgs = 2;
constexpr int kExitCannotWrite = 3;

// Writes the JSON to --output-json (or stdout); false when the file cannot be written.
bool emit(const Json& json, const std::string& output_json_path) {
  std::string text = json.dump() + "\n";
  if (output_json_path.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  }
  std::ofstream file(output_json_path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    std::fprintf(stderr, "splitbench_runner: error: cannot write '%s'; check the folder exists\n",
                 output_json_path.c_str());
    return false;
  }
  return true;
}

// The run after the command line was accepted; fills `report` as it goes.
void run(const RunnerOptions& options, RunReport& report, Measurement& measurement) {
  // Pinning comes first, so every thread started later inherits the mask.
  if (options.core >= 0) pin_to_core(options.core);
  // Files asked for are created up front, so a bad path fails before the load.
  if (!options.write_input_path.empty()) check_writable(options.write_input_path, "--write-input");
  if (!options.write_output_path.empty()) check_writable(options.write_output_path, "--write-output");
  if (!options.etdump_path.empty()) check_writable(options.etdump_path, "--etdump");
  report.model = inspect_model_file(options.model_path);
  std::unique_ptr<ProgramSession> session = make_session(*report.model, options);
  if (!options.data_path.empty()) report.data = inspect_data_file(options.data_path);
  report.threadpool_size = session->set_thread_count(options.threads);
  report.measurement = &measurement;
  measure_program(*session, MeasurementPlan::from_options(options), measurement);
}

int exit_code_for(ErrorKind kind) {
  if (kind == ErrorKind::kBadArgs) return kExitBadArgs;
  if (kind == ErrorKind::kCannotWrite) return kExitCannotWrite;
  return kExitRunFailed;
}

// --measure-peak: pin, run the FMA kernel, print splitbench.core_peak.
int measure_peak(const RunnerOptions& options) {
  CorePeakPlan plan = CorePeakPlan::from_options(options);
  CorePeak peak;
  std::optional<CorePeakFailure> failure;
  try {
    if (options.core >= 0) pin_to_core(options.core);
    measure_core_peak(plan, peak);
  } catch (const RunnerError& error) {
    failure = CorePeakFailure{error.kind(), error.what()};
  } catch (const std::exception& error) {
    failure = CorePeakFailure{ErrorKind::kRuntime, error.what()};
  }
  if (failure) {
    std::fprintf(stderr, "splitbench_runner: error (%s): %s\n", error_kind_name(failure->kind),
                 failure->message.c_str());
  }
  if (!emit(core_peak_json(plan, peak, failure), options.output_json_path)) return kExitCannotWrite;
  return failure ? exit_code_for(failure->kind) : kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  RunReport report;
  Measurement measurement;
  ParsedCommandLine command_line;
  try {
    command_line = parse_command_line(argc, argv);
  } catch (const RunnerError& error) {
    report.failure = RunFailure{error.kind(), error.what()};
    std::fprintf(stderr, "splitbench_runner: error: %s\n", error.what());
    emit(run_report_json(report), "");
    return kExitBadArgs;
  }
  if (command_line.command == Command::kHelp) {
    std::fputs(usage_text(), stdout);
    return kExitOk;
  }
  if (command_line.command == Command::kVersion) {
    emit(capabilities_json(), "");
    return kExitOk;
  }

  const RunnerOptions& options = command_line.options;
  if (command_line.command == Command::kMeasurePeak) return measure_peak(options);
  report.options = options;
  try {
    run(options, report, measurement);
  } catch (const RunnerError& error) {
    report.failure = RunFailure{error.kind(), error.what()};
  } catch (const std::bad_alloc&) {
    report.failure = RunFailure{ErrorKind::kOutOfMemory,
                                "out of memory; close other apps or use a smaller program"};
  } catch (const std::exception& error) {
    report.failure = RunFailure{ErrorKind::kRuntime, error.what()};
  }
  if (report.failure) {
    std::fprintf(stderr, "splitbench_runner: error (%s): %s\n",
                 error_kind_name(report.failure->kind), report.failure->message.c_str());
  }
  if (!emit(run_report_json(report), options.output_json_path)) return kExitCannotWrite;
  if (!report.failure) return kExitOk;
  return exit_code_for(report.failure->kind);
}
