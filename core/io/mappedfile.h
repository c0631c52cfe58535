#pragma once
// A read-only memory map of a whole file. Opening a model reads only the bytes the
// metadata needs; tensor bytes are paged in when a statistic or a view asks for them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace te {

class MappedFile {
public:
    // Throws ReadError when the file cannot be opened or mapped.
    static std::shared_ptr<const MappedFile> open(const std::string &path);
    // Wraps bytes already in memory (tests, members inflated from a zip).
    static std::shared_ptr<const MappedFile> fromBytes(std::string bytes, std::string name);

    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    const uint8_t *data() const { return m_data; }
    uint64_t size() const { return m_size; }
    const std::string &path() const { return m_path; }
    std::string_view view() const { return {reinterpret_cast<const char *>(m_data), m_size}; }
    // The open file for pread (-1 for bytes in memory): reading small records this way does
    // not map the pages around them, so opening stays cheap in resident memory.
    int descriptor() const { return m_fd; }
    // Copies up to n bytes at offset into out with pread (or from memory), without mapping
    // the pages around them; returns how many were copied (fewer at the end of the file).
    size_t readAt(uint64_t offset, void *out, size_t n) const;
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
};

} // namespace te
