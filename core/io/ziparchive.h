#pragma once
// Read access to a zip container held in a MappedFile. The central directory (ZIP64
// included) is read with one pread and each local header only for where its data starts,
// as PyTorch's miniz does. Stored members are exposed as spans into the map (torch.save
// never compresses tensor data); deflated ones (TorchScript code/) are inflated on
// request, within a size limit.
#include "core/io/mappedfile.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace te {

struct ZipEntry {
    static constexpr uint64_t kUnlocated = ~uint64_t(0); // dataOffset before its local header is read

    std::string_view name; // into the archive's table of names
    uint64_t compressedSize = 0;
    uint64_t size = 0;
    uint64_t dataOffset = kUnlocated; // offset of the member's bytes in the file
    uint32_t crc = 0;
    uint16_t method = 0; // 0 stored, 8 deflate
    uint16_t flags = 0;  // general purpose bits; bit 0: encrypted
};

class ZipArchive {
public:
    // When members' data offsets are found: while constructing, or later through locate()
    // and locateAll() (which reads the local headers, a pass over the whole archive, so
    // that it can run beside other work).
    enum class Offsets { Now, Later };
    // Throws ReadError when the bytes are not a readable zip.
    explicit ZipArchive(std::shared_ptr<const MappedFile> file, Offsets when = Offsets::Now);
    ZipArchive(const ZipArchive &) = delete; // entries point into the archive's own names
    ZipArchive &operator=(const ZipArchive &) = delete;

    // Reads the local header of one member, or of every member not located yet, in file
    // order. Throws ReadError when a header is missing or its data runs past the end.
    // locateAll() writes only the entries not located yet: it may run on another thread
    // while this one reads entries located before it started (and calls find()).
    void locate(const ZipEntry &entry);
    void locateAll();
    // Where the data of entry `index` starts, reading its local header now if need be; safe
    // to call from several threads at once (a remote archive's members are located when
    // their bytes are first wanted, since each header would otherwise cost a request).
    uint64_t dataOffset(size_t index) const;
    // Where entry `index`'s local header is, from the central directory.
    uint64_t localHeaderOffset(size_t index) const { return m_localOffsets.at(index); }

    static bool looksLikeZip(const MappedFile &file);

    const std::vector<ZipEntry> &entries() const { return m_entries; }
    const ZipEntry *find(std::string_view name) const;
    // The member's bytes (it must be located): a view into the map for stored members, an inflated copy held
    // by the archive otherwise. Throws ReadError when it exceeds maxSize or is corrupt.
    std::string_view read(const ZipEntry &entry, uint64_t maxSize = uint64_t(1) << 30) const;
    // Names that occur more than once: an ambiguous archive, which loaders disagree on.
    const std::vector<std::string> &duplicateNames() const { return m_duplicates; }
    const std::shared_ptr<const MappedFile> &file() const { return m_file; }

private:
    std::shared_ptr<const MappedFile> m_file;
    std::string m_names; // every entry's name, end to end (reserved once: views stay valid)
    std::vector<ZipEntry> m_entries;
    std::vector<uint64_t> m_localOffsets; // each entry's local header, from the directory
    std::vector<std::string> m_duplicates;
    // Name -> first entry with that name, open addressing: each slot is the name's hash
    // (high half) and the entry's index + 1 (low half; 0 is an empty slot). One array,
    // not a node per name: a checkpoint of many tensors has a member per tensor.
    std::vector<uint64_t> m_index;
    mutable std::vector<std::unique_ptr<std::string>> m_inflated;
    mutable std::mutex m_locating;
};

} // namespace te
