#pragma once
// Inputs for a model run without libtorch: parsing the CLI's input specs, guessing
// shapes from the model's first layer, and the bytes of a document tensor for the runtime.
#include "core/document/document.h"
#include "core/runtime/runtimeapi.h"

#include <string>
#include <vector>

namespace te {

// "fill[(a,b)]:AxBxC[:dtype]" for tensors (fill: ones zeros randn arange linspace full),
// "image:PATH[:OPTIONS]", "npy:PATH" or "tensor:FILE#KEY" for values from a file (fill
// "data", read later by loadFileInput), "value:TEXT" for other arguments. False with
// *error set when malformed.
bool parseInputSpec(const std::string &text, InputSpec *spec, std::string *error);
std::string inputSpecText(const InputSpec &spec);
// The fields of a spec or of its options: "a,,b" split at ',' is {"a", "", "b"}.
std::vector<std::string> specFields(const std::string &text, char separator);

// One input per forward argument without a default: tensors shaped from the first layer
// ([1, C, 224, 224] for a conv, [1, in_features] for a linear, token ids for an
// embedding), other arguments from their type.
std::vector<InputSpec> guessInputs(const Document &model, const std::vector<ArgumentInfo> &arguments);

// The arguments of a TorchScript forward signature as code/ writes it
// ("forward(self: __torch__.Net, x: Tensor, k: int=3) -> Tensor"), self left out.
std::vector<ArgumentInfo> parseForwardSignature(const std::string &signature);

// What placing the model needs: the bytes of its parameters and buffers, and a rough
// activation estimate for the inputs (four times their size per layer of modules).
uint64_t modelBytes(const Document &model);
uint64_t activationEstimate(const Document &model, const std::vector<InputSpec> &inputs);
// MemAvailable of /proc/meminfo; 0 when unknown.
uint64_t availableHostMemory();
// Empty when it fits; otherwise the message to refuse with.
std::string memoryCheck(const Document &model, const std::vector<InputSpec> &inputs, const std::string &device);

// The tensor's bytes as the runtime takes them; false with *error when unreadable.
bool tensorSource(const Document &doc, int tensor, TensorSource *source, std::string *error);

// What the runtime needs to run a torch.export program (.pt2): its first model's
// serialized program and every tensor of the archive by name (weights by state-dict name,
// the tensor constants the archive holds by theirs); false with *error when unreadable.
bool programSource(const Document &doc, ProgramSource *source, std::string *error);
// An exported program's user inputs with the shapes and dtypes it was exported with,
// from the document's description of its first model ("x: float32[2, 4]").
std::vector<ArgumentInfo> programArguments(const Document &doc);

} // namespace te
