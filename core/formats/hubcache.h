#pragma once
// The local Hugging Face hub cache, read as huggingface_hub lays it out:
// <root>/models--org--name/{refs/<revision>, snapshots/<commit>/<files>, blobs/<hash>}.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace te {

struct CachedSnapshot {
    std::string commit;
    std::vector<std::string> revisions; // refs pointing at it ("main", "v1")
    std::vector<std::string> files;
    uint64_t bytes = 0;
    bool complete = false; // config and every weight file present
    std::string missing;   // what is not there, when incomplete
};

struct CachedModel {
    std::string repo; // "org/name"
    std::string folder;
    std::vector<CachedSnapshot> snapshots;
    uint64_t bytes = 0; // blobs on disk
};

// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::string hubCacheRoot();
std::vector<CachedModel> listHubCache(const std::string &root);
// "org/name[@revision]" to its snapshot folder; empty with *error when not cached.
std::string resolveHubModel(const std::string &spec, const std::string &root, std::string *error);
// Whether a model folder has what it needs (config and all weight files); *missing says what not.
bool folderComplete(const std::string &folder, std::string *missing);

} // namespace te
