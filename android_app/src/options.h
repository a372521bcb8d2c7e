// Command line of splitbench_runner (docs/formats.md, section 2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace splitbench {

enum class LoadMode { kFile, kMmap };

struct RunnerOptions {
  std::string model_path;
  // ExecuTorch data file (.ptd) holding the program's external weights; empty = none.
  std::string data_path;
  int iterations = 60;
  int warmup = 1;
  double min_time_ms = 0.0;
  double max_time_ms = 0.0;  // 0 = no cap
  int core = -1;             // -1 = do not pin
  int threads = 1;
  LoadMode load_mode = LoadMode::kFile;
  std::string input = "random";  // "random" | "zeros" | path of a raw file
  uint64_t seed = 0;
  std::string output_json_path;  // empty = stdout
  // Shape of the single input for programs that do not record one (.ptl);
  // checked against the program's own shape when it has one.
  std::optional<std::vector<int64_t>> input_shape;
  // Raw bytes of the generated input / of the first output after the last
  // inference; empty = not written.
  std::string write_input_path;
  std::string write_output_path;
  // ETDump of the timed runs (ExecuTorch event tracer); empty = no tracing.
  std::string etdump_path;
  // --measure-peak: which kernel ("auto" = the widest the core has).
  std::string peak_isa = "auto";
};

// kRun: time a program; kMeasurePeak: the core's peak fp32 FMA throughput.
enum class Command { kRun, kMeasurePeak, kVersion, kHelp };

struct ParsedCommandLine {
  Command command = Command::kRun;
  RunnerOptions options;
};

// Throws RunnerError(kBadArgs) with one line saying what to fix.
ParsedCommandLine parse_command_line(int argc, char** argv);

const char* load_mode_name(LoadMode mode);
const char* usage_text();

}  // namespace splitbench
