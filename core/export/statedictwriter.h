#pragma once
// Writes tensors of opened documents as files other tools read: PyTorch's zip format
// (an OrderedDict state dict, exactly what torch.save writes, which torch.load reads back
// into the same keys and values) and safetensors. Files are written to a temporary name
// and renamed into place, so a failure never leaves half a file where the user's was.
// torchzipwriter.cpp and safetensorswriter.cpp write them, exportsupport.h has what both share.
#include "core/document/document.h"

#include <map>
#include <string>
#include <vector>

namespace te {

struct NamedTensor {
    std::string key;
    const Document *doc = nullptr;
    int tensor = -1; // index into doc->tensors
};

// Both throw std::runtime_error naming the key or the path on failure.
void writeTorchStateDict(const std::string &path, const std::vector<NamedTensor> &tensors);
void writeSafetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

} // namespace te
