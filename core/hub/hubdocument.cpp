#include "core/hub/hubdocument.h"
#include "core/formats/folderreader.h"
#include "core/formats/hubcache.h"
#include "core/formats/readersupport.h"
#include "core/io/readerror.h"

#include <chrono>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace te {
namespace {

// A revision's files on the Hub, as a folder for the folder reader.
class RemoteFolder : public ModelFiles {
public:
    RemoteFolder(const HubClient &client, const HubListing &listing)
        : m_client(client)
        , m_listing(listing)
    { }
    bool has(const std::string &file) const override { return m_listing.find(file) != nullptr; }
    std::vector<std::string> list() const override
    {
        std::vector<std::string> names;
        for (const auto &f : m_listing.files)
            if (f.path.find('/') == std::string::npos)
                names.push_back(f.path);
        return names;
    }
    std::shared_ptr<const MappedFile> open(const std::string &file) const override
    {
        const HubFile *f = m_listing.find(file);
        if (!f)
            throw ReadError("no such file in " + m_listing.repo + " at " + m_listing.revision, file);
        auto opened = m_client.open(m_listing, *f);
        m_opened.push_back(opened);
        return opened;
    }
    mutable std::vector<std::shared_ptr<const MappedFile>> m_opened;

private:
    const HubClient &m_client;
    const HubListing &m_listing;
};

// The cached copy, when it holds what is asked for (offline, whatever it holds).
std::unique_ptr<Document> readCached(const HubRef &ref, const HubSettings &settings, const std::string &text,
                                     const ReadOptions &options, std::string *why)
{
    const std::string folder = resolveHubModel(ref.repo + "@" + ref.revision, settings.cacheRoot, why);
    if (folder.empty())
        return nullptr;
    std::unique_ptr<Document> doc;
    if (!ref.file.empty()) {
        std::error_code ec;
        if (!fs::exists(fs::path(folder) / ref.file, ec)) {
            *why = ref.file + " of " + ref.repo + " is not in the cache";
            return nullptr;
        }
        doc = readDocument((fs::path(folder) / ref.file).string(), options);
    } else {
        std::string missing;
        if (!folderComplete(folder, &missing) && !settings.offline) {
            *why = "the cached copy of " + ref.repo + " lacks " + missing;
            return nullptr;
        }
        doc = readFolderDocument(folder, {}, options);
    }
    doc->path = text;
    return doc;
}

} // namespace

std::unique_ptr<Document> readHubDocument(const std::string &text, const ReadOptions &options)
{
    const HubSettings settings = HubSettings::fromEnvironment();
    const HubRef ref = parseHubReference(text, settings);
    std::string why;
    if (auto cached = readCached(ref, settings, text, options, &why))
        return cached;
    if (settings.offline)
        throw ReadError(why + "; the network is off (--offline or HF_HUB_OFFLINE=1), so it is not fetched", text);
    const auto started = std::chrono::steady_clock::now();
    HubClient client(settings);
    reportProgress(options, 0.0, "listing " + ref.repo + " on the Hub");
    const HubListing listing = client.list(ref, options.cancel);
    auto origin = std::make_shared<RemoteOrigin>();
    origin->repo = listing.repo;
    origin->revision = listing.revision;
    origin->commit = listing.commit;
    origin->endpoint = settings.endpoint;
    std::unique_ptr<Document> doc;
    if (!ref.file.empty()) {
        const HubFile *f = listing.find(ref.file);
        if (!f)
            throw ReadError("there is no file " + ref.file + " in " + ref.repo + " at " + ref.revision, text);
        auto file = client.open(listing, *f);
        origin->files.push_back(file);
        doc = readDocument(file, options);
        origin->totalBytes = f->size;
    } else {
        RemoteFolder files(client, listing);
        doc = readModelFiles(files, text, {}, options);
        origin->files = files.m_opened;
        for (const auto &name : doc->weightFiles)
            if (const HubFile *f = listing.find(name))
                origin->totalBytes += f->size;
        if (const HubFile *config = listing.find("config.json"))
            origin->totalBytes += config->size;
    }
    doc->path = text;
    origin->openSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    doc->remote = std::move(origin);
    return doc;
}

FetchStats documentFetchStats(const Document &doc)
{
    FetchStats total;
    std::set<const MappedFile *> seen;
    auto add = [&](const std::shared_ptr<const MappedFile> &f) {
        if (!f || !seen.insert(f.get()).second)
            return;
        const FetchStats s = f->fetchStats();
        total.bytes += s.bytes;
        total.requests += s.requests;
        total.seconds += s.seconds;
    };
    add(doc.file);
    if (doc.remote)
        for (const auto &f : doc.remote->files)
            add(f);
    for (const auto &part : doc.parts)
        if (part)
            add(part->file);
    return total;
}

} // namespace te
