#pragma once
// TorchScript's code/ members: the Python-like source TorchScript writes, read (never
// run) for classes, their parameter and buffer names and forward signatures.
#include "core/formats/documentreader.h"

#include <string>
#include <string_view>

namespace te {

// Every code/ file under `prefix` in the document's archive.
void parseTorchScriptCode(Document &doc, const std::string &prefix);
// One code/ source file.
void parseTorchScriptSource(Document &doc, const std::string &module, std::string_view text);

} // namespace te
