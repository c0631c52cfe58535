#pragma once
// Downloads into the local Hugging Face cache in huggingface_hub's own layout, so that
// transformers and every other tool find the files later:
//   <cache>/models--org--name/blobs/<etag>            the bytes, named by the LFS sha256
//                                                     or the git blob id
//   <cache>/models--org--name/snapshots/<commit>/<path> -> ../../blobs/<etag>
//   <cache>/models--org--name/refs/<revision>         the commit, for a branch or tag
// A blob is written as <etag>.incomplete first and renamed when whole and checked (size,
// and the sha256 or git blob id the Hub reported); an interrupted download resumes from
// what the .incomplete file holds.
#include "core/hub/hubclient.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace te {

struct DownloadProgress {
    std::string file;
    uint64_t fileDone = 0;
    uint64_t fileSize = 0;
    uint64_t done = 0; // over every file
    uint64_t total = 0;
};

struct DownloadResult {
    std::string snapshot; // the folder that now holds the files
    std::vector<std::string> files;
    uint64_t downloaded = 0; // bytes fetched now
    uint64_t resumed = 0;    // bytes a .incomplete file already held
    uint64_t reused = 0;     // bytes of blobs already in the cache
};

// `paths` empty: every file of the listing. Throws ReadError (the file and why) or Cancelled;
// what was written stays as .incomplete for the next try.
DownloadResult downloadToCache(const HubClient &client, const HubListing &listing,
                               const std::vector<std::string> &paths, const std::atomic<bool> *cancel = nullptr,
                               const std::function<void(const DownloadProgress &)> &progress = {});

// The cache folder of a repository: <root>/models--org--name.
std::string hubRepoFolder(const std::string &root, const std::string &repo);

// Lower-case hex digests of a whole file; empty when it cannot be read.
std::string fileSha256(const std::string &path);
std::string fileGitBlobId(const std::string &path);

} // namespace te
