// The runtime library: the only code that includes libtorch. It is loaded with dlopen by
// runtimeloader.cpp on first use and exports te_create_runtime.
#include "core/runtime/libtorch/programmodel.h"
#include "core/runtime/libtorch/torchmodel.h"

#include <torch/cuda.h>

namespace te {
namespace {

class TorchRuntime final : public Runtime {
public:
    std::string libtorchVersion() const override { return TORCH_VERSION; }

    std::vector<RuntimeDevice> devices() const override
    {
        std::vector<RuntimeDevice> out;
        out.push_back({"cpu", "CPU", 0});
        if (torch::cuda::is_available()) {
            for (size_t i = 0; i < torch::cuda::device_count(); ++i)
                out.push_back({"cuda:" + std::to_string(i), "CUDA device " + std::to_string(i), 0});
        }
        if (at::hasMPS())
            out.push_back({"mps", "Apple Metal (MPS)", 0});
        return out;
    }

    MaterialisedTensor materialise(const TensorSource &src, const std::string &device, size_t firstCount) override
    {
        MaterialisedTensor m;
        try {
            std::string error;
            at::Tensor view = tensorViewOfSource(src, &error);
            if (!view.defined()) {
                m.error = error;
                return m;
            }
            // One read of the bytes: straight from the map to the device (on the CPU a
            // view; everything below is computed before returning, while the map lives).
            torch::Device dev(device);
            at::Tensor t = view.to(dev);
            m.device = t.device().str();
            m.dtype = src.dtype;
            m.shape = t.sizes().vec();
            at::Tensor flat = t.reshape({-1});
            if (t.is_complex()) {
                m.sum = torch::real(flat).to(torch::kDouble).sum().item<double>();
                m.sumImag = torch::imag(flat).to(torch::kDouble).sum().item<double>();
            } else {
                m.sum = flat.to(torch::kDouble).sum().item<double>();
            }
            int64_t n = std::min<int64_t>(static_cast<int64_t>(firstCount), flat.numel());
            at::Tensor head =
                (t.is_complex() ? torch::real(flat) : flat).slice(0, 0, n).to(torch::kCPU, torch::kDouble).contiguous();
            m.first.assign(head.data_ptr<double>(), head.data_ptr<double>() + n);
            m.ok = true;
        } catch (const std::exception &e) {
            m.error = readableError(e.what());
        }
        return m;
    }

    std::unique_ptr<LoadedModel> loadModel(const std::string &path, const std::string &device,
                                           std::string *error) override
    {
        try {
            torch::Device dev(device);
            return std::make_unique<TorchModel>(torch::jit::load(path, dev), dev);
        } catch (const std::exception &e) {
            *error = readableError(e.what());
            return nullptr;
        }
    }

    std::unique_ptr<LoadedModel> loadProgram(const ProgramSource &source, const std::string &device,
                                             std::string *error) override
    {
        return loadProgramModel(source, device, error);
    }
};

} // namespace
} // namespace te

extern "C" __attribute__((visibility("default"))) te::Runtime *te_create_runtime(int abiVersion)
{
    if (abiVersion != te::kRuntimeAbiVersion)
        return nullptr;
    static te::TorchRuntime runtime;
    return &runtime;
}
