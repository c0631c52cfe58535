#pragma once
// Opens any file PyTorch writes and returns the understood Document. The container is
// decided by content; each container has its reader; the analysis (keys, modules, state
// dicts, metadata) and the security report run on every result.
#include "core/document/document.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace te {

struct ReadOptions {
    const std::atomic<bool> *cancel = nullptr;
    // fraction 0..1 and a short label of the current step
    std::function<void(double, const std::string &)> progress;
    PickleLimits limits;
};

// Throws ReadError when the file cannot be read as any PyTorch container, Cancelled when
// cancelled. A pickle that fails part-way still yields a document: Document::error says
// what failed and the security report is marked incomplete.
std::unique_ptr<Document> readDocument(const std::string &path, const ReadOptions &options = {});
// The same from a mapped file (tests, fuzzing).
std::unique_ptr<Document> readDocument(std::shared_ptr<const MappedFile> file, const ReadOptions &options = {});

} // namespace te
