#include "core/document/document.h"

#include <algorithm>
#include <map>

namespace te {

const char *formatName(FileFormat f)
{
    switch (f) {
    case FileFormat::TorchZip: return "torch_zip";
    case FileFormat::TorchScript: return "torchscript";
    case FileFormat::TorchLegacy: return "torch_legacy";
    case FileFormat::TorchTar: return "torch_tar";
    case FileFormat::Pickle: return "pickle";
    case FileFormat::Safetensors: return "safetensors";
    case FileFormat::HuggingFaceFolder: return "hf_folder";
    case FileFormat::TorchExport: return "torch_export";
    case FileFormat::DistributedCheckpoint: return "dcp";
    case FileFormat::Unknown: break;
    }
    return "unknown";
}

bool tensorExtentBytes(const TensorInfo &t, uint64_t *bytes, std::string *error)
{
    *bytes = 0;
    if (t.shape.size() != t.strides.size()) {
        *error = "size has " + std::to_string(t.shape.size()) + " dimensions but stride has " +
                 std::to_string(t.strides.size());
        return false;
    }
    if (t.storageOffset < 0) {
        *error = "negative storage offset";
        return false;
    }
    int64_t numel = 1;
    int64_t last = 0; // highest element index reached, relative to the offset
    for (size_t i = 0; i < t.shape.size(); ++i) {
        const int64_t d = t.shape[i], st = t.strides[i];
        if (d < 0 || st < 0) {
            *error = "negative size or stride in dimension " + std::to_string(i);
            return false;
        }
        if (__builtin_mul_overflow(numel, d, &numel)) {
            *error = "element count overflows 64 bits";
            return false;
        }
        int64_t reach = 0;
        if (d > 0 && (__builtin_mul_overflow(d - 1, st, &reach) || __builtin_add_overflow(last, reach, &last))) {
            *error = "extent overflows 64 bits";
            return false;
        }
    }
    if (numel == 0)
        return true;
    int64_t end = 0;
    if (__builtin_add_overflow(t.storageOffset, last, &end) || __builtin_add_overflow(end, int64_t(1), &end) ||
        __builtin_mul_overflow(static_cast<uint64_t>(end), static_cast<uint64_t>(dtypeItemSize(t.dtype)), bytes)) {
        *error = "extent overflows 64 bits";
        return false;
    }
    return true;
}

int64_t TensorInfo::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0 || __builtin_mul_overflow(n, d, &n))
            return -1;
    }
    return n;
}

std::vector<int64_t> contiguousStrides(const std::vector<int64_t> &shape)
{
    std::vector<int64_t> strides(shape.size());
    int64_t step = 1;
    for (size_t d = shape.size(); d-- > 0;) {
        strides[d] = step;
        step *= std::max<int64_t>(shape[d], 1);
    }
    return strides;
}

bool TensorInfo::isContiguous() const
{
    if (strides.size() != shape.size())
        return false;
    const std::vector<int64_t> c = contiguousStrides(shape);
    for (size_t d = 0; d < shape.size(); ++d)
        if (shape[d] > 1 && strides[d] != c[d])
            return false;
    return true;
}

uint64_t TensorInfo::nbytes() const
{
    int64_t n = numel();
    uint64_t bytes = 0;
    if (n < 0 || __builtin_mul_overflow(static_cast<uint64_t>(n), static_cast<uint64_t>(dtypeItemSize(dtype)), &bytes))
        return 0;
    return bytes;
}

std::vector<std::vector<std::string>> Document::sharedStorageGroups() const
{
    // Count first: most storages have one key, and only shared ones need their keys.
    std::vector<uint32_t> uses(storages.size(), 0);
    bool any = false;
    for (const auto &e : entries) {
        int s = tensors[static_cast<size_t>(e.tensor)].storage;
        if (s >= 0 && static_cast<size_t>(s) < uses.size())
            any |= ++uses[static_cast<size_t>(s)] == 2;
    }
    if (!any)
        return {};
    std::map<int, std::vector<std::string>> byStorage;
    for (const auto &e : entries) {
        int s = tensors[static_cast<size_t>(e.tensor)].storage;
        if (s >= 0 && static_cast<size_t>(s) < uses.size() && uses[static_cast<size_t>(s)] > 1)
            byStorage[s].push_back(e.key);
    }
    std::vector<std::vector<std::string>> groups;
    for (auto &[storage, keys] : byStorage)
        groups.push_back(std::move(keys));
    return groups;
}

uint64_t Document::parameterCount() const
{
    uint64_t n = 0;
    for (const auto &e : entries) {
        int64_t k = tensors[static_cast<size_t>(e.tensor)].numel();
        if (k > 0)
            n += static_cast<uint64_t>(k);
    }
    return n;
}

} // namespace te
