#include "core/hub/hubclient.h"
#include "core/formats/hubcache.h"
#include "core/io/boundedjson.h"
#include "core/net/httpclient.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>

namespace te {
namespace {

std::string env(const char *name)
{
    const char *v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

bool truthy(const std::string &v)
{
    std::string s = v;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s == "1" || s == "true" || s == "yes" || s == "on";
}

std::string readTokenFile(const std::string &path)
{
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
        token.pop_back();
    return token;
}

bool validRepoPart(const std::string &s)
{
    if (s.empty() || s.size() > 96 || s == "." || s == ".." || s.find("..") != std::string::npos)
        return false;
    return std::all_of(s.begin(), s.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool validPath(const std::string &p)
{
    if (p.empty())
        return true;
    if (p.front() == '/' || p.find("..") != std::string::npos || p.find('\\') != std::string::npos)
        return false;
    return std::none_of(p.begin(), p.end(), [](unsigned char c) { return c < 0x20; });
}

std::string decodePercent(const std::string &s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string> split(const std::string &s, char sep)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + 1)
        parts.push_back(s.substr(start, at - start));
    parts.push_back(s.substr(start));
    return parts;
}

// A file on the Hub, read in ranges. Requests go to resolve/<commit>/<path> once; when it
// redirects (LFS files live on a CDN), later ranges go straight to where it led, and back
// to resolve/ if that address stops answering (its signature expires).
class HubFetcher : public ByteFetcher {
public:
    HubFetcher(const HubClient &client, std::string resolve)
        : m_client(client)
        , m_resolve(std::move(resolve))
    { }
    void fetch(uint64_t offset, uint64_t n, uint8_t *out) override
    {
        const FetchScope *scope = FetchScope::current();
        for (int round = 0;; ++round) {
            const bool direct = !m_direct.empty();
            HttpRequest r;
            r.url = direct ? m_direct : m_resolve;
            r.headers = m_client.authHeaders(r.url);
            r.offset = offset;
            r.length = n;
            r.cancel = scope ? scope->cancel : nullptr;
            uint64_t written = 0;
            try {
                HttpResponse response = m_http.get(r, [&](const char *data, size_t len) {
                    if (written + len > n)
                        return false;
                    std::memcpy(out + written, data, len);
                    written += len;
                    return true;
                });
                if (written != n)
                    throw HttpError("the server sent " + std::to_string(written) + " bytes for a range of " +
                                        std::to_string(n),
                                    r.url, response.status, {});
                if (!direct && response.effectiveUrl != m_resolve && !response.effectiveUrl.empty())
                    m_direct = response.effectiveUrl;
                return;
            } catch (const HttpError &e) {
                if (direct && round == 0 && (e.status() == 403 || e.status() == 404 || e.status() == 410)) {
                    m_direct.clear();
                    continue;
                }
                throw ReadError(m_client.explain(e, "this file"), m_resolve, static_cast<int64_t>(offset));
            }
        }
    }

private:
    HubClient m_client;
    HttpClient m_http;
    std::string m_resolve;
    std::string m_direct;
};

} // namespace

HubSettings HubSettings::fromEnvironment()
{
    HubSettings s;
    s.endpoint = env("HF_ENDPOINT");
    if (s.endpoint.empty())
        s.endpoint = "https://huggingface.co";
    while (!s.endpoint.empty() && s.endpoint.back() == '/')
        s.endpoint.pop_back();
    s.token = env("HF_TOKEN");
    if (s.token.empty())
        s.token = env("HUGGING_FACE_HUB_TOKEN");
    if (s.token.empty()) {
        std::string path = env("HF_TOKEN_PATH");
        if (path.empty()) {
            std::string home = env("HF_HOME");
            if (home.empty())
                home = env("HOME") + "/.cache/huggingface";
            path = home + "/token";
        }
        s.token = readTokenFile(path);
    }
    s.offline = truthy(env("HF_HUB_OFFLINE"));
    s.cacheRoot = hubCacheRoot();
    return s;
}

bool isHubReference(const std::string &text)
{
    if (text.rfind("hf:", 0) == 0 || text.rfind("hf://", 0) == 0)
        return true;
    // Only the endpoint is needed here: every local open asks, and must not read the token file.
    std::string endpoint = env("HF_ENDPOINT");
    while (!endpoint.empty() && endpoint.back() == '/')
        endpoint.pop_back();
    if (endpoint.empty())
        endpoint = "https://huggingface.co";
    for (const std::string &origin : {std::string("https://huggingface.co/"), endpoint + "/"})
        if (text.rfind(origin, 0) == 0)
            return true;
    return false;
}

HubRef parseHubReference(const std::string &text, const HubSettings &settings)
{
    HubRef ref;
    ref.revision = "main";
    auto bad = [&](const std::string &why) {
        return ReadError("not a Hugging Face model reference (" + why +
                             "): use hf:org/name[@revision][/file] or https://huggingface.co/org/name",
                         text);
    };
    std::string rest;
    bool page = false;
    if (text.rfind("hf://", 0) == 0) {
        rest = text.substr(5);
    } else if (text.rfind("hf:", 0) == 0) {
        rest = text.substr(3);
    } else {
        for (const std::string &origin : {std::string("https://huggingface.co/"), settings.endpoint + "/"})
            if (text.rfind(origin, 0) == 0) {
                rest = text.substr(origin.size());
                page = true;
                break;
            }
        if (!page)
            throw bad("not a Hub address");
        if (size_t q = rest.find_first_of("?#"); q != std::string::npos)
            rest = rest.substr(0, q);
        if (rest.rfind("models/", 0) == 0)
            rest = rest.substr(7);
    }
    while (!rest.empty() && rest.back() == '/')
        rest.pop_back();
    std::vector<std::string> parts = split(rest, '/');
    if (parts.empty() || parts[0].empty())
        throw bad("no repository");
    if (page) {
        // org/name[/tree|blob|resolve/REV[/path]]
        ref.repo = parts.size() >= 2 && parts[1] != "tree" && parts[1] != "blob" && parts[1] != "resolve"
                       ? parts[0] + "/" + parts[1]
                       : parts[0];
        size_t next = ref.repo.find('/') == std::string::npos ? 1 : 2;
        if (next < parts.size()) {
            const std::string &kind = parts[next];
            if ((kind != "tree" && kind != "blob" && kind != "resolve") || next + 1 >= parts.size())
                throw bad("expected tree/, blob/ or resolve/ after the repository");
            ref.revision = decodePercent(parts[next + 1]);
            for (size_t i = next + 2; i < parts.size(); ++i)
                ref.file += (ref.file.empty() ? "" : "/") + decodePercent(parts[i]);
        }
    } else {
        std::string repoPart = parts[0];
        size_t used = 1;
        if (parts.size() >= 2 && parts[0].find('@') == std::string::npos) {
            repoPart += "/" + parts[1];
            used = 2;
        }
        if (size_t at = repoPart.find('@'); at != std::string::npos) {
            ref.revision = repoPart.substr(at + 1);
            repoPart = repoPart.substr(0, at);
        }
        ref.repo = repoPart;
        for (size_t i = used; i < parts.size(); ++i)
            ref.file += (ref.file.empty() ? "" : "/") + parts[i];
    }
    for (const auto &p : split(ref.repo, '/'))
        if (!validRepoPart(p))
            throw bad("'" + ref.repo + "' is not a repository name");
    if (ref.revision.empty() || ref.revision.find("..") != std::string::npos ||
        ref.revision.find_first_of(" \t\n?#") != std::string::npos)
        throw bad("'" + ref.revision + "' is not a revision");
    if (!validPath(ref.file))
        throw bad("'" + ref.file + "' is not a path in the repository");
    return ref;
}

std::string hubReferenceText(const HubRef &ref)
{
    return "hf:" + ref.repo + (ref.revision == "main" ? "" : "@" + ref.revision) +
           (ref.file.empty() ? "" : "/" + ref.file);
}

uint64_t HubListing::totalBytes() const
{
    uint64_t total = 0;
    for (const auto &f : files)
        total += f.size;
    return total;
}

const HubFile *HubListing::find(const std::string &path) const
{
    for (const auto &f : files)
        if (f.path == path)
            return &f;
    return nullptr;
}

HubClient::HubClient(HubSettings settings)
    : m_settings(std::move(settings))
{ }

std::vector<std::string> HubClient::authHeaders(const std::string &url) const
{
    if (m_settings.token.empty() || urlOrigin(url) != urlOrigin(m_settings.endpoint))
        return {};
    return {"Authorization: Bearer " + m_settings.token};
}

std::string HubClient::resolveUrl(const std::string &repo, const std::string &revision, const std::string &path) const
{
    return m_settings.endpoint + "/" + repo + "/resolve/" + urlEncodePath(revision) + "/" + urlEncodePath(path);
}

std::string HubClient::explain(const HttpError &e, const std::string &what) const
{
    const std::string code = e.errorCode();
    switch (e.status()) {
    case 401:
        if (code == "GatedRepo" || m_settings.token.empty())
            return what + " is gated or private (HTTP 401): " +
                   (m_settings.token.empty() ? std::string("no token is set; set HF_TOKEN, or log in with "
                                                           "`huggingface-cli login`, after accepting its terms on "
                                                           "the model's page")
                                             : std::string("the token given has no access; accept its terms on "
                                                           "the model's page"));
        return what + " refused the token given (HTTP 401): check HF_TOKEN or the token file";
    case 403: return what + " is not open to this token (HTTP 403): ask for access on the model's page";
    case 404:
        if (code == "RevisionNotFound")
            return what + ": that revision does not exist (HTTP 404)";
        if (code == "EntryNotFound")
            return what + ": no such file at that revision (HTTP 404)";
        return what + " was not found (HTTP 404): check the name" +
               (m_settings.token.empty() ? std::string(", or set HF_TOKEN if it is private") : std::string());
    case 416:
        return what + ": the Hub's listing gives it more bytes than are served (HTTP 416): the listing and the "
                      "file disagree; try again, or download it";
    default: break;
    }
    return what + ": " + e.message();
}

HubListing HubClient::list(const HubRef &ref, const std::atomic<bool> *cancel) const
{
    if (m_settings.offline)
        throw ReadError("the network is off (--offline or HF_HUB_OFFLINE=1) and " + ref.repo + " at " + ref.revision +
                            " is not in the local cache at " + m_settings.cacheRoot,
                        hubReferenceText(ref));
    HttpClient http;
    HttpRequest r;
    r.url =
        m_settings.endpoint + "/api/models/" + ref.repo + "/revision/" + urlEncodePath(ref.revision) + "?blobs=true";
    r.headers = authHeaders(r.url);
    r.cancel = cancel;
    HttpResponse response;
    std::string body;
    bool tooLong = false;
    constexpr size_t kMaxListing = size_t(64) << 20; // a listing of 100,000 files is about 20 MiB
    try {
        response = http.get(r, [&body, &tooLong](const char *data, size_t n) {
            tooLong = body.size() + n > kMaxListing;
            if (tooLong)
                return false;
            body.append(data, n);
            return true;
        });
    } catch (const HttpError &e) {
        throw ReadError(explain(e, ref.repo), hubReferenceText(ref));
    }
    if (tooLong)
        throw ReadError("the Hub's listing of " + ref.repo + " is over 64 MiB, more than any real one",
                        hubReferenceText(ref));
    response.body = std::move(body);
    nlohmann::json info;
    try {
        info = parseBoundedJsonUnordered(response.body, "the Hub's model listing");
    } catch (const ReadError &e) {
        throw ReadError("the Hub's answer for " + ref.repo + " is not its model listing: " + e.message(),
                        hubReferenceText(ref));
    }
    HubListing listing;
    listing.repo = ref.repo;
    listing.revision = ref.revision;
    if (info.is_object() && info.contains("sha") && info["sha"].is_string())
        listing.commit = info["sha"].get<std::string>();
    auto it = response.headers.find("x-repo-commit");
    if (listing.commit.empty() && it != response.headers.end())
        listing.commit = it->second;
    if (listing.commit.empty() || !info.contains("siblings") || !info["siblings"].is_array())
        throw ReadError("the Hub's listing of " + ref.repo + " names no commit or files", hubReferenceText(ref));
    for (const auto &s : info["siblings"]) {
        if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string())
            continue;
        HubFile f;
        f.path = s["rfilename"].get<std::string>();
        if (!validPath(f.path))
            continue; // a name that would leave the folder is never fetched or written
        if (s.contains("size") && s["size"].is_number_unsigned())
            f.size = s["size"].get<uint64_t>();
        if (s.contains("blobId") && s["blobId"].is_string())
            f.blobId = s["blobId"].get<std::string>();
        if (s.contains("lfs") && s["lfs"].is_object()) {
            const auto &lfs = s["lfs"];
            if (lfs.contains("sha256") && lfs["sha256"].is_string())
                f.sha256 = lfs["sha256"].get<std::string>();
            if (lfs.contains("size") && lfs["size"].is_number_unsigned())
                f.size = lfs["size"].get<uint64_t>();
        }
        listing.files.push_back(std::move(f));
    }
    std::sort(listing.files.begin(), listing.files.end(),
              [](const HubFile &a, const HubFile &b) { return a.path < b.path; });
    return listing;
}

std::shared_ptr<const MappedFile> HubClient::open(const HubListing &listing, const HubFile &file) const
{
    const std::string name = "hf:" + listing.repo + "@" + listing.commit.substr(0, 12) + "/" + file.path;
    return MappedFile::openRemote(
        name, file.size, std::make_unique<HubFetcher>(*this, resolveUrl(listing.repo, listing.commit, file.path)));
}

} // namespace te
