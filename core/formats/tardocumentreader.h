#pragma once
// The tar format torch.save wrote before 0.4: its pickle is read for structure and
// security; its tensor records are not decoded.
#include "core/formats/documentreader.h"

namespace te {

void readTarDocument(Document &doc, const ReadOptions &options);

} // namespace te
