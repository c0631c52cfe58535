#include "core/io/ziparchive.h"
#include "core/io/readerror.h"

#include <algorithm>
#include <cstring>
#include <zlib.h>

namespace te {
namespace {

// Zip record layouts (APPNOTE.TXT): all little-endian, fixed parts then variable names.
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kEnd64Signature = 0x06064b50;
constexpr uint32_t kEnd64LocatorSignature = 0x07064b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr size_t kEndSize = 22;
constexpr size_t kEnd64Size = 56;
constexpr size_t kLocatorSize = 20;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;
constexpr size_t kMaxComment = 65535;
constexpr uint64_t kHashMask = ~uint64_t(0) << 32; // index slots: hash above, entry below

uint16_t le16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t *p)
{
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t *p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

std::string readBytes(const MappedFile &file, uint64_t offset, uint64_t n, const char *what)
{
    if (offset > file.size() || n > file.size() - offset)
        throw ReadError(std::string(what) + " lies past the end of the file", "", static_cast<int64_t>(offset));
    std::string out(static_cast<size_t>(n), '\0');
    if (file.readAt(offset, out.data(), out.size()) != out.size())
        throw ReadError(std::string("the file shrank while reading the ") + what, "", static_cast<int64_t>(offset));
    return out;
}

// Whether a signature at `at` is a real end record: its comment ends inside the file, and
// the central directory it points to lies before it and starts with a directory header
// (or, saturated, a ZIP64 locator precedes it). Bytes of another format that happen to
// spell the signature (tensor data, a safetensors header) fail this.
bool plausibleEnd(const MappedFile &file, const uint8_t *end, uint64_t at)
{
    const uint64_t commentLen = le16(end + 20);
    if (at + kEndSize + commentLen > file.size())
        return false;
    const uint64_t count = le16(end + 10), dirSize = le32(end + 12), dirOffset = le32(end + 16);
    if (count == 0xFFFF || dirSize == 0xFFFFFFFF || dirOffset == 0xFFFFFFFF) {
        uint8_t loc[4];
        return at >= kLocatorSize && file.readAt(at - kLocatorSize, loc, 4) == 4 && le32(loc) == kEnd64LocatorSignature;
    }
    if (dirOffset + dirSize > at || (count == 0) != (dirSize == 0))
        return false;
    if (count == 0)
        return true;
    uint8_t sig[4];
    return file.readAt(dirOffset, sig, 4) == 4 && le32(sig) == kCentralSignature;
}

// Position of the end-of-central-directory record: the last plausible signature in the
// tail, or -1. Reads the tail with pread, never through the map.
int64_t findEnd(const MappedFile &file, std::string *tailOut = nullptr, uint64_t *tailStartOut = nullptr)
{
    uint64_t n = file.size();
    if (n < kEndSize)
        return -1;
    uint64_t start = n > kEndSize + kMaxComment ? n - kEndSize - kMaxComment : 0;
    std::string tail(static_cast<size_t>(n - start), '\0');
    tail.resize(file.readAt(start, tail.data(), tail.size()));
    const auto *d = reinterpret_cast<const uint8_t *>(tail.data());
    for (size_t i = tail.size() >= kEndSize ? tail.size() - kEndSize + 1 : 0; i-- > 0;) {
        if (le32(d + i) == kEndSignature && plausibleEnd(file, d + i, start + i)) {
            if (tailOut) {
                *tailOut = std::move(tail);
                *tailStartOut = start;
            }
            return static_cast<int64_t>(start + i);
        }
    }
    return -1;
}

// The ZIP64 extended-information extra field replaces whichever 32-bit fields are
// saturated, in a fixed order.
void applyZip64Extra(const uint8_t *extra, size_t len, ZipEntry &e, uint64_t &localOffset, bool needSize,
                     bool needCompressed, bool needOffset)
{
    size_t pos = 0;
    while (pos + 4 <= len) {
        uint16_t id = le16(extra + pos);
        uint16_t size = le16(extra + pos + 2);
        pos += 4;
        if (size > len - pos)
            throw ReadError("zip extra field runs past its record", std::string(e.name));
        if (id == 0x0001) {
            const uint8_t *p = extra + pos;
            size_t left = size;
            auto take = [&](uint64_t &field) {
                if (left < 8)
                    throw ReadError("ZIP64 extra field too short", std::string(e.name));
                field = le64(p);
                p += 8;
                left -= 8;
            };
            if (needSize)
                take(e.size);
            if (needCompressed)
                take(e.compressedSize);
            if (needOffset)
                take(localOffset);
            return;
        }
        pos += size;
    }
    throw ReadError("member needs a ZIP64 extra field but has none", std::string(e.name));
}

} // namespace

bool ZipArchive::looksLikeZip(const MappedFile &file)
{
    // A zip is identified by its end-of-central-directory record, like every reader does;
    // a local header at byte 0 is not required (torch.save always has one, though).
    return findEnd(file) >= 0;
}

ZipArchive::ZipArchive(std::shared_ptr<const MappedFile> file, Offsets when)
    : m_file(std::move(file))
{
    const MappedFile &f = *m_file;
    std::string tail;
    uint64_t tailStart = 0;
    int64_t endAt = findEnd(f, &tail, &tailStart);
    if (endAt < 0)
        throw ReadError("not a readable zip archive (no end of central directory record)", "", 0);
    const auto *end = reinterpret_cast<const uint8_t *>(tail.data()) + (uint64_t(endAt) - tailStart);
    uint64_t count = le16(end + 10);
    uint64_t dirSize = le32(end + 12);
    uint64_t dirOffset = le32(end + 16);
    uint64_t dirLimit = static_cast<uint64_t>(endAt); // the directory ends before this

    if (count == 0xFFFF || dirSize == 0xFFFFFFFF || dirOffset == 0xFFFFFFFF) {
        if (uint64_t(endAt) < kLocatorSize)
            throw ReadError("ZIP64 archive without its locator", "", endAt);
        std::string loc = readBytes(f, uint64_t(endAt) - kLocatorSize, kLocatorSize, "ZIP64 locator");
        const auto *l = reinterpret_cast<const uint8_t *>(loc.data());
        if (le32(l) != kEnd64LocatorSignature)
            throw ReadError("ZIP64 archive without its locator", "", endAt - int64_t(kLocatorSize));
        uint64_t end64At = le64(l + 8);
        std::string rec = readBytes(f, end64At, kEnd64Size, "ZIP64 end of central directory");
        const auto *r = reinterpret_cast<const uint8_t *>(rec.data());
        if (le32(r) != kEnd64Signature)
            throw ReadError("bad ZIP64 end of central directory signature", "", static_cast<int64_t>(end64At));
        count = le64(r + 32);
        dirSize = le64(r + 40);
        dirOffset = le64(r + 48);
        dirLimit = end64At;
    }
    if (dirOffset > dirLimit || dirSize > dirLimit - dirOffset)
        throw ReadError("zip central directory (" + std::to_string(dirSize) + " bytes at " + std::to_string(dirOffset) +
                            ") lies outside the file",
                        "", static_cast<int64_t>(dirOffset));
    // Each central record is at least 46 bytes: a count beyond that is a lie.
    if (count > dirSize / kCentralSize || count >= (uint64_t(1) << 32) - 1)
        throw ReadError("zip claims " + std::to_string(count) + " entries, more than the file can hold", "",
                        static_cast<int64_t>(dirOffset));

    std::string dir = readBytes(f, dirOffset, dirSize, "zip central directory");
    const auto *d = reinterpret_cast<const uint8_t *>(dir.data());
    m_entries.reserve(static_cast<size_t>(count));
    m_localOffsets.reserve(static_cast<size_t>(count));
    size_t pos = 0;
    for (uint64_t i = 0; i < count; ++i) {
        int64_t at = static_cast<int64_t>(dirOffset + pos);
        if (dir.size() - pos < kCentralSize || le32(d + pos) != kCentralSignature)
            throw ReadError("zip central directory is corrupt after " + std::to_string(i) + " entries", "", at);
        const uint8_t *c = d + pos;
        size_t nameLen = le16(c + 28), extraLen = le16(c + 30), commentLen = le16(c + 32);
        if (dir.size() - pos - kCentralSize < nameLen + extraLen + commentLen)
            throw ReadError("zip central directory record runs past the directory", "", at);
        ZipEntry e;
        e.flags = le16(c + 8);
        e.method = le16(c + 10);
        e.crc = le32(c + 16);
        e.compressedSize = le32(c + 20);
        e.size = le32(c + 24);
        e.name = {reinterpret_cast<const char *>(c + kCentralSize), nameLen}; // into dir, for now
        uint64_t local = le32(c + 42);
        bool bigSize = e.size == 0xFFFFFFFF, bigCompressed = e.compressedSize == 0xFFFFFFFF,
             bigOffset = local == 0xFFFFFFFF;
        if (bigSize || bigCompressed || bigOffset)
            applyZip64Extra(c + kCentralSize + nameLen, extraLen, e, local, bigSize, bigCompressed, bigOffset);
        if (e.method != 0 && e.method != 8)
            throw ReadError("unsupported zip compression method " + std::to_string(e.method), std::string(e.name), at);
        if (e.method == 0 && e.compressedSize != e.size)
            throw ReadError("stored member with different compressed and uncompressed sizes", std::string(e.name), at);
        m_entries.push_back(std::move(e));
        m_localOffsets.push_back(local);
        pos += kCentralSize + nameLen + extraLen + commentLen;
    }
    // The names move from the directory's copy into one table of their own, sized once so
    // that the views into it stay valid.
    size_t namesSize = 0;
    for (const ZipEntry &e : m_entries)
        namesSize += e.name.size();
    m_names.reserve(namesSize);
    for (ZipEntry &e : m_entries) {
        const char *at = m_names.data() + m_names.size();
        m_names.append(e.name);
        e.name = {at, e.name.size()};
    }

    size_t slots = 16;
    while (slots < m_entries.size() * 2)
        slots *= 2;
    m_index.assign(slots, 0);
    for (size_t i = 0; i < m_entries.size(); ++i) {
        const uint64_t hash = std::hash<std::string_view>()(m_entries[i].name) & kHashMask;
        for (size_t at = (hash >> 32) & (slots - 1);; at = (at + 1) & (slots - 1)) {
            const uint64_t slot = m_index[at];
            if (slot == 0) {
                m_index[at] = hash | (i + 1);
                break;
            }
            if ((slot & kHashMask) == hash && m_entries[(slot & ~kHashMask) - 1].name == m_entries[i].name) {
                m_duplicates.emplace_back(m_entries[i].name);
                break;
            }
        }
    }
    if (when == Offsets::Now)
        locateAll();
}

namespace {

// Where a member's data starts, from its local header h (at least kLocalSize bytes).
uint64_t dataStart(const MappedFile &f, const ZipEntry &e, uint64_t local, const uint8_t *h)
{
    if (le32(h) != kLocalSignature)
        throw ReadError("local header does not match the central directory (no signature)", std::string(e.name),
                        static_cast<int64_t>(local));
    const uint64_t at = local + kLocalSize + le16(h + 26) + le16(h + 28);
    if (at > f.size() || e.compressedSize > f.size() - at)
        throw ReadError("member data runs past the end of the file (" + std::to_string(e.compressedSize) + " bytes)",
                        std::string(e.name), static_cast<int64_t>(at));
    return at;
}

} // namespace

void ZipArchive::locate(const ZipEntry &entry)
{
    ZipEntry &e = m_entries[static_cast<size_t>(&entry - m_entries.data())];
    if (e.dataOffset != ZipEntry::kUnlocated)
        return;
    const uint64_t local = m_localOffsets[static_cast<size_t>(&entry - m_entries.data())];
    uint8_t h[kLocalSize];
    if (m_file->readAt(local, h, kLocalSize) != kLocalSize)
        throw ReadError("local header lies past the end of the file", std::string(e.name), static_cast<int64_t>(local));
    e.dataOffset = dataStart(*m_file, e, local, h);
}

uint64_t ZipArchive::dataOffset(size_t index) const
{
    std::lock_guard<std::mutex> lock(m_locating);
    const ZipEntry &e = m_entries.at(index);
    if (e.dataOffset != ZipEntry::kUnlocated)
        return e.dataOffset;
    const_cast<ZipArchive *>(this)->locate(e);
    return e.dataOffset;
}

void ZipArchive::locateAll()
{
    // Where each member's data starts depends on its local header's name and extra
    // lengths; like miniz (PyTorch's reader) everything else is taken from the central
    // directory. Headers are read in file order through a small pread window, so that
    // neither the map nor the page cache around big tensors is touched.
    const MappedFile &f = *m_file;
    std::vector<size_t> order;
    order.reserve(m_entries.size());
    for (size_t i = 0; i < m_entries.size(); ++i)
        if (m_entries[i].dataOffset == ZipEntry::kUnlocated)
            order.push_back(i);
    const std::vector<uint64_t> &offsets = m_localOffsets;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return offsets[a] < offsets[b]; });
    std::string window;
    uint64_t windowStart = 0;
    for (size_t k = 0; k < order.size(); ++k) {
        ZipEntry &e = m_entries[order[k]];
        const uint64_t local = offsets[order[k]];
        if (local < windowStart || local + kLocalSize > windowStart + window.size()) {
            // Dense archives (many small tensors) read 64 KiB at a time, sparse ones 4 KiB.
            bool dense = k + 1 < order.size() && offsets[order[k + 1]] - local < 16384;
            window.resize(dense ? 65536 : 4096);
            window.resize(f.readAt(local, window.data(), window.size()));
            windowStart = local;
        }
        if (local + kLocalSize > windowStart + window.size())
            throw ReadError("local header lies past the end of the file", std::string(e.name),
                            static_cast<int64_t>(local));
        e.dataOffset = dataStart(f, e, local, reinterpret_cast<const uint8_t *>(window.data()) + (local - windowStart));
    }
    // Every entry is located: locate() has nothing left to read.
    std::lock_guard<std::mutex> lock(m_locating);
    m_localOffsets = {};
}

const ZipEntry *ZipArchive::find(std::string_view name) const
{
    if (m_index.empty())
        return nullptr;
    const size_t mask = m_index.size() - 1;
    const uint64_t hash = std::hash<std::string_view>()(name) & kHashMask;
    for (size_t at = (hash >> 32) & mask;; at = (at + 1) & mask) {
        const uint64_t slot = m_index[at];
        if (slot == 0)
            return nullptr;
        if ((slot & kHashMask) == hash && m_entries[(slot & ~kHashMask) - 1].name == name)
            return &m_entries[(slot & ~kHashMask) - 1];
    }
}

std::string_view ZipArchive::read(const ZipEntry &entry, uint64_t maxSize) const
{
    if (entry.dataOffset == ZipEntry::kUnlocated)
        throw ReadError("internal: member read before its local header", std::string(entry.name));
    if (entry.flags & 1)
        throw ReadError("member is encrypted", std::string(entry.name), static_cast<int64_t>(entry.dataOffset));
    m_file->need(entry.dataOffset, entry.compressedSize);
    const char *begin = reinterpret_cast<const char *>(m_file->data() + entry.dataOffset);
    if (entry.method == 0)
        return {begin, entry.compressedSize};
    if (entry.size > maxSize)
        throw ReadError("member inflates to " + std::to_string(entry.size) + " bytes, over the limit",
                        std::string(entry.name));
    auto out = std::make_unique<std::string>(entry.size, '\0');
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        throw ReadError("zlib initialisation failed", std::string(entry.name));
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(begin));
    zs.avail_in = static_cast<uInt>(std::min<uint64_t>(entry.compressedSize, UINT32_MAX));
    zs.next_out = reinterpret_cast<Bytef *>(out->data());
    zs.avail_out = static_cast<uInt>(entry.size);
    int rc = inflate(&zs, Z_FINISH);
    uint64_t produced = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != entry.size)
        throw ReadError("corrupt deflate data", std::string(entry.name), static_cast<int64_t>(entry.dataOffset));
    m_inflated.push_back(std::move(out));
    return *m_inflated.back();
}

} // namespace te
