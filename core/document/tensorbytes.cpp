#include "core/document/tensorbytes.h"
#include "core/io/readerror.h"
#include "core/io/ziparchive.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace te {

double halfToDouble(uint16_t h)
{
    int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, frac = h & 0x3FF;
    double v;
    if (exp == 0)
        v = std::ldexp(static_cast<double>(frac), -24);
    else if (exp == 31)
        v = frac ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    else
        v = std::ldexp(static_cast<double>(frac | 0x400), exp - 25);
    return sign ? -v : v;
}

double float8ToDouble(uint8_t b, DType t)
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    int sign = b >> 7;
    int expBits = (t == DType::Float8E5M2 || t == DType::Float8E5M2FNUZ) ? 5 : 4;
    int manBits = 7 - expBits;
    int exp = (b >> manBits) & ((1 << expBits) - 1);
    int man = b & ((1 << manBits) - 1);
    int bias = 0;
    switch (t) {
    case DType::Float8E4M3FN:
        bias = 7;
        if (exp == 15 && man == 7)
            return nan; // no infinities in e4m3fn
        break;
    case DType::Float8E5M2:
        bias = 15;
        if (exp == 31)
            return man ? nan : (sign ? -INFINITY : INFINITY);
        break;
    case DType::Float8E4M3FNUZ:
    case DType::Float8E5M2FNUZ:
        bias = t == DType::Float8E4M3FNUZ ? 8 : 16;
        if (b == 0x80)
            return nan; // the only NaN; there is no negative zero
        break;
    default: return nan;
    }
    double v = exp == 0 ? std::ldexp(static_cast<double>(man), 1 - bias - manBits)
                        : std::ldexp(static_cast<double>(man | (1 << manBits)), exp - bias - manBits);
    return sign ? -v : v;
}

namespace {
template <typename T> T load(const uint8_t *p)
{
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
} // namespace

double decodeElement(DType t, const uint8_t *p, double *imag)
{
    switch (t) {
    case DType::Bool: return p[0] ? 1.0 : 0.0;
    case DType::UInt8:
    case DType::QUInt8:
    case DType::QUInt4x2:
    case DType::QUInt2x4: return p[0];
    case DType::Int8:
    case DType::QInt8: return static_cast<int8_t>(p[0]);
    case DType::Int16: return load<int16_t>(p);
    case DType::Int32:
    case DType::QInt32: return load<int32_t>(p);
    case DType::Int64: return static_cast<double>(load<int64_t>(p));
    case DType::UInt16: return load<uint16_t>(p);
    case DType::UInt32: return load<uint32_t>(p);
    case DType::UInt64: return static_cast<double>(load<uint64_t>(p));
    case DType::Float16: return halfToDouble(load<uint16_t>(p));
    case DType::BFloat16: return static_cast<double>(load<float>(std::array<uint8_t, 4>{0, 0, p[0], p[1]}.data()));
    case DType::Float32: return load<float>(p);
    case DType::Float64: return load<double>(p);
    case DType::Complex32:
        if (imag)
            *imag = halfToDouble(load<uint16_t>(p + 2));
        return halfToDouble(load<uint16_t>(p));
    case DType::Complex64:
        if (imag)
            *imag = load<float>(p + 4);
        return load<float>(p);
    case DType::Complex128:
        if (imag)
            *imag = load<double>(p + 8);
        return load<double>(p);
    case DType::Float8E4M3FN:
    case DType::Float8E5M2:
    case DType::Float8E4M3FNUZ:
    case DType::Float8E5M2FNUZ: return float8ToDouble(p[0], t);
    case DType::Unknown: break;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

namespace {

// The archive a storage of a remote zip is a member of: the document's own, or that of
// the shard (a part of a folder) whose file holds it.
const ZipArchive *archiveOf(const Document &doc, const StorageInfo &s)
{
    if (!s.file || s.file == doc.file)
        return doc.zip.get();
    for (const auto &part : doc.parts)
        if (part && part->file == s.file)
            return part->zip.get();
    return nullptr;
}

// Reads the local header of a remote archive's member when its bytes are first wanted.
// The header and the bytes are fetched in one request: the header's variable part is
// short (a name and PyTorch's alignment padding), so a little more than it is asked for.
bool locateRemoteStorage(const Document &doc, const StorageInfo &s, uint64_t need, uint64_t *offset, std::string *error)
{
    const ZipArchive *zip = archiveOf(doc, s);
    if (!zip) {
        *error = "the archive of this storage is not open";
        return false;
    }
    const auto index = static_cast<size_t>(s.zipEntry);
    const uint64_t local = zip->localHeaderOffset(index);
    const ZipEntry &e = zip->entries().at(index);
    zip->file()->need(local, 30 + e.name.size() + 1024 + need);
    *offset = zip->dataOffset(index);
    return true;
}

} // namespace

bool tensorLocation(const Document &doc, const TensorInfo &t, const MappedFile **file, uint64_t *offset,
                    uint64_t *extent, std::string *error)
{
    if (!t.error.empty()) {
        *error = t.error;
        return false;
    }
    if (t.storage < 0 || static_cast<size_t>(t.storage) >= doc.storages.size()) {
        *error = "tensor has no storage";
        return false;
    }
    const StorageInfo &s = doc.storages[static_cast<size_t>(t.storage)];
    if (!s.resolved) {
        *error = s.error.empty() ? "storage bytes not found" : s.error.str();
        return false;
    }
    if (dtypeItemSize(t.dtype) == 0 || t.dtype == DType::QUInt4x2 || t.dtype == DType::QUInt2x4) {
        *error = std::string("values of dtype ") + dtypeName(t.dtype) + " are not decoded";
        return false;
    }
    // Readers checked the tensor against its storage when they made it; this checks it
    // again against the bytes actually there, in the tensor's own element size.
    uint64_t need = 0;
    if (!tensorExtentBytes(t, &need, error))
        return false;
    if (need > s.nbytes) {
        *error = "the tensor reaches byte " + std::to_string(need) + " of its storage, which has " +
                 std::to_string(s.nbytes) + " bytes";
        return false;
    }
    const MappedFile *f = s.file ? s.file.get() : doc.file.get();
    uint64_t at = s.fileOffset;
    try {
        if (s.zipEntry >= 0 && !locateRemoteStorage(doc, s, need, &at, error))
            return false;
    } catch (const ReadError &e) {
        *error = e.what();
        return false;
    }
    if (!f || at > f->size() || s.nbytes > f->size() - at) {
        *error = "the storage's bytes lie outside the file";
        return false;
    }
    *file = f;
    *offset = at;
    *extent = need;
    return true;
}

const uint8_t *tensorBase(const Document &doc, const TensorInfo &t, std::string *error)
{
    const MappedFile *f = nullptr;
    uint64_t offset = 0, need = 0;
    if (!tensorLocation(doc, t, &f, &offset, &need, error))
        return nullptr;
    try {
        f->need(offset, need);
    } catch (const ReadError &e) {
        *error = e.what();
        return nullptr;
    }
    return f->data() + offset;
}

TensorInfo indexLeading(const TensorInfo &t, const std::vector<int64_t> &indices)
{
    TensorInfo view = t;
    if (indices.size() > t.shape.size() || t.strides.size() != t.shape.size()) {
        view.error = "index of " + std::to_string(indices.size()) + " dimensions into a tensor of " +
                     std::to_string(t.shape.size());
        return view;
    }
    int64_t offset = t.storageOffset;
    for (size_t d = 0; d < indices.size(); ++d) {
        int64_t step = 0;
        if (indices[d] < 0 || indices[d] >= t.shape[d] || __builtin_mul_overflow(indices[d], t.strides[d], &step) ||
            __builtin_add_overflow(offset, step, &offset)) {
            view.error = "index " + std::to_string(indices[d]) + " is out of range for dimension " + std::to_string(d) +
                         " of size " + std::to_string(t.shape[d]);
            return view;
        }
    }
    view.storageOffset = offset;
    view.shape.erase(view.shape.begin(), view.shape.begin() + static_cast<std::ptrdiff_t>(indices.size()));
    view.strides.erase(view.strides.begin(), view.strides.begin() + static_cast<std::ptrdiff_t>(indices.size()));
    return view;
}

TensorInfo permuteDims(const TensorInfo &t, const std::vector<size_t> &order)
{
    TensorInfo view = t;
    std::vector<bool> seen(t.shape.size(), false);
    bool valid = order.size() == t.shape.size() && t.strides.size() == t.shape.size();
    for (size_t i = 0; valid && i < order.size(); ++i) {
        valid = order[i] < seen.size() && !seen[order[i]];
        if (valid) {
            seen[order[i]] = true;
            view.shape[i] = t.shape[order[i]];
            view.strides[i] = t.strides[order[i]];
        }
    }
    if (!valid) {
        view.shape = t.shape;
        view.strides = t.strides;
        view.error = "not an order of the " + std::to_string(t.shape.size()) + " dimensions";
    }
    return view;
}

std::string tensorDamage(const Document &doc, const TensorInfo &t)
{
    if (t.storage < 0 || static_cast<size_t>(t.storage) >= doc.storages.size())
        return {};
    const StorageInfo &s = doc.storages[static_cast<size_t>(t.storage)];
    const MappedFile *f = s.file ? s.file.get() : doc.file.get();
    if (!f || !f->damaged())
        return {};
    if (f->remote())
        return "bytes of the remote file " + f->path() +
               " were read before they were fetched: the values are not "
               "the file's (a fault in this program; please report it)";
    return "the file was cut short on disk while it was open (" + f->path() +
           "): the values read are not the file's; reopen it";
}

} // namespace te
