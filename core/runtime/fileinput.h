#pragma once
// Model inputs read from files: a picture (image:PATH[:OPTIONS], preprocessed as
// imagetransform.h says), a NumPy array (npy:PATH) or a tensor of any file this program
// opens (tensor:FILE#KEY, such as a torch.save dict). The values are not copied here: the
// input points at them (in the map, or in the preprocessed picture) and keeps them alive.
#include "core/runtime/runtimeapi.h"

#include <string>
#include <vector>

namespace te {

// Whether `text` names a file input ("image:", "npy:" or "tensor:").
bool isFileInputSpec(const std::string &text);

// Reads the file of a "data" input (spec->source) and points spec->data at its values.
// `modelShape`, the input the model expects ([1, 3, 224, 224] for a conv net), gives a
// picture its size and channels unless its options say; without one a picture is
// 224 x 224. False with *error naming the file and what is wrong.
bool loadFileInput(InputSpec *spec, const std::vector<int64_t> &modelShape, std::string *error);

} // namespace te
