// ExecuTorch .pte programs through the Module extension API.
#pragma once

#include <memory>
#include <string>

#include "options.h"
#include "program_session.h"

namespace splitbench {

std::unique_ptr<ProgramSession> make_executorch_session(const std::string& path,
                                                        LoadMode load_mode);

}  // namespace splitbench
