#pragma once
// PyTorch's zip format (torch.save since 1.6, TorchScript archives): the pickle and its
// storages, TorchScript code and constants, and decoy members scanned for their globals.
#include "core/formats/documentreader.h"

namespace te {

void readZipDocument(Document &doc, const ReadOptions &options);

} // namespace te
