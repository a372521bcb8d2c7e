// ExecuTorch .pte programs through the Module extension API.
#pragma once

#include <memory>
#include <string>

#include "options.h"
#include "program_session.h"

namespace splitbench {

// `data_path` non-empty loads the program's external weights from that
// ExecuTorch data file (.ptd). `etdump_path` non-empty attaches ExecuTorch's
// ETDumpGen event tracer (builds with SPLITBENCH_WITH_ETDUMP only); the trace
// of the timed runs goes there.
std::unique_ptr<ProgramSession> make_executorch_session(const std::string& path,
                                                        const std::string& data_path,
                                                        LoadMode load_mode,
                                                        const std::string& etdump_path);

}  // namespace splitbench
