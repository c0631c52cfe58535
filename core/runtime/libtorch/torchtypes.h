#pragma once
// Internal to the runtime library: PyTorch dtype names to libtorch scalar types, and a
// tensor of the document's bytes.
#include "core/runtime/runtimeapi.h"

#include <torch/script.h>
#include <torch/version.h>

#define TE_TORCH_AT_LEAST(major, minor)                                                                                \
    (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace te {

bool scalarTypeFromName(const std::string &name, c10::ScalarType *out);
std::string scalarTypeName(c10::ScalarType type);
// A CPU tensor over the source's bytes in the map, not a copy: reading it reads the file
// once. The caller copies what it keeps before the map can go away.
at::Tensor tensorViewOfSource(const TensorSource &source, std::string *error);
// The first line of a libtorch or TorchScript error, without the C++ backtrace.
std::string readableError(const std::string &what);

} // namespace te
