// safetensors: an 8-byte header length, a JSON header naming every tensor's dtype, shape
// and byte range, then the data. Nothing in it is code; what can be wrong is the header,
// so every number in it is checked against the file before a tensor points into it.
#include "core/formats/safetensorsreader.h"
#include "core/formats/notcheckpoint.h"
#include "core/formats/readersupport.h"
#include "core/io/boundedjson.h"
#include "core/io/readerror.h"

#include <algorithm>

namespace te {
namespace {

constexpr uint64_t kMaxHeader = 100'000'000; // the format's own limit

// Where the data lies in the file, for the checks of the header's byte ranges.
struct DataSpan {
    const std::string &name; // the file, as errors name it
    uint64_t fileSize;
    uint64_t start, size; // the bytes after the header
};

// One tensor's bytes, relative to the data's start.
struct Range {
    uint64_t begin, end;
    std::string key;
};

// The 8-byte length of the header, checked against the format's limit and the file.
uint64_t headerLength(const Document &doc, const std::string &name)
{
    const uint64_t size = doc.file->size();
    if (size < 8)
        throw ReadError("safetensors: the file is shorter than its 8-byte header length", name, 0);
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i)
        n |= static_cast<uint64_t>(doc.file->data()[i]) << (8 * i);
    if (n > kMaxHeader)
        throw ReadError("safetensors: header length " + std::to_string(n) + " is over the format's limit of 100 MB",
                        name, 0);
    if (n > size - 8)
        throw ReadError("safetensors: " + safetensorsCutShort(n, size), name, 0);
    return n;
}

nlohmann::json parseHeader(const Document &doc, uint64_t length, const std::string &name)
{
    // Unordered: tensors are ordered by their offsets below, and a header of 100,000
    // entries must not cost an ordered map's linear inserts.
    nlohmann::json header;
    try {
        doc.file->need(8, length);
        header = parseBoundedJsonUnordered(doc.file->view().substr(8, length), name, 8);
    } catch (const ReadError &e) {
        throw ReadError("safetensors: the header is " + e.message(), name, e.offset());
    }
    if (!header.is_object())
        throw ReadError("safetensors: the header is not a JSON object", name, 8);
    return header;
}

// A download cut short keeps a whole header: say so before any tensor looks broken.
void checkNotCutShort(const nlohmann::json &header, const DataSpan &data)
{
    uint64_t needed = 0;
    for (const auto &[key, info] : header.items())
        if (key != "__metadata__" && info.is_object() && info.contains("data_offsets") &&
            info["data_offsets"].is_array() && info["data_offsets"].size() == 2 &&
            info["data_offsets"][1].is_number_unsigned())
            needed = std::max(needed, info["data_offsets"][1].get<uint64_t>());
    if (needed > data.size)
        throw ReadError("safetensors: the file was cut short: its tensors need " + std::to_string(data.start + needed) +
                            " bytes but it has " + std::to_string(data.fileSize) + " (" +
                            std::to_string(data.start + needed - data.fileSize) + " missing); download it again",
                        data.name, static_cast<int64_t>(data.fileSize));
}

void readMetadata(Document &doc, const nlohmann::json &info, const std::string &name)
{
    if (!info.is_object())
        throw ReadError("safetensors: __metadata__ is not an object", name, 8);
    // The format maps strings to strings (the safetensors library refuses anything
    // else), so a nested value is a malformed file, not data to show.
    for (const auto &[k, v] : info.items()) {
        if (!v.is_string())
            throw ReadError("safetensors: __metadata__ value of '" + k + "' is a " + v.type_name() +
                                "; the format allows only strings",
                            name, 8);
        doc.metadata[k] = v;
    }
    if (info.contains("format") && info["format"].is_string())
        doc.producer += " (format: " + info["format"].get<std::string>() + ")";
}

[[noreturn]] void badTensor(const std::string &key, const std::string &name, const std::string &why)
{
    throw ReadError("safetensors: tensor '" + key + "': " + why, name, 8);
}

// The tensor's byte range, checked to lie within the data.
Range rangeOf(const std::string &key, const nlohmann::json &info, const DataSpan &data)
{
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
        badTensor(key, data.name, "needs dtype, shape and data_offsets");
    const auto &offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
        badTensor(key, data.name, "data_offsets is not a pair of non-negative integers");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data.size)
        badTensor(key, data.name,
                  "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] are outside the " +
                      std::to_string(data.size) + " bytes of data");
    return {begin, end, key};
}

// The tensor's dtype (named `dtype` in the header), shape and contiguous strides.
TensorInfo tensorOf(const std::string &key, const nlohmann::json &info, const std::string &dtype,
                    const std::string &name)
{
    TensorInfo t;
    t.dtype = dtypeFromSafetensors(dtype);
    if (!info["shape"].is_array())
        badTensor(key, name, "shape is not a list");
    for (const auto &d : info["shape"]) {
        if (!d.is_number_unsigned())
            badTensor(key, name, "shape holds something other than non-negative integers");
        t.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(d.get<uint64_t>(), INT64_MAX)));
    }
    // Contiguous row-major strides, computed overflow-safe.
    t.strides.assign(t.shape.size(), 1);
    for (size_t i = t.shape.size(); i-- > 1;)
        if (__builtin_mul_overflow(t.strides[i], std::max<int64_t>(t.shape[i], 1), &t.strides[i - 1]))
            badTensor(key, name, "shape overflows 64 bits");
    return t;
}

// The tensor's storage, its size checked against what its shape and dtype need.
StorageInfo storageOf(const Range &range, TensorInfo &t, const std::string &dtype, const DataSpan &data)
{
    StorageInfo s;
    s.key = range.key;
    s.dtype = t.dtype;
    s.location = "cpu";
    s.member = data.name;
    s.fileOffset = data.start + range.begin;
    s.nbytes = range.end - range.begin;
    if (t.dtype == DType::Unknown) {
        s.error = t.error = "unknown safetensors dtype " + dtype;
    } else {
        const int64_t numel = t.numel();
        uint64_t bytes = 0;
        if (numel < 0 ||
            __builtin_mul_overflow(static_cast<uint64_t>(numel), static_cast<uint64_t>(dtypeItemSize(t.dtype)), &bytes))
            badTensor(range.key, data.name, "shape overflows 64 bits");
        if (bytes != s.nbytes)
            badTensor(range.key, data.name,
                      "shape and dtype need " + std::to_string(bytes) + " bytes but data_offsets give " +
                          std::to_string(s.nbytes));
        s.numel = static_cast<uint64_t>(numel);
        s.resolved = true;
    }
    return s;
}

// Adds the tensor to the document; returns its byte range.
Range readTensor(Document &doc, const std::string &key, const nlohmann::json &info, const DataSpan &data)
{
    Range range = rangeOf(key, info, data);
    const std::string dtype = info["dtype"].is_string() ? info["dtype"].get<std::string>() : std::string("?");
    TensorInfo t = tensorOf(key, info, dtype, data.name);
    StorageInfo s = storageOf(range, t, dtype, data);
    t.storage = static_cast<int>(doc.storages.size());
    doc.storages.push_back(std::move(s));
    doc.entries.push_back({key, static_cast<int>(doc.tensors.size())});
    doc.tensors.push_back(std::move(t));
    return range;
}

// The data must be covered exactly once: no overlaps (one byte, two tensors) and no
// holes (bytes nobody accounts for), as the format requires.
void checkCoverage(std::vector<Range> &ranges, const DataSpan &data)
{
    std::sort(ranges.begin(), ranges.end(),
              [](const Range &a, const Range &b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    uint64_t at = 0;
    for (const auto &r : ranges) {
        if (r.begin < at)
            throw ReadError("safetensors: tensor '" + r.key + "' overlaps the one before it in the data", data.name,
                            static_cast<int64_t>(data.start + r.begin));
        if (r.begin > at)
            throw ReadError("safetensors: " + std::to_string(r.begin - at) + " bytes of data before tensor '" + r.key +
                                "' belong to no tensor",
                            data.name, static_cast<int64_t>(data.start + at));
        at = r.end;
    }
    if (at != data.size)
        throw ReadError("safetensors: " + std::to_string(data.size - at) +
                            " bytes after the last tensor belong to none",
                        data.name, static_cast<int64_t>(data.start + at));
}

// Tensors in the order of their bytes, whatever order the header's JSON has.
void sortEntriesByOffset(Document &doc)
{
    std::vector<size_t> order(doc.entries.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return doc.storages[static_cast<size_t>(doc.tensors[a].storage)].fileOffset <
               doc.storages[static_cast<size_t>(doc.tensors[b].storage)].fileOffset;
    });
    std::vector<TensorEntry> sorted;
    for (size_t i : order)
        sorted.push_back(doc.entries[i]);
    doc.entries = std::move(sorted);
}

} // namespace

void readSafetensorsDocument(Document &doc, const ReadOptions &options)
{
    const std::string name = doc.path.substr(doc.path.rfind('/') == std::string::npos ? 0 : doc.path.rfind('/') + 1);
    doc.format = FileFormat::Safetensors;
    const uint64_t n = headerLength(doc, name);
    reportProgress(options, 0.1, "reading the safetensors header");
    const nlohmann::json header = parseHeader(doc, n, name);
    const uint64_t size = doc.file->size();
    const DataSpan data{name, size, 8 + n, size - (8 + n)};
    doc.producer = "safetensors";
    checkNotCutShort(header, data);
    std::vector<Range> ranges;
    for (const auto &[key, info] : header.items()) {
        if (key == "__metadata__") {
            readMetadata(doc, info, name);
            continue;
        }
        ranges.push_back(readTensor(doc, key, info, data));
    }
    checkCoverage(ranges, data);
    sortEntriesByOffset(doc);
    doc.stateDicts.push_back("");
}

} // namespace te
