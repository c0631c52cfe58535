#pragma once
// Models on the Hugging Face Hub opened like local ones: the local cache first, always;
// otherwise the revision's listing and range requests for only the bytes the readers ask
// for (a safetensors header, a zip's directory and data.pkl, config.json).
#include "core/formats/documentreader.h"
#include "core/hub/hubclient.h"

#include <memory>
#include <string>

namespace te {

// `text` as isHubReference accepts it. Throws ReadError (offline and not cached, not
// found, gated...) or Cancelled.
std::unique_ptr<Document> readHubDocument(const std::string &text, const ReadOptions &options = {});

// What reading a document's bytes has cost so far, over all its files (zero for a local one).
FetchStats documentFetchStats(const Document &doc);

} // namespace te
