#pragma once
// Internal to the readers: running one pickle of a container and recording what it saw.
#include "documentreader.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

namespace te {

class PickleHooks;

// Runs one pickle; its globals are added to the document even when it fails.
Value *runPickle(Document &doc, std::string_view bytes, const std::string &member, PickleHooks *hooks,
                 const ReadOptions &options, uint64_t *endOffset = nullptr, int *protocol = nullptr);

// Reads a pickle that PyTorch would not load (a decoy member) for its globals only;
// returns the offset just past its STOP, 0 when it did not parse to the end.
uint64_t scanExtraPickle(Document &doc, std::string_view bytes, const std::string &member, const ReadOptions &options,
                     bool notLoaded);

void reportProgress(const ReadOptions &options, double fraction, const std::string &label);
void checkCancel(const ReadOptions &options);

void readZipDocument(Document &doc, const ReadOptions &options);
void readPickleDocument(Document &doc, const ReadOptions &options); // legacy or raw pickle
void readTarDocument(Document &doc, const ReadOptions &options);
void readSafetensorsDocument(Document &doc, const ReadOptions &options);
std::unique_ptr<Document> readFolderDocument(const std::string &folder, const std::string &indexName,
                                             const ReadOptions &options);
// The bytes-level parts of a Hugging Face folder (also the entry of the folder fuzz
// target): config.json into doc.config and its summary (a bad one is a warning), and the
// shard files an *.index.json names (throws ReadError when it is not an index).
void parseHuggingFaceConfig(Document &doc, std::string_view text);
std::set<std::string> shardIndexFiles(const nlohmann::json &index, const std::string &name);
void parseTorchScriptCode(Document &doc, const std::string &prefix);
// One code/ source file: its classes, their parameter and buffer names and forward signatures.
void parseTorchScriptSource(Document &doc, const std::string &module, std::string_view text);

} // namespace te
