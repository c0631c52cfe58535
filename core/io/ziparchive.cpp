#include "ziparchive.h"
#include "readerror.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <unistd.h>
#include <unzip.h>
#include <zlib.h>

namespace te {
namespace {

// minizip reads through these callbacks from the map, so the archive and the tensor
// views see exactly the same bytes and nothing is read twice from disk.
struct MemStream {
    const uint8_t *data;
    uint64_t size;
    uint64_t pos;
    int fd; // when >= 0, read with pread instead of touching the map
    // A small window of the file: minizip reads the directory a few bytes at a time, and
    // one pread per field would cost a system call each.
    uint8_t window[4096];
    uint64_t windowStart = 0;
    uint64_t windowSize = 0;
};

voidpf ZCALLBACK memOpen(voidpf opaque, const void *, int)
{
    auto *base = static_cast<const MemStream *>(opaque);
    auto *s = new MemStream;
    s->data = base->data;
    s->size = base->size;
    s->pos = 0;
    s->fd = base->fd;
    return s;
}

uLong ZCALLBACK memRead(voidpf, voidpf stream, void *buf, uLong size)
{
    auto *s = static_cast<MemStream *>(stream);
    uint64_t left = s->pos < s->size ? s->size - s->pos : 0;
    uLong n = static_cast<uLong>(std::min<uint64_t>(left, size));
    if (n && s->fd >= 0) {
        // The directory and local headers sit next to the tensor data; reading them
        // through the map would fault in (and keep resident) the pages around each one.
        if (n > sizeof s->window) {
            ssize_t got = ::pread(s->fd, buf, n, static_cast<off_t>(s->pos));
            n = got > 0 ? static_cast<uLong>(got) : 0;
        } else {
            if (s->pos < s->windowStart || s->pos + n > s->windowStart + s->windowSize) {
                ssize_t got = ::pread(s->fd, s->window, sizeof s->window, static_cast<off_t>(s->pos));
                s->windowStart = s->pos;
                s->windowSize = got > 0 ? static_cast<uint64_t>(got) : 0;
            }
            n = static_cast<uLong>(std::min<uint64_t>(n, s->windowStart + s->windowSize - std::min(s->pos, s->windowStart + s->windowSize)));
            std::memcpy(buf, s->window + (s->pos - s->windowStart), n);
        }
    } else if (n) {
        std::memcpy(buf, s->data + s->pos, n);
    }
    s->pos += n;
    return n;
}

uLong ZCALLBACK memWrite(voidpf, voidpf, const void *, uLong) { return 0; }

ZPOS64_T ZCALLBACK memTell(voidpf, voidpf stream) { return static_cast<MemStream *>(stream)->pos; }

long ZCALLBACK memSeek(voidpf, voidpf stream, ZPOS64_T offset, int origin)
{
    auto *s = static_cast<MemStream *>(stream);
    uint64_t base = 0;
    switch (origin) {
    case ZLIB_FILEFUNC_SEEK_SET: base = 0; break;
    case ZLIB_FILEFUNC_SEEK_CUR: base = s->pos; break;
    case ZLIB_FILEFUNC_SEEK_END: base = s->size; break;
    default: return -1;
    }
    if (offset > s->size || base + offset > s->size)
        return -1;
    s->pos = base + offset;
    return 0;
}

int ZCALLBACK memClose(voidpf, voidpf stream)
{
    delete static_cast<MemStream *>(stream);
    return 0;
}

int ZCALLBACK memError(voidpf, voidpf) { return 0; }

struct UnzCloser {
    void operator()(void *f) const { unzClose(f); }
};

} // namespace

bool ZipArchive::looksLikeZip(const MappedFile &file)
{
    // A zip is identified by its end-of-central-directory record, like every reader does;
    // a local header at byte 0 is not required (torch.save always has one, though).
    const uint8_t *d = file.data();
    uint64_t n = file.size();
    if (n < 22)
        return false;
    uint64_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
    for (uint64_t i = n - 22 + 1; i-- > lowest;) {
        if (d[i] == 'P' && d[i + 1] == 'K' && d[i + 2] == 5 && d[i + 3] == 6)
            return true;
    }
    return false;
}

ZipArchive::ZipArchive(std::shared_ptr<const MappedFile> file)
    : m_file(std::move(file))
{
    MemStream base;
    base.data = m_file->data();
    base.size = m_file->size();
    base.pos = 0;
    base.fd = m_file->descriptor();
    zlib_filefunc64_def funcs{};
    funcs.zopen64_file = memOpen;
    funcs.zread_file = memRead;
    funcs.zwrite_file = memWrite;
    funcs.ztell64_file = memTell;
    funcs.zseek64_file = memSeek;
    funcs.zclose_file = memClose;
    funcs.zerror_file = memError;
    funcs.opaque = &base;

    std::unique_ptr<void, UnzCloser> zip(unzOpen2_64("", &funcs));
    if (!zip)
        throw ReadError("not a readable zip archive (no valid central directory)", "", 0);

    unz_global_info64 info{};
    if (unzGetGlobalInfo64(zip.get(), &info) != UNZ_OK)
        throw ReadError("unreadable zip central directory");
    // Each central record is at least 46 bytes: a count beyond that is a lie.
    if (info.number_entry > m_file->size() / 46 + 1)
        throw ReadError("zip claims " + std::to_string(info.number_entry) + " entries, more than the file can hold");

    int rc = unzGoToFirstFile(zip.get());
    while (rc == UNZ_OK) {
        unz_file_info64 fi{};
        char name[4096];
        if (unzGetCurrentFileInfo64(zip.get(), &fi, name, sizeof name, nullptr, 0, nullptr, 0) != UNZ_OK)
            throw ReadError("unreadable zip central directory record", "", static_cast<int64_t>(unzGetOffset64(zip.get())));
        ZipEntry e;
        e.name.assign(name, std::min<size_t>(fi.size_filename, sizeof name - 1));
        e.compressedSize = fi.compressed_size;
        e.size = fi.uncompressed_size;
        e.crc = static_cast<uint32_t>(fi.crc);
        e.method = static_cast<int>(fi.compression_method);
        // Opening the member makes minizip check the local header against the central
        // one and tells us where the data starts.
        if (unzOpenCurrentFile(zip.get()) != UNZ_OK)
            throw ReadError("local header does not match the central directory", e.name,
                            static_cast<int64_t>(unzGetOffset64(zip.get())));
        e.dataOffset = unzGetCurrentFileZStreamPos64(zip.get());
        unzCloseCurrentFile(zip.get());
        if (e.dataOffset > m_file->size() || e.compressedSize > m_file->size() - e.dataOffset)
            throw ReadError("member data runs past the end of the file (" + std::to_string(e.compressedSize) + " bytes)",
                            e.name, static_cast<int64_t>(e.dataOffset));
        if (e.method != 0 && e.method != 8)
            throw ReadError("unsupported zip compression method " + std::to_string(e.method), e.name);
        if (e.method == 0 && e.compressedSize != e.size)
            throw ReadError("stored member with different compressed and uncompressed sizes", e.name);
        if (!m_index.emplace(e.name, m_entries.size()).second)
            m_duplicates.push_back(e.name);
        m_entries.push_back(std::move(e));
        rc = unzGoToNextFile(zip.get());
    }
    if (rc != UNZ_END_OF_LIST_OF_FILE)
        throw ReadError("zip central directory is corrupt after " + std::to_string(m_entries.size()) + " entries");
}

const ZipEntry *ZipArchive::find(std::string_view name) const
{
    auto it = m_index.find(std::string(name));
    return it == m_index.end() ? nullptr : &m_entries[it->second];
}

std::string_view ZipArchive::read(const ZipEntry &entry, uint64_t maxSize) const
{
    const char *begin = reinterpret_cast<const char *>(m_file->data() + entry.dataOffset);
    if (entry.method == 0)
        return {begin, entry.compressedSize};
    if (entry.size > maxSize)
        throw ReadError("member inflates to " + std::to_string(entry.size) + " bytes, over the limit", entry.name);
    auto out = std::make_unique<std::string>(entry.size, '\0');
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        throw ReadError("zlib initialisation failed", entry.name);
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(begin));
    zs.avail_in = static_cast<uInt>(std::min<uint64_t>(entry.compressedSize, UINT32_MAX));
    zs.next_out = reinterpret_cast<Bytef *>(out->data());
    zs.avail_out = static_cast<uInt>(entry.size);
    int rc = inflate(&zs, Z_FINISH);
    uint64_t produced = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != entry.size)
        throw ReadError("corrupt deflate data", entry.name, static_cast<int64_t>(entry.dataOffset));
    m_inflated.push_back(std::move(out));
    return *m_inflated.back();
}

} // namespace te
