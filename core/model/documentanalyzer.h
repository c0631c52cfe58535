#pragma once
// Turns the value tree into what a user asks about: tensor keys as PyTorch names them,
// the module tree of pickled and TorchScript modules, every state dict in a checkpoint,
// optimizers and scalar metadata. Walks are depth- and budget-limited, so shared
// references (billion laughs) and cycles cannot make them explode.
#include "document.h"

namespace te {

void analyzeDocument(Document &doc);

// How the value of a dict key is written in a dotted path: strings as they are, ints as
// decimal, other keys in a short readable form.
std::string keyText(const Value *key);

} // namespace te
