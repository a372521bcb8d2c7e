#include "options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

#include "peak_kernel.h"
#include "runner_error.h"

namespace splitbench {

namespace {

[[noreturn]] void bad_args(const std::string& message) {
  throw RunnerError(ErrorKind::kBadArgs, message + " (see --help)");
}

long long parse_integer(const std::string& flag, const std::string& text,
                        long long min_value, long long max_value) {
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || value < min_value ||
      value > max_value) {
    bad_args(flag + " expects an integer in [" + std::to_string(min_value) +
             ", " + std::to_string(max_value) + "], got '" + text + "'");
  }
  return value;
}

double parse_milliseconds(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value) || value < 0) {
    bad_args(flag + " expects a non-negative number of milliseconds, got '" +
             text + "'");
  }
  return value;
}

uint64_t parse_seed(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE) {
    bad_args("--seed expects a non-negative integer, got '" + text + "'");
  }
  return value;
}

std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos
                                                      : comma - start);
    shape.push_back(parse_integer("--input-shape", part, 1, 1LL << 31));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return shape;
}

void check_measure_peak_options(const RunnerOptions& o) {
  if (!o.model_path.empty() || !o.data_path.empty() || !o.write_input_path.empty() ||
      !o.write_output_path.empty() || !o.etdump_path.empty()) {
    bad_args("--measure-peak runs no program; drop --model, --data, --write-input, --write-output "
             "and --etdump");
  }
}

// Every file the runner writes gets its own path, and none of them is a file it reads.
void check_distinct_paths(const RunnerOptions& o) {
  const std::string* written[] = {&o.output_json_path, &o.write_input_path, &o.write_output_path,
                                  &o.etdump_path};
  for (size_t i = 0; i < 4; ++i) {
    if (written[i]->empty()) continue;
    for (size_t j = i + 1; j < 4; ++j) {
      if (*written[i] == *written[j]) {
        bad_args("--output-json, --write-input, --write-output and --etdump need different paths, "
                 "got '" + *written[i] + "' twice");
      }
    }
    if (*written[i] == o.model_path || *written[i] == o.data_path) {
      bad_args("'" + *written[i] + "' is read as --model or --data and cannot also be written; "
               "give --output-json, --write-input, --write-output and --etdump other paths");
    }
  }
}

}  // namespace

const char* load_mode_name(LoadMode mode) {
  return mode == LoadMode::kMmap ? "mmap" : "file";
}

const char* usage_text() {
  return "usage: splitbench_runner --model PATH [--data PATH.ptd] [--iterations 60] [--warmup 1]\n"
         "         [--min-time-ms 0] [--max-time-ms 0 (0 = no cap)]\n"
         "         [--core N (-1 = do not pin)] [--threads 1]\n"
         "         [--load-mode file|mmap] [--input random|zeros|PATH.raw]\n"
         "         [--input-shape 1,3,224,224] [--seed 0] [--output-json PATH]\n"
         "         [--write-input PATH.raw] [--write-output PATH.raw] [--etdump PATH.etdp]\n"
         "       splitbench_runner --measure-peak [--core N] [--peak-isa auto|ISA]\n"
         "         [--output-json PATH]   (ISAs: see --version, peak_kernel_isas)\n"
         "       splitbench_runner --version\n";
}

ParsedCommandLine parse_command_line(int argc, char** argv) {
  ParsedCommandLine parsed;
  RunnerOptions& o = parsed.options;
  using Setter = std::function<void(const std::string&)>;
  const std::map<std::string, Setter> setters = {
      {"--model", [&](const std::string& v) { o.model_path = v; }},
      {"--data",
       [&](const std::string& v) {
         if (v.empty()) bad_args("--data expects the path of the program's .ptd data file");
         o.data_path = v;
       }},
      {"--iterations",
       [&](const std::string& v) {
         o.iterations = parse_integer("--iterations", v, 1, 100000000);
       }},
      {"--warmup",
       [&](const std::string& v) {
         o.warmup = parse_integer("--warmup", v, 0, 100000000);
       }},
      {"--min-time-ms",
       [&](const std::string& v) {
         o.min_time_ms = parse_milliseconds("--min-time-ms", v);
       }},
      {"--max-time-ms",
       [&](const std::string& v) {
         o.max_time_ms = parse_milliseconds("--max-time-ms", v);
       }},
      {"--core",
       [&](const std::string& v) { o.core = parse_integer("--core", v, -1, 1 << 30); }},
      {"--threads",
       [&](const std::string& v) {
         o.threads = parse_integer("--threads", v, 1, 256);
       }},
      {"--load-mode",
       [&](const std::string& v) {
         if (v == "file") {
           o.load_mode = LoadMode::kFile;
         } else if (v == "mmap") {
           o.load_mode = LoadMode::kMmap;
         } else {
           bad_args("--load-mode expects 'file' or 'mmap', got '" + v + "'");
         }
       }},
      {"--input",
       [&](const std::string& v) {
         if (v.empty()) bad_args("--input expects random, zeros or a file path");
         o.input = v;
       }},
      {"--input-shape",
       [&](const std::string& v) { o.input_shape = parse_shape(v); }},
      {"--seed", [&](const std::string& v) { o.seed = parse_seed(v); }},
      {"--output-json",
       [&](const std::string& v) {
         if (v.empty()) bad_args("--output-json expects a file path");
         o.output_json_path = v;
       }},
      {"--write-input",
       [&](const std::string& v) {
         if (v.empty()) bad_args("--write-input expects a file path");
         o.write_input_path = v;
       }},
      {"--write-output",
       [&](const std::string& v) {
         if (v.empty()) bad_args("--write-output expects a file path");
         o.write_output_path = v;
       }},
      {"--etdump",
       [&](const std::string& v) {
         if (v.empty()) bad_args("--etdump expects a file path");
#ifndef SPLITBENCH_WITH_ETDUMP
         bad_args("--etdump needs a runner built with ExecuTorch's ETDump library, and this one "
                  "is not (see --version, \"etdump\"); drop --etdump");
#endif
         o.etdump_path = v;
       }},
      {"--peak-isa",
       [&](const std::string& v) {
         if (!is_known_peak_isa(v)) {
           bad_args("--peak-isa expects auto or one of " + known_peak_isas_text() + ", got '" +
                    v + "'");
         }
         o.peak_isa = v;
       }},
  };

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--version") {
      parsed.command = Command::kVersion;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      parsed.command = Command::kHelp;
      continue;
    }
    if (arg == "--measure-peak") {
      if (parsed.command == Command::kRun) parsed.command = Command::kMeasurePeak;
      continue;
    }
    std::string value;
    bool has_inline_value = false;
    size_t equals = arg.find('=');
    if (arg.rfind("--", 0) == 0 && equals != std::string::npos) {
      value = arg.substr(equals + 1);
      arg = arg.substr(0, equals);
      has_inline_value = true;
    }
    auto setter = setters.find(arg);
    if (setter == setters.end()) bad_args("unknown argument '" + arg + "'");
    if (!has_inline_value) {
      if (i + 1 >= argc) bad_args(arg + " needs a value");
      value = argv[++i];
    }
    setter->second(value);
  }
  if (parsed.command == Command::kRun && o.model_path.empty()) {
    bad_args("--model PATH is required");
  }
  if (parsed.command == Command::kMeasurePeak) check_measure_peak_options(o);
  if (parsed.command == Command::kRun && o.peak_isa != "auto") {
    bad_args("--peak-isa goes with --measure-peak");
  }
  check_distinct_paths(o);
  if (!o.data_path.empty() && o.data_path == o.model_path) {
    bad_args("--data names the program itself; pass the .ptd data file exported with it");
  }
  if (o.max_time_ms > 0 && o.max_time_ms < o.min_time_ms) {
    bad_args("--max-time-ms must be 0 (no cap) or at least --min-time-ms");
  }
  return parsed;
}

}  // namespace splitbench
