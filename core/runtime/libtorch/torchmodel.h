#pragma once
// Internal to the runtime library: LoadedModel over a torch::jit::script::Module.
#include "core/runtime/libtorch/torchtypes.h"

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

} // namespace te
