#pragma once
// PyTorch's distributed checkpoints (torch.distributed.checkpoint, "DCP"), as FSDP and
// large-scale trainers save them: a folder with a `.metadata` pickle (every tensor's
// global shape, dtype and chunks, and where each chunk's bytes lie) and the data files
// `__<rank>_<n>.distcp`, in which every chunk is a torch.save of that rank's piece and
// every other value a torch.save of the object, written one after the other.
// The folder becomes one document: the state dict nested as planner_data says (as
// dcp_to_torch_save would write it), a tensor per key with its global shape; a tensor of
// several chunks is assembled from them only when its values are wanted. Every chunk is
// checked: there, inside its file, readable, and together covering its tensor exactly
// once. The metadata and every chunk's pickle are scanned; nothing is unpickled.
#include "core/formats/documentreader.h"

namespace te {

// A folder holding a `.metadata` file, or the `.metadata` file itself.
bool isDcpCheckpoint(const std::string &path);
// Throws ReadError when the metadata cannot be read; problems of single chunks become
// errors of their tensors and warnings of the document.
std::unique_ptr<Document> readDcpDocument(const std::string &path, const ReadOptions &options = {});

} // namespace te
