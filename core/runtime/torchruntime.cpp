// The runtime library: the only code that includes libtorch. It is loaded with dlopen by
// runtimeloader.cpp on first use and exports te_create_runtime.
#include "runtimeapi.h"

#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

namespace te {
namespace {

#define TE_TORCH_AT_LEAST(major, minor) \
    (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

bool scalarType(const std::string &name, c10::ScalarType *out)
{
    static const std::pair<const char *, c10::ScalarType> table[] = {
        {"float32", c10::kFloat}, {"float64", c10::kDouble}, {"float16", c10::kHalf},
        {"bfloat16", c10::kBFloat16}, {"int64", c10::kLong}, {"int32", c10::kInt},
        {"int16", c10::kShort}, {"int8", c10::kChar}, {"uint8", c10::kByte}, {"bool", c10::kBool},
        {"complex64", c10::kComplexFloat}, {"complex128", c10::kComplexDouble},
        {"complex32", c10::kComplexHalf},
#if TE_TORCH_AT_LEAST(2, 1)
        {"float8_e4m3fn", c10::ScalarType::Float8_e4m3fn}, {"float8_e5m2", c10::ScalarType::Float8_e5m2},
#endif
#if TE_TORCH_AT_LEAST(2, 3)
        {"uint16", c10::ScalarType::UInt16}, {"uint32", c10::ScalarType::UInt32},
        {"uint64", c10::ScalarType::UInt64},
#endif
    };
    for (const auto &[n, t] : table) {
        if (name == n) {
            *out = t;
            return true;
        }
    }
    return false;
}

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
            c10::ScalarType type;
            if (!scalarType(src.dtype, &type)) {
                m.error = "dtype " + src.dtype + " is not supported by libtorch " TORCH_VERSION;
                return m;
            }
            torch::Device dev(device);
            // from_blob does not copy; the clone below owns its memory, so the tensor
            // outlives the mapped file. The caller has checked the bounds.
            auto base = static_cast<const uint8_t *>(src.storage) +
                        src.storageOffset * static_cast<int64_t>(c10::elementSize(type));
            at::Tensor view = torch::from_blob(const_cast<uint8_t *>(base), src.shape, src.strides,
                                               torch::TensorOptions().dtype(type));
            at::Tensor t = view.to(dev, /*non_blocking=*/false, /*copy=*/true);
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
            at::Tensor head = (t.is_complex() ? torch::real(flat) : flat).slice(0, 0, n).to(torch::kCPU, torch::kDouble).contiguous();
            m.first.assign(head.data_ptr<double>(), head.data_ptr<double>() + n);
            m.ok = true;
        } catch (const std::exception &e) {
            m.error = e.what();
        }
        return m;
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
