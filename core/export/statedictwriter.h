#pragma once
// Writes tensors of opened documents as files other tools read: PyTorch's zip format
// (an OrderedDict state dict, exactly what torch.save writes, which torch.load reads back
// into the same keys and values) and safetensors. Files are written to a temporary name
// and renamed into place, so a failure never leaves half a file where the user's was.
// torchzipwriter.cpp and safetensorswriter.cpp write them, exportsupport.h has what both share.
#include "core/document/document.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace te {

struct NamedTensor {
    std::string key;
    const Document *doc = nullptr;
    int tensor = -1; // index into doc->tensors
};

struct ExportOptions {
    const std::atomic<bool> *cancel = nullptr; // raised: the writer stops (Cancelled), nothing is left
    std::function<void(uint64_t done, uint64_t total)> progress; // bytes of tensor data written
};

// Both throw std::runtime_error naming the key or the path on failure.
void writeTorchStateDict(const std::string &path, const std::vector<NamedTensor> &tensors,
                         const ExportOptions &options = {});
void writeSafetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata = {}, const ExportOptions &options = {});

// The layout save_pretrained writes: model.safetensors when everything fits in one file
// of maxShardBytes, else model-00001-of-0000N.safetensors shards (a tensor goes to the
// next shard when it would overflow the current one; a tensor bigger than the limit gets
// a shard of its own) and model.safetensors.index.json ({"metadata": {"total_size"},
// "weight_map": {key: file}}). The folder is made if missing; files already there under
// those names are replaced only when every shard has been written. Returns the files
// written, index last.
std::vector<std::string> writeSafetensorsShards(const std::string &folder, const std::vector<NamedTensor> &tensors,
                                                uint64_t maxShardBytes, const ExportOptions &options = {});

} // namespace te
