// writeTorchStateDict: what torch.save writes for an OrderedDict state dict, a zip of
// stored members (data.pkl, one data/N per storage, version), read back by torch.load.
#include "core/export/exportsupport.h"
#include "core/export/picklewriter.h"

#include <minizip/zip.h>

#include <cstring>
#include <stdexcept>

namespace te {
namespace {

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

std::string statePickle(const std::vector<ExportSource> &sources)
{
    PickleWriter w;
    w.global("collections", "OrderedDict");
    w.emptyTuple();
    w.reduce();
    // Python's pickler batches SETITEMS by 1000 pairs; torch.load does not care, we do too.
    for (size_t first = 0; first < sources.size(); first += 1000) {
        w.mark();
        for (size_t i = first; i < std::min(sources.size(), first + 1000); ++i) {
            const ExportSource &s = sources[i];
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
    StoredZipWriter(const std::string &tempPath, const std::string &target)
        : m_target(target)
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

} // namespace

void writeTorchStateDict(const std::string &path, const std::vector<NamedTensor> &tensors, const ExportOptions &options)
{
    const std::vector<ExportSource> sources =
        checkSources(tensors, storageClass, "a PyTorch file (no legacy storage class)");
    const std::string prefix = archivePrefix(path);
    const std::string pickle = statePickle(sources);

    TempFile temp(path);
    temp.release();
    StoredZipWriter zip(temp.path(), path);
    ExportCounter counter(sources, options);
    zip.member(prefix + "/data.pkl", pickle);
    for (size_t i = 0; i < sources.size(); ++i) {
        const ExportSource &s = sources[i];
        zip.open(prefix + "/data/" + std::to_string(i), s.tensor->nbytes());
        copyContiguous(
            s,
            [&](const uint8_t *p, size_t n) {
                zip.write(p, n);
                counter.add(n);
            },
            options);
        checkIntact(s);
        zip.close();
    }
    zip.member(prefix + "/version", "3\n");
    zip.finish();
    temp.commit();
}

} // namespace te
