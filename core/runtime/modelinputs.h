#pragma once
// Inputs for a model run without libtorch: parsing the CLI's input specs, guessing
// shapes from the model's first layer, and the bytes of a document tensor for the runtime.
#include "runtimeapi.h"
#include "../model/document.h"

#include <string>
#include <vector>

namespace te {

// "fill[(a,b)]:AxBxC[:dtype]" for tensors (fill: ones zeros randn arange linspace full),
// "value:TEXT" for other arguments. False with *error set when malformed.
bool parseInputSpec(const std::string &text, InputSpec *spec, std::string *error);
std::string inputSpecText(const InputSpec &spec);

// One input per forward argument without a default: tensors shaped from the first layer
// ([1, C, 224, 224] for a conv, [1, in_features] for a linear, token ids for an
// embedding), other arguments from their type.
std::vector<InputSpec> guessInputs(const Document &model, const std::vector<ArgumentInfo> &arguments);

// The arguments of a TorchScript forward signature as code/ writes it
// ("forward(self: __torch__.Net, x: Tensor, k: int=3) -> Tensor"), self left out.
std::vector<ArgumentInfo> parseForwardSignature(const std::string &signature);

// The tensor's bytes as the runtime takes them; false with *error when unreadable.
bool tensorSource(const Document &doc, int tensor, TensorSource *source, std::string *error);

} // namespace te
