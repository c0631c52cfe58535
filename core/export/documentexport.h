#pragma once
// Exporting a document's tensors as a state dict file: the one entry point of the
// `export` command and of File → Export state dict. Any readable source (a checkpoint, a
// Hugging Face folder, a .pt2, a distributed checkpoint) is written tensor by tensor, so
// memory stays flat whatever the model's size.
#include "core/export/statedictwriter.h"

#include <optional>

namespace te {

enum class ExportFormat { TorchSave, Safetensors };

struct ExportRequest {
    ExportFormat format = ExportFormat::TorchSave;
    // A file for torch.save and for one safetensors file (a name ending .safetensors);
    // otherwise the folder of save_pretrained's layout (model.safetensors, or shards and
    // model.safetensors.index.json).
    std::string target;
    // Only the tensors of this state dict (a dotted path, "" for the root), with its path
    // removed from their keys; every tensor under its full key when unset.
    std::optional<std::string> stateDict;
    uint64_t maxShardBytes = 5'000'000'000; // save_pretrained's default, "5GB"
};

struct ExportResult {
    std::vector<std::string> files;
    size_t tensors = 0;
    uint64_t bytes = 0;
};

// A size as people write it: "5GB" (10^9 bytes, as transformers reads it), "2GiB"
// (2^30), "500MB", "123" (bytes). False when it is not one, or zero.
bool parseByteSize(const std::string &text, uint64_t *out);

// The tensors the request selects, in document order, under the keys they get.
std::vector<NamedTensor> exportSelection(const Document &doc, const std::optional<std::string> &stateDict);

// Throws std::runtime_error naming the key or the file on failure; nothing is left
// half-written in the target's place.
ExportResult exportDocument(const Document &doc, const ExportRequest &request, const ExportOptions &options = {});

} // namespace te
