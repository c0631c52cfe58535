#pragma once
// Finds and loads the libtorch runtime library on first use. Inspecting, scanning and
// diagnosing never call this, so they never pay for libtorch.
#include "core/runtime/runtimeapi.h"

#include <string>

namespace te {

// The process-wide runtime, loaded once; null with *error set when it is not available.
Runtime *loadRuntime(std::string *error = nullptr);
bool runtimeLoaded();
// Where the loader looks, in order (for messages and tests).
std::vector<std::string> runtimeSearchPaths();

} // namespace te
