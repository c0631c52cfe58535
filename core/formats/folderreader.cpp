// A Hugging Face model folder: config.json, and the weights in model.safetensors,
// pytorch_model.bin, or shards listed by an *.index.json. Every shard is read by its own
// reader and merged into one state dict; the index and the shards are checked against
// each other, since a partial download or a hand-edited index is common.
#include "core/formats/folderreader.h"
#include "core/formats/readersupport.h"
#include "core/io/boundedjson.h"
#include "core/io/readerror.h"
#include "core/security/securityscanner.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace te {
namespace {

void summariseConfig(Document &doc)
{
    static const char *fields[] = {"model_type",
                                   "architectures",
                                   "torch_dtype",
                                   "dtype",
                                   "hidden_size",
                                   "num_hidden_layers",
                                   "num_attention_heads",
                                   "intermediate_size",
                                   "vocab_size",
                                   "max_position_embeddings",
                                   "n_embd",
                                   "n_layer",
                                   "n_head",
                                   "transformers_version"};
    for (const char *f : fields) {
        if (!doc.config.contains(f))
            continue;
        const auto &v = doc.config[f];
        if (v.is_array()) {
            std::string joined;
            for (const auto &a : v)
                joined += (joined.empty() ? "" : ", ") + (a.is_string() ? a.get<std::string>() : a.dump());
            doc.metadata[std::string("config.") + f] = joined;
        } else if (!v.is_object()) {
            doc.metadata[std::string("config.") + f] = v;
        }
    }
}

void merge(Document &doc, std::unique_ptr<Document> part, const std::string &shard)
{
    const int storageBase = static_cast<int>(doc.storages.size());
    const int tensorBase = static_cast<int>(doc.tensors.size());
    for (auto s : part->storages) {
        if (!s.file)
            s.file = part->file;
        s.member = part->storageMember(s);
        doc.storages.push_back(std::move(s));
    }
    for (auto t : part->tensors) {
        if (t.storage >= 0)
            t.storage += storageBase;
        doc.tensors.push_back(std::move(t));
    }
    for (auto e : part->entries) {
        e.tensor += tensorBase;
        doc.entries.push_back(std::move(e));
    }
    mergeScan(doc, *part, shard);
    for (const auto &w : part->warnings)
        doc.warnings.push_back(shard + ": " + w);
    if (!part->error.empty())
        doc.error += (doc.error.empty() ? "" : "; ") + shard + ": " + part->error;
    // Shards normally carry the same __metadata__; a value that differs keeps its shard.
    for (const auto &[k, v] : part->metadata.items()) {
        if (!doc.metadata.contains(k))
            doc.metadata[k] = v;
        else if (doc.metadata[k] != v)
            doc.metadata[shard + ": " + k] = v;
    }
    doc.weightFiles.push_back(shard);
    doc.parts.push_back(std::move(part));
}

// A JSON file of the folder, bounded in size and nesting like every JSON from a file.
nlohmann::json readFolderJson(const ModelFiles &files, const std::string &name)
{
    auto mapped = files.open(name);
    if (mapped->size() > (uint64_t(64) << 20))
        throw ReadError("over 64 MiB, more than any real " + name, name, 0);
    mapped->need(0, mapped->size());
    return parseBoundedJsonUnordered(mapped->view(), name);
}

bool endsWith(const std::string &s, const char *suffix)
{
    const size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// What a folder holds when it is not a PyTorch or Hugging Face model, for the error.
std::string otherModelFolder(const ModelFiles &files)
{
    if (files.has("saved_model.pb") || files.has("saved_model.pbtxt"))
        return "a TensorFlow SavedModel folder (saved_model.pb): open it with TensorFlow";
    for (const auto &name : files.list()) {
        if (endsWith(name, ".onnx"))
            return "a folder with an ONNX model (" + name + ") but no PyTorch weights: ONNX is not a PyTorch format";
        if (endsWith(name, ".gguf"))
            return "a folder with a GGUF model (" + name + ") but no PyTorch weights: GGUF files are for llama.cpp";
        if (endsWith(name, ".h5") || endsWith(name, ".keras"))
            return "a folder with a Keras model (" + name + ") but no PyTorch weights";
    }
    return {};
}

class LocalFolder : public ModelFiles {
public:
    explicit LocalFolder(fs::path dir)
        : m_dir(std::move(dir))
    { }
    bool has(const std::string &file) const override
    {
        std::error_code ec;
        return fs::exists(m_dir / file, ec);
    }
    std::vector<std::string> list() const override
    {
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto &e : fs::directory_iterator(m_dir, ec))
            names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
    std::shared_ptr<const MappedFile> open(const std::string &file) const override
    {
        return MappedFile::open((m_dir / file).string());
    }

private:
    fs::path m_dir;
};

} // namespace

void parseHuggingFaceConfig(Document &doc, std::string_view text)
{
    try {
        doc.config = parseBoundedJson(text, "config.json");
        if (!doc.config.is_object()) {
            doc.warnings.push_back("config.json is not a JSON object");
            doc.config = nlohmann::ordered_json();
            return;
        }
        summariseConfig(doc);
    } catch (const ReadError &e) {
        doc.config = nlohmann::ordered_json();
        doc.warnings.push_back(std::string("config.json: ") + e.what());
    }
}

std::set<std::string> shardIndexFiles(const nlohmann::json &index, const std::string &name)
{
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
        throw ReadError("the index has no weight_map", name);
    std::set<std::string> shards;
    for (const auto &[key, shard] : index["weight_map"].items()) {
        if (!shard.is_string())
            throw ReadError("the index maps " + key + " to something other than a file name", name);
        shards.insert(shard.get<std::string>());
    }
    return shards;
}

namespace {

std::unique_ptr<Document> readShard(const ModelFiles &files, const std::string &name, const ReadOptions &options)
{
    return readDocument(files.open(name), options);
}

void checkIndex(Document &doc, const nlohmann::json &index,
                const std::map<std::string, std::vector<std::string>> &keysByShard, uint64_t bytes)
{
    std::map<std::string, std::string> foundIn;
    for (const auto &[shard, keys] : keysByShard)
        for (const auto &k : keys) {
            auto [it, fresh] = foundIn.emplace(k, shard);
            if (!fresh)
                doc.warnings.push_back("tensor " + k + " is in two shards, " + it->second + " and " + shard +
                                       "; which one loads depends on the loader");
        }
    const auto &map = index["weight_map"];
    for (const auto &[key, shard] : map.items()) {
        const std::string s = shard.is_string() ? shard.get<std::string>() : std::string();
        auto it = foundIn.find(key);
        if (it == foundIn.end()) {
            if (keysByShard.count(s))
                doc.warnings.push_back("the index puts " + key + " in " + s + ", which does not hold it");
        } else if (it->second != s) {
            doc.warnings.push_back("the index puts " + key + " in " + s + " but it is in " + it->second);
        }
    }
    for (const auto &[key, shard] : foundIn)
        if (!map.contains(key))
            doc.warnings.push_back("tensor " + key + " of " + shard + " is not in the index");
    if (index.contains("metadata") && index["metadata"].contains("total_size") &&
        index["metadata"]["total_size"].is_number_unsigned()) {
        const uint64_t total = index["metadata"]["total_size"].get<uint64_t>();
        if (total != bytes)
            doc.warnings.push_back("the index says total_size " + std::to_string(total) + " but the shards hold " +
                                   std::to_string(bytes) + " bytes of tensors");
    }
}

} // namespace

std::unique_ptr<Document> readFolderDocument(const std::string &folder, const std::string &indexName,
                                             const ReadOptions &options)
{
    return readModelFiles(LocalFolder(folder), folder, indexName, options);
}

std::unique_ptr<Document> readModelFiles(const ModelFiles &files, const std::string &folder,
                                         const std::string &indexName, const ReadOptions &options)
{
    auto doc = std::make_unique<Document>();
    doc->path = folder;
    doc->format = FileFormat::HuggingFaceFolder;
    if (files.has("config.json")) {
        try {
            auto mapped = files.open("config.json");
            if (mapped->size() > (uint64_t(64) << 20)) {
                doc->warnings.push_back("config.json is over 64 MiB and was not read");
            } else {
                mapped->need(0, mapped->size());
                parseHuggingFaceConfig(*doc, mapped->view());
            }
        } catch (const ReadError &e) {
            doc->warnings.push_back(std::string("config.json: ") + e.what());
        }
    }
    std::string index = indexName;
    std::string single;
    if (index.empty()) {
        for (const char *candidate : {"model.safetensors.index.json", "model.safetensors",
                                      "pytorch_model.bin.index.json", "pytorch_model.bin"}) {
            if (!files.has(candidate))
                continue;
            (std::string(candidate).find(".index.json") != std::string::npos ? index : single) = candidate;
            break;
        }
    }
    if (index.empty() && single.empty()) {
        std::vector<std::string> found;
        for (const auto &name : files.list())
            if (endsWith(name, ".safetensors"))
                found.push_back(name);
        if (found.size() == 1)
            single = found.front();
        else if (const std::string other = otherModelFolder(files); !other.empty())
            throw ReadError("not a PyTorch model: it is " + other, folder);
        else
            throw ReadError("no model weights in this folder (model.safetensors, pytorch_model.bin or an index)",
                            folder);
    }
    std::string kind;
    if (!single.empty()) {
        merge(*doc, readShard(files, single, options), single);
        kind = single;
    } else {
        const nlohmann::json idx = readFolderJson(files, index);
        const std::set<std::string> shards = shardIndexFiles(idx, (fs::path(folder) / index).string());
        std::map<std::string, std::vector<std::string>> keysByShard;
        uint64_t bytes = 0, done = 0;
        for (const auto &shard : shards) {
            checkCancel(options);
            reportProgress(options, 0.8 * static_cast<double>(done++) / static_cast<double>(shards.size()),
                           "reading " + shard);
            if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos) {
                doc->warnings.push_back("the index names a shard outside the folder: " + shard);
                continue;
            }
            if (!files.has(shard)) {
                doc->error += (doc->error.empty() ? "" : "; ") + std::string("shard ") + shard +
                              " listed in the index is missing";
                continue;
            }
            try {
                auto part = readShard(files, shard, options);
                for (const auto &e : part->entries) {
                    keysByShard[shard].push_back(e.key);
                    bytes += part->tensors[static_cast<size_t>(e.tensor)].nbytes();
                }
                merge(*doc, std::move(part), shard);
            } catch (const ReadError &e) {
                doc->error += (doc->error.empty() ? "" : "; ") + shard + ": " + e.what();
            }
        }
        checkIndex(*doc, idx, keysByShard, bytes);
        kind = index + ", " + std::to_string(shards.size()) + " shards";
    }
    const auto typeIt = doc->config.is_object() ? doc->config.find("model_type") : doc->config.end();
    const std::string type =
        typeIt != doc->config.end() && typeIt->is_string() ? typeIt->get<std::string>() : std::string();
    doc->producer = "Hugging Face model folder" + (type.empty() ? std::string() : " (" + type + ")") + ": " + kind;
    doc->stateDicts.push_back("");
    scanSecurity(*doc);
    return doc;
}

} // namespace te
