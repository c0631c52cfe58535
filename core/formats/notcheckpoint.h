#pragma once
// What a file is when it is not a checkpoint, and what to do about it: the files users
// meet every day instead of a model (a Git LFS pointer, a saved login page, a download
// cut short) and other model formats recognised by their magic.
#include "core/io/mappedfile.h"

#include <string>
#include <vector>

namespace te {

// A sentence for "not a PyTorch file: <it>", e.g. "a Git LFS pointer, not the file
// itself: ...". Never empty.
std::string describeNotCheckpoint(const MappedFile &file);

// For a zip archive without the data.pkl torch.save writes: a torch.export program, a
// NumPy .npz, a Keras 3 model, or another zip. `names` are the member names.
std::string describeZipWithoutPickle(const std::vector<std::string> &names);

// "its header says N bytes of JSON follow but only M do: ..." for a safetensors header
// length that runs past the end of a file of `size` bytes.
std::string safetensorsCutShort(uint64_t headerLength, uint64_t size);

} // namespace te
