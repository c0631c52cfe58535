#include "core/formats/hubcache.h"
#include "core/formats/folderreader.h"
#include "core/io/boundedjson.h"
#include "core/io/readerror.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace te {
namespace {

std::string readSmall(const fs::path &p)
{
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.pop_back();
    return s;
}

bool pathExists(const fs::path &p)
{
    std::error_code ec;
    return fs::exists(p, ec); // follows the snapshot's symlinks into blobs/
}

} // namespace

std::string hubCacheRoot()
{
    if (const char *c = std::getenv("HF_HUB_CACHE"); c && *c)
        return c;
    if (const char *h = std::getenv("HF_HOME"); h && *h)
        return std::string(h) + "/hub";
    const char *home = std::getenv("HOME");
    return std::string(home ? home : ".") + "/.cache/huggingface/hub";
}

bool folderComplete(const std::string &folder, std::string *missing)
{
    const fs::path dir(folder);
    std::vector<std::string> lacking;
    if (!pathExists(dir / "config.json"))
        lacking.push_back("config.json");
    bool weights = false;
    for (const char *index : {"model.safetensors.index.json", "pytorch_model.bin.index.json"}) {
        if (!pathExists(dir / index))
            continue;
        weights = true;
        try {
            auto mapped = MappedFile::open((dir / index).string());
            if (mapped->size() > (uint64_t(64) << 20))
                throw ReadError("index over 64 MiB", index);
            const auto j = parseBoundedJsonUnordered(mapped->view(), index);
            const std::set<std::string> named = shardIndexFiles(j, index);
            std::vector<std::string> shards(named.begin(), named.end());
            std::sort(shards.begin(), shards.end());
            shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
            for (const auto &s : shards)
                if (!pathExists(dir / s))
                    lacking.push_back(s);
        } catch (const std::exception &) {
            lacking.push_back(std::string(index) + " (unreadable)");
        }
    }
    for (const char *single : {"model.safetensors", "pytorch_model.bin"})
        weights = weights || pathExists(dir / single);
    if (!weights)
        lacking.push_back("weights (model.safetensors or pytorch_model.bin)");
    if (missing) {
        missing->clear();
        for (const auto &l : lacking)
            *missing += (missing->empty() ? "" : ", ") + l;
    }
    return lacking.empty();
}

std::vector<CachedModel> listHubCache(const std::string &root)
{
    std::vector<CachedModel> out;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("models--", 0) != 0 || !entry.is_directory())
            continue;
        CachedModel m;
        m.folder = entry.path().string();
        std::string repo = name.substr(8);
        size_t sep = repo.find("--");
        m.repo = sep == std::string::npos ? repo : repo.substr(0, sep) + "/" + repo.substr(sep + 2);
        std::map<std::string, std::vector<std::string>> refsByCommit;
        for (const auto &ref : fs::recursive_directory_iterator(entry.path() / "refs", ec))
            if (ref.is_regular_file())
                refsByCommit[readSmall(ref.path())].push_back(
                    ref.path().lexically_relative(entry.path() / "refs").string());
        for (const auto &snap : fs::directory_iterator(entry.path() / "snapshots", ec)) {
            CachedSnapshot s;
            s.commit = snap.path().filename().string();
            s.revisions = refsByCommit[s.commit];
            for (const auto &f : fs::recursive_directory_iterator(snap.path(), ec)) {
                if (f.is_directory())
                    continue;
                s.files.push_back(f.path().lexically_relative(snap.path()).string());
                std::error_code sizeError;
                const auto bytes = fs::file_size(f.path(), sizeError);
                if (!sizeError)
                    s.bytes += bytes;
            }
            std::sort(s.files.begin(), s.files.end());
            s.complete = folderComplete(snap.path().string(), &s.missing);
            m.snapshots.push_back(std::move(s));
        }
        std::sort(m.snapshots.begin(), m.snapshots.end(),
                  [](const CachedSnapshot &a, const CachedSnapshot &b) { return a.commit < b.commit; });
        for (const auto &blob : fs::directory_iterator(entry.path() / "blobs", ec)) {
            std::error_code sizeError;
            const auto bytes = fs::file_size(blob.path(), sizeError);
            if (!sizeError)
                m.bytes += bytes;
        }
        out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const CachedModel &a, const CachedModel &b) { return a.repo < b.repo; });
    return out;
}

std::string resolveHubModel(const std::string &spec, const std::string &root, std::string *error)
{
    std::string repo = spec, revision = "main";
    if (size_t at = spec.find('@'); at != std::string::npos) {
        repo = spec.substr(0, at);
        revision = spec.substr(at + 1);
    }
    size_t slash = repo.find('/');
    if (slash == std::string::npos || repo.find("..") != std::string::npos ||
        revision.find("..") != std::string::npos || revision.find('/') == 0) {
        *error = "expected org/name[@revision], got '" + spec + "'";
        return {};
    }
    const fs::path model = fs::path(root) / ("models--" + repo.substr(0, slash) + "--" + repo.substr(slash + 1));
    if (!pathExists(model)) {
        *error = repo + " is not in the Hugging Face cache at " + root;
        return {};
    }
    std::string commit = revision;
    if (pathExists(model / "refs" / revision))
        commit = readSmall(model / "refs" / revision);
    const fs::path snapshot = model / "snapshots" / commit;
    if (!pathExists(snapshot)) {
        *error = "revision " + revision + " of " + repo + " is not in the cache";
        return {};
    }
    return snapshot.string();
}

} // namespace te
