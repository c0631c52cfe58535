#pragma once
// The Hugging Face Hub's conventions, as huggingface_hub follows them: where the Hub is
// (HF_ENDPOINT), who the user is (HF_TOKEN, or the token file under HF_HOME), whether the
// network may be used (HF_HUB_OFFLINE), how a model is named (org/name at a revision), the
// model API that lists a revision's files with their sizes and hashes, and resolve/ URLs
// for the files themselves. The token goes only to the Hub's own origin and never into a
// message, a report or a log.
#include "core/io/mappedfile.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace te {

class HttpError;

struct HubSettings {
    std::string endpoint;  // no trailing slash
    std::string token;     // empty: anonymous
    bool offline = false;  // HF_HUB_OFFLINE=1: no network at all
    std::string cacheRoot; // where downloads go, as hubCacheRoot()

    static HubSettings fromEnvironment();
};

// A model on the Hub and, optionally, one file of it.
struct HubRef {
    std::string repo;     // "org/name"
    std::string revision; // "main" unless given
    std::string file;     // a path in the repository, or empty for the whole model
};

// hf:org/name[@revision][/path/in/repo], and addresses of the Hub's pages
// (https://huggingface.co/org/name[/tree|blob|resolve/REV[/path]]) under huggingface.co or
// the configured endpoint. A one-word repository ("gpt2") is accepted without a path.
bool isHubReference(const std::string &text);
// Throws ReadError when it is not a valid reference.
HubRef parseHubReference(const std::string &text, const HubSettings &settings);
std::string hubReferenceText(const HubRef &ref); // hf:org/name@rev[/file]

struct HubFile {
    std::string path;
    uint64_t size = 0;
    std::string blobId; // git's sha1 of the file
    std::string sha256; // for LFS files
    bool lfs() const { return !sha256.empty(); }
    // What the cache names the blob by: the LFS sha256, or the git blob id.
    const std::string &etag() const { return lfs() ? sha256 : blobId; }
};

struct HubListing {
    std::string repo;
    std::string revision;
    std::string commit; // the revision resolved: every file is read at this commit
    std::vector<HubFile> files;
    uint64_t totalBytes() const;
    const HubFile *find(const std::string &path) const;
};

class HubClient {
public:
    explicit HubClient(HubSettings settings);
    const HubSettings &settings() const { return m_settings; }

    // The files of a revision (GET /api/models/<repo>/revision/<rev>?blobs=true).
    // Throws ReadError with the reason in the user's terms (not found, gated, offline...).
    HubListing list(const HubRef &ref, const std::atomic<bool> *cancel = nullptr) const;
    std::string resolveUrl(const std::string &repo, const std::string &revision, const std::string &path) const;
    // The token's header, for URLs of the endpoint's own origin only.
    std::vector<std::string> authHeaders(const std::string &url) const;
    // A file of the listing as a remote MappedFile, read by ranges at the listing's commit.
    std::shared_ptr<const MappedFile> open(const HubListing &listing, const HubFile &file) const;
    // An HTTP failure said for a user: what is wrong with `what` and what to do.
    std::string explain(const HttpError &e, const std::string &what) const;

private:
    HubSettings m_settings;
};

} // namespace te
