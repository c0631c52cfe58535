// writeSafetensors: an 8-byte header length, the JSON header (names, dtypes, shapes, byte
// ranges, metadata) padded to 8 bytes, then every tensor's bytes in order.
#include "core/export/exportsupport.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace te {
namespace {

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

void writeSafetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata)
{
    for (const NamedTensor &n : tensors)
        if (n.key == "__metadata__")
            failExport(n.key, "the name is reserved by safetensors");
    const std::vector<ExportSource> sources = checkSources(tensors, safetensorsName, "safetensors");

    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    meta["format"] = "pt";
    for (const auto &[k, v] : metadata)
        meta[k] = v;
    header["__metadata__"] = std::move(meta);
    uint64_t offset = 0;
    for (const ExportSource &s : sources) {
        const uint64_t end = offset + s.tensor->nbytes();
        header[*s.key] = {
            {"dtype", safetensorsName(s.tensor->dtype)}, {"shape", s.tensor->shape}, {"data_offsets", {offset, end}}};
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
    for (const ExportSource &s : sources) {
        copyContiguous(s, [&](const uint8_t *p, size_t n) { writeAll(temp.file(), p, n, path); });
        checkIntact(s);
    }
    temp.commit();
}

} // namespace te
