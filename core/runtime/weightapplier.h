#pragma once
// Puts a checkpoint's tensors into a loaded TorchScript model the way load_state_dict
// would: the doctor decides which key goes where (after the user's renaming rules), and
// shapes are checked here because libtorch's own assignment does not check them.
#include "core/diagnose/loadcheck.h"
#include "core/runtime/runtimeapi.h"

namespace te {

struct ApplyResult {
    bool ok = false;
    std::string error;   // PyTorch's text when a strict load would fail
    std::string warning; // non-strict: what PyTorch would still have raised about
    LoadReport report;
    size_t applied = 0;
    uint64_t bytes = 0; // copied into the model
    double seconds = 0; // for the transfer rate
};

ApplyResult applyWeights(LoadedModel &model, const Document &modelDoc, const Document &weights,
                         const std::string &stateDict, const std::vector<RemapRule> &rules, bool strict);

} // namespace te
