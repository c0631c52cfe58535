#include "core/export/statedictwriter.h"

#include "core/export/picklewriter.h"
#include "core/document/tensorbytes.h"

#include <minizip/zip.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <stdexcept>

namespace te {
namespace {

// One tensor checked for export: its bytes can be read and it fits its storage.
struct Source {
    const std::string *key = nullptr;
    const Document *doc = nullptr;
    const TensorInfo *tensor = nullptr;
    const uint8_t *base = nullptr;
    int64_t numel = 0;
};

[[noreturn]] void fail(const std::string &key, const std::string &why)
{
    throw std::runtime_error("cannot export \"" + key + "\": " + why);
}

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

std::vector<Source> checkSources(const std::vector<NamedTensor> &tensors, const char *(*typeName)(DType),
                                 const char *format)
{
    std::vector<Source> out;
    std::set<std::string> seen;
    for (const NamedTensor &n : tensors) {
        if (!seen.insert(n.key).second)
            fail(n.key, "the key occurs twice");
        if (!validUtf8(n.key))
            fail(n.key, "the key is not valid UTF-8");
        if (!n.doc || n.tensor < 0 || static_cast<size_t>(n.tensor) >= n.doc->tensors.size())
            fail(n.key, "no such tensor");
        const TensorInfo &t = n.doc->tensors[static_cast<size_t>(n.tensor)];
        if (!t.error.empty())
            fail(n.key, t.error);
        if (!typeName(t.dtype))
            fail(n.key, std::string("dtype ") + dtypeName(t.dtype) + " cannot be written to " + format);
        if (t.layout != "strided")
            fail(n.key, t.layout + " tensors cannot be exported");
        std::string error;
        const uint8_t *base = tensorBase(*n.doc, t, &error);
        if (!base)
            fail(n.key, error);
        const int64_t numel = t.numel();
        if (numel < 0)
            fail(n.key, "the shape is invalid");
        if (!fitsStorage(t, n.doc->storages[static_cast<size_t>(t.storage)], numel))
            fail(n.key, "the tensor reaches outside its storage");
        out.push_back({&n.key, n.doc, &t, base, numel});
    }
    return out;
}

// After copying: bytes from a file cut short underneath are zeros, not the tensor.
void checkIntact(const Source &s)
{
    std::string damage = tensorDamage(*s.doc, *s.tensor);
    if (!damage.empty())
        fail(*s.key, damage);
}

// Hands the tensor's elements in row-major order to sink(pointer, bytes), in chunks.
template <typename Sink>
void copyContiguous(const Source &s, Sink &&sink)
{
    const TensorInfo &t = *s.tensor;
    const size_t item = static_cast<size_t>(dtypeItemSize(t.dtype));
    const uint64_t total = static_cast<uint64_t>(s.numel) * item;
    constexpr size_t kChunk = size_t(1) << 24;
    if (t.isContiguous()) {
        const uint8_t *p = s.base + static_cast<uint64_t>(t.storageOffset) * item;
        for (uint64_t done = 0; done < total;) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, total - done));
            sink(p + done, n);
            done += n;
        }
        return;
    }
    std::vector<uint8_t> buffer;
    buffer.reserve(static_cast<size_t>(std::min<uint64_t>(kChunk, total)));
    forEachElement(s.base, t, [&](const uint8_t *p) {
        buffer.insert(buffer.end(), p, p + item);
        if (buffer.size() + item > kChunk) {
            sink(buffer.data(), buffer.size());
            buffer.clear();
        }
        return true;
    });
    if (!buffer.empty())
        sink(buffer.data(), buffer.size());
}

// The output under a temporary name in the same folder, renamed over the target only
// when complete, and removed otherwise.
class TempFile {
public:
    explicit TempFile(const std::string &target) : m_target(target)
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
    ~TempFile()
    {
        if (m_file)
            std::fclose(m_file);
        if (!m_path.empty())
            std::remove(m_path.c_str());
    }
    TempFile(const TempFile &) = delete;
    TempFile &operator=(const TempFile &) = delete;

    const std::string &path() const { return m_path; }
    std::FILE *file() const { return m_file; }

    // Closes our handle, for writers that open the path themselves.
    void release()
    {
        if (m_file && std::fclose(m_file) != 0) {
            m_file = nullptr;
            throw std::runtime_error("cannot write " + m_target + ": " + std::strerror(errno));
        }
        m_file = nullptr;
    }

    void commit()
    {
        release();
        if (std::rename(m_path.c_str(), m_target.c_str()) != 0)
            throw std::runtime_error("cannot rename " + m_path + " to " + m_target + ": " + std::strerror(errno));
        m_path.clear();
    }

private:
    std::string m_target;
    std::string m_path;
    std::FILE *m_file = nullptr;
};

// ------------------------------------------------------------------ torch zip

const char *storageClass(DType t)
{
    switch (t) {
    case DType::Float32: return "FloatStorage";
    case DType::Float64: return "DoubleStorage";
    case DType::Float16: return "HalfStorage";
    case DType::BFloat16: return "BFloat16Storage";
    case DType::Int64: return "LongStorage";
    case DType::Int32: return "IntStorage";
    case DType::Int16: return "ShortStorage";
    case DType::Int8: return "CharStorage";
    case DType::UInt8: return "ByteStorage";
    case DType::Bool: return "BoolStorage";
    case DType::Complex64: return "ComplexFloatStorage";
    case DType::Complex128: return "ComplexDoubleStorage";
    default: return nullptr;
    }
}

// torch.save names every member after the file: "<base name without extension>/...".
std::string archivePrefix(const std::string &path)
{
    std::string base = path.substr(path.find_last_of('/') + 1);
    const size_t dot = base.rfind('.');
    if (dot != std::string::npos && dot > 0)
        base.resize(dot);
    for (char &c : base) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok)
            c = '_';
    }
    return base.empty() ? "archive" : base;
}

void intTuple(PickleWriter &w, const std::vector<int64_t> &values)
{
    if (values.size() > 3)
        w.mark();
    for (int64_t v : values)
        w.integer(v);
    w.tuple(values.size());
}

std::string statePickle(const std::vector<Source> &sources)
{
    PickleWriter w;
    w.global("collections", "OrderedDict");
    w.emptyTuple();
    w.reduce();
    // Python's pickler batches SETITEMS by 1000 pairs; torch.load does not care, we do too.
    for (size_t first = 0; first < sources.size(); first += 1000) {
        w.mark();
        for (size_t i = first; i < std::min(sources.size(), first + 1000); ++i) {
            const Source &s = sources[i];
            w.string(*s.key);
            w.global("torch._utils", "_rebuild_tensor_v2");
            w.mark();
            w.mark();
            w.string("storage");
            w.global("torch", storageClass(s.tensor->dtype));
            w.string(std::to_string(i));
            w.string("cpu");
            w.integer(s.numel);
            w.tuple(5);
            w.persistentId();
            w.integer(0);
            intTuple(w, s.tensor->shape);
            intTuple(w, contiguousStrides(s.tensor->shape));
            w.boolean(false);
            w.global("collections", "OrderedDict");
            w.emptyTuple();
            w.reduce();
            w.tuple(6);
            w.reduce();
        }
        w.setItems();
    }
    w.stop();
    return w.bytes();
}

// Writes stored members through minizip, each one's data 64-byte aligned in the file as
// PyTorch's writer does (so the loader may map storages in place): the padding goes into
// an "FB" extra field of the local header, whose size we compute from the running
// offset. minizip 1.1's local header is 30 bytes + name + our extra field + a 20-byte
// ZIP64 field when zip64 is on, with no data descriptor after stored data; the export
// test checks the resulting alignment through our reader.
class StoredZipWriter {
public:
    StoredZipWriter(const std::string &tempPath, const std::string &target) : m_target(target)
    {
        m_zip = zipOpen64(tempPath.c_str(), APPEND_STATUS_CREATE);
        if (!m_zip)
            throw std::runtime_error("cannot write " + target + ": " + std::strerror(errno));
    }
    ~StoredZipWriter()
    {
        if (m_zip)
            zipClose(m_zip, nullptr);
    }
    StoredZipWriter(const StoredZipWriter &) = delete;
    StoredZipWriter &operator=(const StoredZipWriter &) = delete;

    void open(const std::string &name, uint64_t size)
    {
        const int zip64 = size >= 0xFFFFFFFFu ? 1 : 0;
        const uint64_t fixed = m_position + 30 + name.size() + 4 + (zip64 ? 20 : 0);
        const size_t padding = static_cast<size_t>((64 - fixed % 64) % 64);
        std::string extra = {'F', 'B', static_cast<char>(padding & 0xFF), static_cast<char>(padding >> 8)};
        extra.append(padding, 'Z');
        zip_fileinfo info{};
        info.dosDate = 0x00210000; // 1980-01-01 00:00: the same bytes for the same tensors
        check(zipOpenNewFileInZip4_64(m_zip, name.c_str(), &info, extra.data(), static_cast<uInt>(extra.size()),
                                      nullptr, 0, nullptr, 0 /* stored */, 0, 0, -MAX_WBITS, DEF_MEM_LEVEL,
                                      Z_DEFAULT_STRATEGY, nullptr, 0, 0, 0, zip64),
              name);
        m_position = fixed + padding + size;
        m_member = name;
    }
    void write(const void *data, size_t size)
    {
        check(zipWriteInFileInZip(m_zip, data, static_cast<unsigned>(size)), m_member);
    }
    void close() { check(zipCloseFileInZip(m_zip), m_member); }
    void member(const std::string &name, const std::string &bytes)
    {
        open(name, bytes.size());
        write(bytes.data(), bytes.size());
        close();
    }
    void finish()
    {
        const int err = zipClose(m_zip, nullptr);
        m_zip = nullptr;
        check(err, "central directory");
    }

private:
    void check(int err, const std::string &what)
    {
        if (err != ZIP_OK)
            throw std::runtime_error("cannot write " + m_target + " (" + what + "): zip error " + std::to_string(err) +
                                     (err == ZIP_ERRNO ? std::string(", ") + std::strerror(errno) : std::string()));
    }

    zipFile m_zip = nullptr;
    std::string m_target;
    std::string m_member;
    uint64_t m_position = 0;
};

// ---------------------------------------------------------------- safetensors

const char *safetensorsName(DType t)
{
    switch (t) {
    case DType::Bool: return "BOOL";
    case DType::UInt8: return "U8";
    case DType::Int8: return "I8";
    case DType::Int16: return "I16";
    case DType::UInt16: return "U16";
    case DType::Int32: return "I32";
    case DType::UInt32: return "U32";
    case DType::Int64: return "I64";
    case DType::UInt64: return "U64";
    case DType::Float16: return "F16";
    case DType::BFloat16: return "BF16";
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Complex64: return "C64";
    case DType::Float8E4M3FN: return "F8_E4M3";
    case DType::Float8E5M2: return "F8_E5M2";
    default: return nullptr;
    }
}

void writeAll(std::FILE *f, const void *data, size_t size, const std::string &target)
{
    if (size && std::fwrite(data, 1, size, f) != size)
        throw std::runtime_error("cannot write " + target + ": " + std::strerror(errno));
}

} // namespace

void writeTorchStateDict(const std::string &path, const std::vector<NamedTensor> &tensors)
{
    const std::vector<Source> sources = checkSources(tensors, storageClass, "a PyTorch file (no legacy storage class)");
    const std::string prefix = archivePrefix(path);
    const std::string pickle = statePickle(sources);

    TempFile temp(path);
    temp.release();
    StoredZipWriter zip(temp.path(), path);
    zip.member(prefix + "/data.pkl", pickle);
    for (size_t i = 0; i < sources.size(); ++i) {
        const Source &s = sources[i];
        zip.open(prefix + "/data/" + std::to_string(i), s.tensor->nbytes());
        copyContiguous(s, [&](const uint8_t *p, size_t n) { zip.write(p, n); });
        checkIntact(s);
        zip.close();
    }
    zip.member(prefix + "/version", "3\n");
    zip.finish();
    temp.commit();
}

void writeSafetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata)
{
    for (const NamedTensor &n : tensors)
        if (n.key == "__metadata__")
            fail(n.key, "the name is reserved by safetensors");
    const std::vector<Source> sources = checkSources(tensors, safetensorsName, "safetensors");

    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    meta["format"] = "pt";
    for (const auto &[k, v] : metadata)
        meta[k] = v;
    header["__metadata__"] = std::move(meta);
    uint64_t offset = 0;
    for (const Source &s : sources) {
        const uint64_t end = offset + s.tensor->nbytes();
        header[*s.key] = {{"dtype", safetensorsName(s.tensor->dtype)},
                          {"shape", s.tensor->shape},
                          {"data_offsets", {offset, end}}};
        offset = end;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const nlohmann::json::exception &e) {
        throw std::runtime_error("cannot write " + path + ": " + e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    if (text.size() > 100000000)
        throw std::runtime_error("cannot write " + path + ": the safetensors header would exceed 100 MB");

    TempFile temp(path);
    uint8_t length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
    writeAll(temp.file(), length, sizeof length, path);
    writeAll(temp.file(), text.data(), text.size(), path);
    for (const Source &s : sources) {
        copyContiguous(s, [&](const uint8_t *p, size_t n) { writeAll(temp.file(), p, n, path); });
        checkIntact(s);
    }
    temp.commit();
}

} // namespace te
