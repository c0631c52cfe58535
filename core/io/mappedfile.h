#pragma once
// A read-only memory map of a whole file. Opening a model reads only the bytes the
// metadata needs; tensor bytes are paged in when a statistic or a view asks for them.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace te {

// Where a remote file's bytes come from (a ranged HTTP source; bytes in a test). fetch
// writes exactly n bytes of the file at offset into out, or throws ReadError (Cancelled
// when the caller's cancel flag was raised). Calls for one file come one at a time.
class ByteFetcher {
public:
    virtual ~ByteFetcher() = default;
    virtual void fetch(uint64_t offset, uint64_t n, uint8_t *out) = 0;
};

// How much a remote file cost so far: bytes and requests fetched, seconds spent waiting.
struct FetchStats {
    uint64_t bytes = 0;
    uint64_t requests = 0;
    double seconds = 0;
};

// While one lives on a thread, the fetches that thread makes for big ranges (a tensor's
// values) report their progress and stop when the flag is raised (throwing Cancelled).
class FetchScope {
public:
    FetchScope(const std::atomic<bool> *cancel, std::function<void(uint64_t done, uint64_t total)> progress);
    ~FetchScope();
    FetchScope(const FetchScope &) = delete;
    FetchScope &operator=(const FetchScope &) = delete;

    static const FetchScope *current();
    const std::atomic<bool> *cancel;
    std::function<void(uint64_t, uint64_t)> progress;

private:
    const FetchScope *m_outer;
};

class MappedFile {
public:
    // Throws ReadError when the file cannot be opened or mapped.
    static std::shared_ptr<const MappedFile> open(const std::string &path);
    // Wraps bytes already in memory (tests, members inflated from a zip).
    static std::shared_ptr<const MappedFile> fromBytes(std::string bytes, std::string name);
    // A file elsewhere, of a known size, read in aligned blocks as need() asks for them.
    // The blocks fetched are kept in an unlinked temporary file under $TMPDIR that is
    // mapped in their place, so the page cache, not this process, holds big tensors.
    // Bytes not fetched yet are not readable: touching one is caught (a page of zeros
    // takes its place) and damaged() says so, instead of the reader seeing silent zeros.
    static std::shared_ptr<const MappedFile> openRemote(std::string name, uint64_t size,
                                                        std::unique_ptr<ByteFetcher> fetcher);
    // Bytes [offset, offset + size) of another file as a file of their own (a torch.save
    // written inside a distributed checkpoint's data file). Reads, fetches, releases and
    // damage go to the whole file. Throws ReadError when the range is not inside it.
    static std::shared_ptr<const MappedFile> slice(std::shared_ptr<const MappedFile> whole, uint64_t offset,
                                                   uint64_t size, std::string name);

    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    const uint8_t *data() const { return m_data; }
    // Makes bytes [offset, offset + n) readable through data() (clamped to the file): a
    // no-op for a local file; for a remote one, the missing blocks are fetched, neighbouring
    // runs in one request. Throws ReadError when they cannot be fetched.
    void need(uint64_t offset, uint64_t n) const;
    bool remote() const { return m_remote != nullptr || (m_whole && m_whole->remote()); }
    FetchStats fetchStats() const;
    uint64_t size() const { return m_size; }
    const std::string &path() const { return m_path; }
    std::string_view view() const { return {reinterpret_cast<const char *>(m_data), m_size}; }
    // The open file for pread (-1 for bytes in memory): reading small records this way does
    // not map the pages around them, so opening stays cheap in resident memory.
    int descriptor() const { return m_fd; }
    // Copies up to n bytes at offset into out with pread (or from memory), without mapping
    // the pages around them; returns how many were copied (fewer at the end of the file).
    size_t readAt(uint64_t offset, void *out, size_t n) const;
    // Copies exactly n bytes at offset into out without keeping them: pread for a local
    // file, the fetcher for a remote one's blocks not fetched yet (they are not stored).
    // Streaming a big tensor through this costs neither resident memory nor temporary
    // files. Throws ReadError when the bytes are not there.
    void copyOut(uint64_t offset, uint64_t n, uint8_t *out) const;
    // Bytes of the map that were read and are not needed again: their pages stop counting
    // as this process's memory (they stay in the page cache, and reading them again pages
    // them back in). Only whole pages inside the range; nothing for bytes in memory.
    void release(uint64_t offset, uint64_t n) const;

    // A file cut short while it is mapped makes the pages past its new end raise SIGBUS
    // when touched. Every map is registered with a SIGBUS handler that puts zero pages in
    // their place and marks the map damaged, so a reader sees zeros instead of the process
    // dying; whoever read bytes checks damaged() afterwards and reports the change.
    bool damaged() const;
    // Whether the file on disk is no longer what was mapped: its size or modification time
    // changed, a read hit its new end, or the path now names another file (saved anew).
    bool changedOnDisk() const;

private:
    MappedFile() = default;
    const uint8_t *m_data = nullptr;
    uint64_t m_size = 0;
    void *m_mapping = nullptr;
    int m_fd = -1;
    int m_slot = -1; // in the SIGBUS registry, -1 when not registered
    int64_t m_mtimeNs = 0;
    std::string m_owned;
    std::string m_path;
    struct Remote;
    std::unique_ptr<Remote> m_remote;
    std::shared_ptr<const MappedFile> m_whole; // for a slice: the file it is part of
    uint64_t m_base = 0;                       // and where in it the slice starts
};

} // namespace te
