#pragma once
// Hugging Face model folders: config.json, and the weights of every shard that the
// index names (or the one weights file), read as one document.
#include "core/formats/documentreader.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace te {

// The files of a model folder: on disk, or a repository on the Hugging Face Hub.
class ModelFiles {
public:
    virtual ~ModelFiles() = default;
    virtual bool has(const std::string &file) const = 0;
    // The files directly in the folder, sorted.
    virtual std::vector<std::string> list() const = 0;
    // Throws ReadError when it cannot be opened.
    virtual std::shared_ptr<const MappedFile> open(const std::string &file) const = 0;
};

std::unique_ptr<Document> readFolderDocument(const std::string &folder, const std::string &indexName,
                                             const ReadOptions &options);
// The same for any folder; `name` is the document's path.
std::unique_ptr<Document> readModelFiles(const ModelFiles &files, const std::string &name, const std::string &indexName,
                                         const ReadOptions &options);
// The bytes-level parts of a folder (also the entry of the folder fuzz target):
// config.json into doc.config and its summary (a bad one is a warning), and the shard
// files an *.index.json names (throws ReadError when it is not an index).
void parseHuggingFaceConfig(Document &doc, std::string_view text);
std::set<std::string> shardIndexFiles(const nlohmann::json &index, const std::string &name);

} // namespace te
