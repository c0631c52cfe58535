#include "core/export/exportsupport.h"

#include "core/document/tensorbytes.h"
#include "core/io/readerror.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>
#include <stdexcept>

namespace te {
namespace {

// Python decodes BINUNICODE as strict UTF-8 and nlohmann refuses to dump anything else,
// so a key that is not UTF-8 is refused before any byte is written.
bool validUtf8(const std::string &s)
{
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<uint8_t>(s[i]);
        int more = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            more = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            more = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + static_cast<size_t>(more) >= s.size())
            return false;
        for (int k = 1; k <= more; ++k) {
            const auto n = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
            if ((n & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (n & 0x3F);
        }
        static const uint32_t minimum[] = {0, 0x80, 0x800, 0x10000};
        if (cp < minimum[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += static_cast<size_t>(more) + 1;
    }
    return true;
}

// Every reachable element, from the lowest to the highest offset, must lie in the bytes
// the storage really has: the reader checks this too, but we read raw memory here.
bool fitsStorage(const TensorInfo &t, const StorageInfo &s, int64_t numel)
{
    if (numel == 0)
        return true;
    if (t.strides.size() != t.shape.size() || t.storageOffset < 0)
        return false;
    int64_t lo = t.storageOffset, hi = t.storageOffset, span = 0, end = 0, bytes = 0;
    for (size_t d = 0; d < t.shape.size(); ++d) {
        if (__builtin_mul_overflow(t.shape[d] - 1, t.strides[d], &span) ||
            __builtin_add_overflow(span < 0 ? lo : hi, span, span < 0 ? &lo : &hi))
            return false;
    }
    return lo >= 0 && !__builtin_add_overflow(hi, 1, &end) &&
           !__builtin_mul_overflow(end, int64_t(dtypeItemSize(t.dtype)), &bytes) && uint64_t(bytes) <= s.nbytes;
}

} // namespace

[[noreturn]] void failExport(const std::string &key, const std::string &why)
{
    throw std::runtime_error("cannot export \"" + key + "\": " + why);
}

std::vector<ExportSource> checkSources(const std::vector<NamedTensor> &tensors, const char *(*typeName)(DType),
                                       const char *format)
{
    std::vector<ExportSource> out;
    std::set<std::string> seen;
    for (const NamedTensor &n : tensors) {
        if (!seen.insert(n.key).second)
            failExport(n.key, "the key occurs twice");
        if (!validUtf8(n.key))
            failExport(n.key, "the key is not valid UTF-8");
        if (!n.doc || n.tensor < 0 || static_cast<size_t>(n.tensor) >= n.doc->tensors.size())
            failExport(n.key, "no such tensor");
        const TensorInfo &t = n.doc->tensors[static_cast<size_t>(n.tensor)];
        if (!t.error.empty())
            failExport(n.key, t.error);
        if (!typeName(t.dtype))
            failExport(n.key, std::string("dtype ") + dtypeName(t.dtype) + " cannot be written to " + format);
        if (!t.layout.empty())
            failExport(n.key, t.layout.str() + " tensors cannot be exported");
        std::string error;
        const MappedFile *file = nullptr;
        uint64_t offset = 0, extent = 0;
        if (!tensorLocation(*n.doc, t, &file, &offset, &extent, &error))
            failExport(n.key, error);
        const int64_t numel = t.numel();
        if (numel < 0)
            failExport(n.key, "the shape is invalid");
        if (!fitsStorage(t, n.doc->storages[static_cast<size_t>(t.storage)], numel))
            failExport(n.key, "the tensor reaches outside its storage");
        out.push_back({&n.key, n.doc, &t, file, offset, numel});
    }
    return out;
}

void checkIntact(const ExportSource &s)
{
    std::string damage = tensorDamage(*s.doc, *s.tensor);
    if (!damage.empty())
        failExport(*s.key, damage);
}

ExportCounter::ExportCounter(const std::vector<ExportSource> &sources, const ExportOptions &options)
    : m_options(options)
{
    for (const ExportSource &s : sources)
        m_total += s.tensor->nbytes();
}

void ExportCounter::add(uint64_t bytes)
{
    m_done += bytes;
    if (m_options.progress)
        m_options.progress(m_done, m_total);
}

void copyContiguous(const ExportSource &s, const std::function<void(const uint8_t *, size_t)> &sink,
                    const ExportOptions &options)
{
    const TensorInfo &t = *s.tensor;
    const size_t item = static_cast<size_t>(dtypeItemSize(t.dtype));
    const uint64_t total = static_cast<uint64_t>(s.numel) * item;
    constexpr size_t kChunk = size_t(1) << 22;
    auto checkCancel = [&options] {
        if (options.cancel && options.cancel->load())
            throw Cancelled();
    };
    std::vector<uint8_t> buffer(static_cast<size_t>(std::min<uint64_t>(kChunk, total)));
    if (t.isContiguous()) {
        const uint64_t start = s.offset + static_cast<uint64_t>(t.storageOffset) * item;
        for (uint64_t done = 0; done < total;) {
            checkCancel();
            const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, total - done));
            try {
                s.file->copyOut(start + done, n, buffer.data());
            } catch (const ReadError &e) {
                failExport(*s.key, e.what());
            }
            sink(buffer.data(), n);
            done += n;
        }
        return;
    }
    std::string error;
    const uint8_t *base = tensorBase(*s.doc, t, &error);
    if (!base)
        failExport(*s.key, error);
    buffer.clear();
    forEachElement(base, t, [&](const uint8_t *p) {
        buffer.insert(buffer.end(), p, p + item);
        if (buffer.size() + item > kChunk) {
            checkCancel();
            sink(buffer.data(), buffer.size());
            buffer.clear();
        }
        return true;
    });
    if (!buffer.empty())
        sink(buffer.data(), buffer.size());
    uint64_t extent = 0;
    if (tensorExtentBytes(t, &extent, &error))
        s.file->release(s.offset, extent);
}

TempFile::TempFile(const std::string &target)
    : m_target(target)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device seed;
    std::mt19937 random(seed());
    std::uniform_int_distribution<size_t> pick(0, sizeof(alphabet) - 2);
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string name = target + ".tmp-";
        for (int i = 0; i < 6; ++i)
            name += alphabet[pick(random)];
        // "x": create exclusively, never over someone else's file.
        m_file = std::fopen(name.c_str(), "wbx");
        if (m_file) {
            m_path = name;
            return;
        }
        if (errno != EEXIST)
            break;
    }
    throw std::runtime_error("cannot write " + target + ": " + std::strerror(errno));
}

TempFile::~TempFile()
{
    if (m_file)
        std::fclose(m_file);
    if (!m_path.empty())
        std::remove(m_path.c_str());
}

void TempFile::release()
{
    if (m_file && std::fclose(m_file) != 0) {
        m_file = nullptr;
        throw std::runtime_error("cannot write " + m_target + ": " + std::strerror(errno));
    }
    m_file = nullptr;
}

void TempFile::commit()
{
    release();
    if (std::rename(m_path.c_str(), m_target.c_str()) != 0)
        throw std::runtime_error("cannot rename " + m_path + " to " + m_target + ": " + std::strerror(errno));
    m_path.clear();
}

} // namespace te
