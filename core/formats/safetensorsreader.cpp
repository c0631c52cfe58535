// safetensors: an 8-byte header length, a JSON header naming every tensor's dtype, shape
// and byte range, then the data. Nothing in it is code; what can be wrong is the header,
// so every number in it is checked against the file before a tensor points into it.
#include "core/formats/notcheckpoint.h"
#include "core/formats/readersupport.h"
#include "core/formats/safetensorsreader.h"
#include "core/io/boundedjson.h"
#include "core/io/readerror.h"

#include <algorithm>

namespace te {
namespace {

constexpr uint64_t kMaxHeader = 100'000'000; // the format's own limit

} // namespace

void readSafetensorsDocument(Document &doc, const ReadOptions &options)
{
    const std::string name = doc.path.substr(doc.path.rfind('/') == std::string::npos ? 0 : doc.path.rfind('/') + 1);
    doc.format = FileFormat::Safetensors;
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
    reportProgress(options, 0.1, "reading the safetensors header");
    // Unordered: tensors are ordered by their offsets below, and a header of 100,000
    // entries must not cost an ordered map's linear inserts.
    nlohmann::json header;
    try {
        header = parseBoundedJsonUnordered(doc.file->view().substr(8, n), name, 8);
    } catch (const ReadError &e) {
        throw ReadError("safetensors: the header is " + e.message(), name, e.offset());
    }
    if (!header.is_object())
        throw ReadError("safetensors: the header is not a JSON object", name, 8);
    const uint64_t dataStart = 8 + n;
    const uint64_t dataSize = size - dataStart;
    doc.producer = "safetensors";

    // A download cut short keeps a whole header: say so before any tensor looks broken.
    uint64_t needed = 0;
    for (const auto &[key, info] : header.items())
        if (key != "__metadata__" && info.is_object() && info.contains("data_offsets") &&
            info["data_offsets"].is_array() && info["data_offsets"].size() == 2 &&
            info["data_offsets"][1].is_number_unsigned())
            needed = std::max(needed, info["data_offsets"][1].get<uint64_t>());
    if (needed > dataSize)
        throw ReadError("safetensors: the file was cut short: its tensors need " + std::to_string(dataStart + needed) +
                            " bytes but it has " + std::to_string(size) + " (" +
                            std::to_string(dataStart + needed - size) + " missing); download it again",
                        name, static_cast<int64_t>(size));
    struct Range {
        uint64_t begin, end;
        std::string key;
    };
    std::vector<Range> ranges;
    for (const auto &[key, info] : header.items()) {
        if (key == "__metadata__") {
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
            continue;
        }
        const std::string &tensorKey = key; // a structured binding cannot be captured in C++17
        auto bad = [&](const std::string &why) {
            throw ReadError("safetensors: tensor '" + tensorKey + "': " + why, name, 8);
        };
        if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
            bad("needs dtype, shape and data_offsets");
        const auto &offsets = info["data_offsets"];
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
            !offsets[1].is_number_unsigned())
            bad("data_offsets is not a pair of non-negative integers");
        const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
        if (begin > end || end > dataSize)
            bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] are outside the " +
                std::to_string(dataSize) + " bytes of data");
        TensorInfo t;
        const std::string dtype = info["dtype"].is_string() ? info["dtype"].get<std::string>() : std::string("?");
        t.dtype = dtypeFromSafetensors(dtype);
        if (!info["shape"].is_array())
            bad("shape is not a list");
        for (const auto &d : info["shape"]) {
            if (!d.is_number_unsigned())
                bad("shape holds something other than non-negative integers");
            t.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(d.get<uint64_t>(), INT64_MAX)));
        }
        // Contiguous row-major strides, computed overflow-safe.
        t.strides.assign(t.shape.size(), 1);
        for (size_t i = t.shape.size(); i-- > 1;)
            if (__builtin_mul_overflow(t.strides[i], std::max<int64_t>(t.shape[i], 1), &t.strides[i - 1]))
                bad("shape overflows 64 bits");
        StorageInfo s;
        s.key = key;
        s.dtype = t.dtype;
        s.location = "cpu";
        s.member = name;
        s.fileOffset = dataStart + begin;
        s.nbytes = end - begin;
        if (t.dtype == DType::Unknown) {
            s.error = t.error = "unknown safetensors dtype " + dtype;
        } else {
            const int64_t numel = t.numel();
            uint64_t bytes = 0;
            if (numel < 0 || __builtin_mul_overflow(static_cast<uint64_t>(numel),
                                                    static_cast<uint64_t>(dtypeItemSize(t.dtype)), &bytes))
                bad("shape overflows 64 bits");
            if (bytes != s.nbytes)
                bad("shape and dtype need " + std::to_string(bytes) + " bytes but data_offsets give " +
                    std::to_string(s.nbytes));
            s.numel = static_cast<uint64_t>(numel);
            s.resolved = true;
        }
        t.storage = static_cast<int>(doc.storages.size());
        doc.storages.push_back(std::move(s));
        doc.entries.push_back({key, static_cast<int>(doc.tensors.size())});
        doc.tensors.push_back(std::move(t));
        ranges.push_back({begin, end, key});
    }
    // The data must be covered exactly once: no overlaps (one byte, two tensors) and no
    // holes (bytes nobody accounts for), as the format requires.
    std::sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t at = 0;
    for (const auto &r : ranges) {
        if (r.begin < at)
            throw ReadError("safetensors: tensor '" + r.key + "' overlaps the one before it in the data", name,
                            static_cast<int64_t>(dataStart + r.begin));
        if (r.begin > at)
            throw ReadError("safetensors: " + std::to_string(r.begin - at) + " bytes of data before tensor '" + r.key +
                                "' belong to no tensor",
                            name, static_cast<int64_t>(dataStart + at));
        at = r.end;
    }
    if (at != dataSize)
        throw ReadError("safetensors: " + std::to_string(dataSize - at) + " bytes after the last tensor belong to none",
                        name, static_cast<int64_t>(dataStart + at));
    // Tensors in the order of their bytes, whatever order the header's JSON has.
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
    doc.stateDicts.push_back("");
}

} // namespace te
