#pragma once
// The small interface between the program and the libtorch runtime library. It includes
// no torch header: the executables link only core, and load the runtime with dlopen when
// the user first asks for a device or a run (DESIGN.md: linking libtorch costs every
// process about half a second and 160 MiB before main, and it may not be installed).
#include <cstdint>
#include <string>
#include <vector>

namespace te {

constexpr int kRuntimeAbiVersion = 1;

struct RuntimeDevice {
    std::string id;      // "cpu", "cuda:0", "mps"
    std::string name;    // "CPU", "NVIDIA H200"
    uint64_t memoryBytes = 0;
};

// A tensor of a document described by its bytes, for libtorch to build on a device.
struct TensorSource {
    const void *storage = nullptr; // first byte of the storage
    uint64_t storageBytes = 0;
    std::string dtype;             // PyTorch name: "float32", "bfloat16"...
    std::vector<int64_t> shape;
    std::vector<int64_t> strides;
    int64_t storageOffset = 0;     // in elements
};

// What libtorch computed from a materialised tensor.
struct MaterialisedTensor {
    bool ok = false;
    std::string error;
    std::string device;            // where it now lives
    std::string dtype;
    std::vector<int64_t> shape;
    double sum = 0, sumImag = 0;   // float64 sums computed by libtorch
    std::vector<double> first;     // first values, row-major
};

class Runtime {
public:
    virtual ~Runtime() = default;
    virtual std::string libtorchVersion() const = 0;
    virtual std::vector<RuntimeDevice> devices() const = 0;
    // map_location: the tensor built from the file's bytes on `device`, whatever device
    // it was saved from; firstCount values are copied back.
    virtual MaterialisedTensor materialise(const TensorSource &source, const std::string &device,
                                           size_t firstCount) = 0;
};

} // namespace te

// The runtime library's one exported symbol; returns null if the ABI differs.
extern "C" te::Runtime *te_create_runtime(int abiVersion);
