#pragma once
// Turns the value tree into what a user asks about: tensor keys as PyTorch names them,
// the module tree of pickled and TorchScript modules, every state dict in a checkpoint,
// optimizers and scalar metadata. Walks keep their own stack, so nesting as deep as the
// unpickler allows costs no C stack, and are budget-limited, so shared references
// (billion laughs), cycles and keys that grow with depth cannot make them explode.
#include "core/document/document.h"

namespace te {

void analyzeDocument(Document &doc);

// How the value of a dict key is written in a dotted path: strings as they are, ints as
// decimal, other keys in a short readable form.
std::string keyText(const Value *key);

} // namespace te
