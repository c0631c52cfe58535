#include "core/hub/hubdownload.h"
#include "core/io/readerror.h"
#include "core/net/httpclient.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <openssl/evp.h>

namespace fs = std::filesystem;

namespace te {
namespace {

// The digest of a prefix and then a file's bytes, in lower-case hex.
std::string digestOf(const EVP_MD *md, const std::string &prefix, const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
        EVP_MD_CTX_free(ctx);
        return {};
    }
    EVP_DigestUpdate(ctx, prefix.data(), prefix.size());
    std::vector<char> buffer(size_t(1) << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.gcount() > 0)
            EVP_DigestUpdate(ctx, buffer.data(), static_cast<size_t>(in.gcount()));
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
    static const char *hex = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < n; ++i) {
        text += hex[out[i] >> 4];
        text += hex[out[i] & 15];
    }
    return text;
}

uint64_t sizeOf(const fs::path &p)
{
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : static_cast<uint64_t>(n);
}

bool isCommitHash(const std::string &s)
{
    return s.size() == 40 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Whether a finished blob is the file the Hub listed.
std::string verify(const HubFile &f, const fs::path &blob)
{
    const uint64_t size = sizeOf(blob);
    if (size != f.size)
        return "it has " + std::to_string(size) + " bytes where the Hub lists " + std::to_string(f.size);
    if (f.lfs()) {
        const std::string sha = fileSha256(blob.string());
        if (sha != f.sha256)
            return "its sha256 is " + sha + " where the Hub lists " + f.sha256;
    } else if (!f.blobId.empty()) {
        const std::string id = fileGitBlobId(blob.string());
        if (id != f.blobId)
            return "its git blob id is " + id + " where the Hub lists " + f.blobId;
    }
    return {};
}

void linkIntoSnapshot(const fs::path &repoDir, const std::string &commit, const HubFile &f)
{
    const fs::path link = repoDir / "snapshots" / commit / f.path;
    std::error_code ec;
    fs::create_directories(link.parent_path(), ec);
    // ../../blobs/<etag>, one more ../ for each folder of the path.
    std::string up = "../../";
    for (char c : f.path)
        if (c == '/')
            up += "../";
    fs::remove(link, ec);
    fs::create_symlink(up + "blobs/" + f.etag(), link, ec);
    if (ec)
        throw ReadError("cannot link the snapshot's file: " + ec.message(), link.string());
}

// Fetches one blob into <etag>.incomplete, from where an earlier try stopped.
uint64_t fetchBlob(const HubClient &client, const HubListing &listing, const HubFile &f, const fs::path &partial,
                   const std::atomic<bool> *cancel, const std::function<void(uint64_t)> &onBytes)
{
    uint64_t have = sizeOf(partial);
    if (have > f.size) { // not this file's beginning: start over
        std::error_code ec;
        fs::remove(partial, ec);
        have = 0;
    }
    if (have == f.size && f.size > 0)
        return 0;
    std::FILE *out = std::fopen(partial.c_str(), "ab");
    if (!out)
        throw ReadError("cannot write the download", partial.string());
    HttpClient http;
    HttpRequest r;
    r.url = client.resolveUrl(listing.repo, listing.commit, f.path);
    r.headers = client.authHeaders(r.url);
    r.offset = have;
    r.length = f.size - have;
    r.cancel = cancel;
    uint64_t got = 0;
    bool writeFailed = false;
    try {
        if (r.length > 0)
            http.get(r, [&](const char *data, size_t n) {
                if (std::fwrite(data, 1, n, out) != n) {
                    writeFailed = true;
                    return false;
                }
                got += n;
                onBytes(n);
                return true;
            });
    } catch (const HttpError &e) {
        std::fclose(out);
        throw ReadError(client.explain(e, f.path), f.path);
    } catch (...) {
        std::fclose(out);
        throw;
    }
    if (std::fclose(out) != 0 || writeFailed)
        throw ReadError("cannot write the download (disk full?)", partial.string());
    return got;
}

} // namespace

std::string fileSha256(const std::string &path) { return digestOf(EVP_sha256(), {}, path); }

std::string fileGitBlobId(const std::string &path)
{
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec)
        return {};
    const std::string header = "blob " + std::to_string(size) + std::string(1, '\0');
    return digestOf(EVP_sha1(), header, path);
}

std::string hubRepoFolder(const std::string &root, const std::string &repo)
{
    std::string name = "models--" + repo;
    for (size_t at; (at = name.find('/')) != std::string::npos;)
        name.replace(at, 1, "--");
    return (fs::path(root) / name).string();
}

DownloadResult downloadToCache(const HubClient &client, const HubListing &listing,
                               const std::vector<std::string> &paths, const std::atomic<bool> *cancel,
                               const std::function<void(const DownloadProgress &)> &progress)
{
    if (client.settings().offline)
        throw ReadError("the network is off (--offline or HF_HUB_OFFLINE=1): nothing is downloaded", listing.repo);
    std::vector<const HubFile *> files;
    for (const auto &f : listing.files)
        if (paths.empty() || std::find(paths.begin(), paths.end(), f.path) != paths.end())
            files.push_back(&f);
    for (const auto &p : paths)
        if (!listing.find(p))
            throw ReadError("there is no file " + p + " in " + listing.repo + " at " + listing.revision, p);
    const fs::path repoDir = hubRepoFolder(client.settings().cacheRoot, listing.repo);
    std::error_code ec;
    fs::create_directories(repoDir / "blobs", ec);
    if (ec)
        throw ReadError("cannot make the cache folder: " + ec.message(), (repoDir / "blobs").string());
    DownloadResult result;
    result.snapshot = (repoDir / "snapshots" / listing.commit).string();
    DownloadProgress state;
    for (const HubFile *f : files)
        state.total += f->size;
    for (const HubFile *f : files) {
        if (cancel && cancel->load())
            throw Cancelled();
        const fs::path blob = repoDir / "blobs" / f->etag();
        const fs::path partial = fs::path(blob.string() + ".incomplete");
        state.file = f->path;
        state.fileSize = f->size;
        state.fileDone = 0;
        if (f->etag().empty() || f->etag().find('/') != std::string::npos)
            throw ReadError("the Hub lists no usable hash for this file", f->path);
        if (fs::exists(blob, ec) && sizeOf(blob) == f->size) {
            result.reused += f->size;
        } else {
            const uint64_t before = sizeOf(partial) <= f->size ? sizeOf(partial) : 0;
            state.fileDone = before;
            state.done += before;
            result.resumed += before;
            result.downloaded += fetchBlob(client, listing, *f, partial, cancel, [&](uint64_t n) {
                state.fileDone += n;
                state.done += n;
                if (progress)
                    progress(state);
            });
            state.done -= state.fileDone; // counted again below, once
            if (const std::string wrong = verify(*f, partial); !wrong.empty()) {
                fs::remove(partial, ec);
                throw ReadError("the download does not match the Hub's listing and was removed: " + wrong, f->path);
            }
            fs::rename(partial, blob, ec);
            if (ec)
                throw ReadError("cannot move the finished download into place: " + ec.message(), blob.string());
        }
        state.done += f->size;
        state.fileDone = f->size;
        if (progress)
            progress(state);
        linkIntoSnapshot(repoDir, listing.commit, *f);
        result.files.push_back(f->path);
    }
    if (!isCommitHash(listing.revision)) {
        const fs::path ref = repoDir / "refs" / listing.revision;
        fs::create_directories(ref.parent_path(), ec);
        std::ofstream out(ref, std::ios::trunc);
        out << listing.commit;
        if (!out)
            throw ReadError("cannot write the revision's ref", ref.string());
    }
    return result;
}

} // namespace te
