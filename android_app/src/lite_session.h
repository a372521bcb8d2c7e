// TorchScript Lite (.ptl) programs through libtorch's mobile interpreter.
// Built only with SPLITBENCH_WITH_LITE=ON.
#pragma once

#include <memory>
#include <string>

#include "program_session.h"

namespace splitbench {

std::unique_ptr<ProgramSession> make_lite_session(const std::string& path);

}  // namespace splitbench
