#pragma once
// Internal to the runtime library: LoadedModel over a torch.export program, whose graph is
// a list of operator calls run one by one through libtorch's dispatcher (boxed calls, by
// the operators' schemas), with the weights and constants its signature names.
#include "core/runtime/libtorch/torchtypes.h"

namespace te {

// Null with *error set when the program cannot run here: not JSON, a node this runtime
// does not execute, operators the installed libtorch lacks (all named), a weight missing.
std::unique_ptr<LoadedModel> loadProgramModel(const ProgramSource &source, const std::string &device,
                                              std::string *error);

} // namespace te
