// writeSafetensors: an 8-byte header length, the JSON header (names, dtypes, shapes, byte
// ranges, metadata) padded to 8 bytes, then every tensor's bytes in order.
#include "core/export/exportsupport.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
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

// Writes one safetensors file of checked sources under a temporary name; commit() puts
// it in place.
std::unique_ptr<TempFile> writeSafetensorsFile(const std::string &path, const std::vector<ExportSource> &sources,
                                               const std::map<std::string, std::string> &metadata,
                                               ExportCounter &counter)
{
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

    auto temp = std::make_unique<TempFile>(path);
    uint8_t length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
    writeAll(temp->file(), length, sizeof length, path);
    writeAll(temp->file(), text.data(), text.size(), path);
    for (const ExportSource &s : sources) {
        copyContiguous(
            s,
            [&](const uint8_t *p, size_t n) {
                writeAll(temp->file(), p, n, path);
                counter.add(n);
            },
            counter.options());
        checkIntact(s);
    }
    temp->release();
    return temp;
}

std::vector<ExportSource> checkSafetensorsSources(const std::vector<NamedTensor> &tensors)
{
    for (const NamedTensor &n : tensors)
        if (n.key == "__metadata__")
            failExport(n.key, "the name is reserved by safetensors");
    return checkSources(tensors, safetensorsName, "safetensors");
}

std::string shardName(size_t index, size_t count)
{
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
    return name;
}

} // namespace

void writeSafetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata, const ExportOptions &options)
{
    const std::vector<ExportSource> sources = checkSafetensorsSources(tensors);
    ExportCounter counter(sources, options);
    writeSafetensorsFile(path, sources, metadata, counter)->commit();
}

std::vector<std::string> writeSafetensorsShards(const std::string &folder, const std::vector<NamedTensor> &tensors,
                                                uint64_t maxShardBytes, const ExportOptions &options)
{
    const std::vector<ExportSource> sources = checkSafetensorsSources(tensors);
    std::vector<std::vector<ExportSource>> shards;
    uint64_t current = 0, total = 0;
    for (const ExportSource &s : sources) {
        const uint64_t bytes = s.tensor->nbytes();
        if (shards.empty() || (current > 0 && current + bytes > maxShardBytes)) {
            shards.emplace_back();
            current = 0;
        }
        shards.back().push_back(s);
        current += bytes;
        total += bytes;
    }
    if (shards.empty())
        shards.emplace_back();
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec)
        throw std::runtime_error("cannot make the folder " + folder + ": " + ec.message());
    const std::string dir = folder.empty() || folder.back() == '/' ? folder : folder + "/";

    ExportCounter counter(sources, options);
    std::vector<std::unique_ptr<TempFile>> written;
    std::vector<std::string> names;
    nlohmann::ordered_json weightMap = nlohmann::ordered_json::object();
    for (size_t i = 0; i < shards.size(); ++i) {
        names.push_back(shards.size() == 1 ? std::string("model.safetensors") : shardName(i, shards.size()));
        written.push_back(writeSafetensorsFile(dir + names.back(), shards[i], {}, counter));
        for (const ExportSource &s : shards[i])
            weightMap[*s.key] = names.back();
    }
    std::unique_ptr<TempFile> index;
    if (shards.size() > 1) {
        nlohmann::ordered_json j = {{"metadata", {{"total_size", total}}}, {"weight_map", std::move(weightMap)}};
        const std::string text = j.dump(2) + "\n";
        names.push_back("model.safetensors.index.json");
        index = std::make_unique<TempFile>(dir + names.back());
        writeAll(index->file(), text.data(), text.size(), dir + names.back());
        written.push_back(std::move(index));
    }
    // Every file is complete: only now do they replace what the folder held.
    for (auto &file : written)
        file->commit();
    // A previous export's other shards or index would make the folder contradict itself.
    for (const auto &entry : std::filesystem::directory_iterator(folder.empty() ? "." : folder, ec)) {
        const std::string name = entry.path().filename().string();
        const bool ours = name == "model.safetensors" || name == "model.safetensors.index.json" ||
                          (name.size() == 32 && name.compare(0, 6, "model-") == 0 && name.compare(11, 4, "-of-") == 0 &&
                           name.compare(20, 12, ".safetensors") == 0);
        if (ours && std::find(names.begin(), names.end(), name) == names.end())
            std::filesystem::remove(entry.path(), ec);
    }
    for (std::string &n : names)
        n = dir + n;
    return names;
}

} // namespace te
