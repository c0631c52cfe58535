#pragma once
// Files that are pickles from byte 0: the legacy torch.save format (five pickles back to
// back, then the raw storages) and plain pickles.
#include "core/formats/documentreader.h"

namespace te {

void readPickleDocument(Document &doc, const ReadOptions &options);

} // namespace te
