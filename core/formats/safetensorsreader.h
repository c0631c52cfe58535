#pragma once
// safetensors: a JSON header of names, dtypes, shapes and byte ranges, then the bytes.
#include "core/formats/documentreader.h"

namespace te {

void readSafetensorsDocument(Document &doc, const ReadOptions &options);

} // namespace te
