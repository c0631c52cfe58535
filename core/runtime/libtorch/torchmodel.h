#pragma once
// Internal to the runtime library: LoadedModel over a torch::jit::script::Module.
#include "core/runtime/libtorch/torchtypes.h"

#include <functional>

namespace te {

class TorchModel final : public LoadedModel {
public:
    TorchModel(torch::jit::script::Module module, torch::Device device);
    std::string device() const override;
    std::vector<ArgumentInfo> forwardArguments() const override;
    std::vector<std::pair<std::string, std::vector<int64_t>>> stateShapes() const override;
    std::string setTensor(const std::string &key, const TensorSource &source) override;
    std::string moveTo(const std::string &device) override;
    RunResult run(const std::vector<InputSpec> &inputs, const RunRequest &request, RunControl *control) override;

private:
    torch::jit::script::Module m_module;
    torch::Device m_device;
};

// The warm-up and timed forward passes of a run with inputs made from specs, the outputs
// of the last flattened; `afterwards` (may be empty) runs once more after them (the layer
// pass). Shared by TorchScript models and exported programs.
RunResult runTimed(const std::vector<InputSpec> &specs, const RunRequest &request, RunControl *control,
                   const torch::Device &device,
                   const std::function<c10::IValue(std::vector<c10::IValue> &inputs)> &forward,
                   const std::function<void(std::vector<c10::IValue> &inputs, RunResult &r)> &afterwards);

} // namespace te
