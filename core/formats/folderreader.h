#pragma once
// Hugging Face model folders: config.json, and the weights of every shard that the
// index names (or the one weights file), read as one document.
#include "core/formats/documentreader.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

namespace te {

std::unique_ptr<Document> readFolderDocument(const std::string &folder, const std::string &indexName,
                                             const ReadOptions &options);
// The bytes-level parts of a folder (also the entry of the folder fuzz target):
// config.json into doc.config and its summary (a bad one is a warning), and the shard
// files an *.index.json names (throws ReadError when it is not an index).
void parseHuggingFaceConfig(Document &doc, std::string_view text);
std::set<std::string> shardIndexFiles(const nlohmann::json &index, const std::string &name);

} // namespace te
