#pragma once
// Internal to the runtime library: every submodule's output for one forward pass, without
// changing the model. The forward graph is copied and inlined; each inlined node keeps the
// chain of module calls it came from (its call stack), so the values a call hands back to
// its caller are known. The copy returns a clone of each, taken right after the call's
// last node (later in-place operations, such as ReLU(inplace=True), would change them),
// beside the model's own output.
#include "core/runtime/libtorch/torchtypes.h"

namespace te {

// Runs `module`'s forward once on `inputs` and returns the submodules' outputs in the order
// the calls finished, with statistics; the first values up to keepBytes in all are kept.
// Calls inside loops and branches cannot be returned from the graph: *note says how many
// were left out. Throws what the model throws.
std::vector<LayerOutput> captureLayers(torch::jit::script::Module &module, std::vector<c10::IValue> inputs,
                                       uint64_t keepBytes, std::string *note);

} // namespace te
