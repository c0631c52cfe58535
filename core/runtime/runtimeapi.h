#pragma once
// The small interface between the program and the libtorch runtime library. It includes
// no torch header: the executables link only core, and load the runtime with dlopen when
// the user first asks for a device or a run (DESIGN.md: linking libtorch costs every
// process about half a second and 160 MiB before main, and it may not be installed).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace te {

constexpr int kRuntimeAbiVersion = 3;

struct RuntimeDevice {
    std::string id;   // "cpu", "cuda:0", "mps"
    std::string name; // "CPU", "NVIDIA H200"
    uint64_t memoryBytes = 0;
};

// A tensor of a document described by its bytes, for libtorch to build on a device.
struct TensorSource {
    const void *storage = nullptr; // first byte of the storage
    uint64_t storageBytes = 0;
    std::string dtype; // PyTorch name: "float32", "bfloat16"...
    std::vector<int64_t> shape;
    std::vector<int64_t> strides;
    int64_t storageOffset = 0; // in elements
};

// What libtorch computed from a materialised tensor.
struct MaterialisedTensor {
    bool ok = false;
    std::string error;
    std::string device; // where it now lives
    std::string dtype;
    std::vector<int64_t> shape;
    double sum = 0, sumImag = 0; // float64 sums computed by libtorch
    std::vector<double> first;   // first values, row-major
};

// One argument of forward, as TorchScript declares it.
struct ArgumentInfo {
    std::string name;
    std::string type;         // "Tensor", "int", "float", "bool", "List[int]", "Optional[Tensor]"...
    std::string defaultValue; // empty when none
};

// How to make one input. Tensors: fill is ones, zeros, randn, arange, linspace or full
// with fillArgs (randn: seed; arange: start, step; linspace: low, high; full: value).
// Other arguments: `text` is the value ("3", "0.5", "true", "1,2,3").
struct InputSpec {
    std::string name;
    bool isTensor = true;
    std::string fill = "ones";
    std::vector<double> fillArgs;
    std::vector<int64_t> shape;
    std::string dtype = "float32";
    std::string type; // for non-tensors: int, float, bool, List[int], List[float], str
    std::string text;
};

struct OutputValue {
    std::string path; // "" for a single tensor, "0", "logits", "1.hidden"...
    bool isTensor = true;
    std::vector<int64_t> shape;
    std::string dtype;
    uint64_t numel = 0;
    double sum = 0;
    std::vector<double> values; // the first ones, row-major, as float64
    std::string text;           // non-tensor outputs
};

// Shared by a run and whoever waits for it: the run counts its forward passes (warm-up
// and timed) in `done` out of `total`, and stops before the next one once `stop` is set;
// one forward pass cannot be interrupted.
struct RunControl {
    std::atomic<int> done{0};
    std::atomic<int> total{0};
    std::atomic<bool> stop{false};
};

struct RunResult {
    bool ok = false;
    std::string error;    // trimmed to the readable part
    bool stopped = false; // stopped early: the timings cover the runs done before
    int requested = 0;    // timed runs asked for
    std::string device;
    std::vector<OutputValue> outputs;
    std::vector<double> latenciesMs;
    double minMs = 0, medianMs = 0, p95Ms = 0;
};

// A TorchScript model loaded on a device. Running executes the model's code.
class LoadedModel {
public:
    virtual ~LoadedModel() = default;
    virtual std::string device() const = 0;
    virtual std::vector<ArgumentInfo> forwardArguments() const = 0;
    // Shapes of every parameter and buffer by state_dict() name.
    virtual std::vector<std::pair<std::string, std::vector<int64_t>>> stateShapes() const = 0;
    // Copies a tensor into the parameter or buffer `key`; the shape must match (libtorch's
    // setattr does not check it). Returns an error text, empty on success.
    virtual std::string setTensor(const std::string &key, const TensorSource &source) = 0;
    virtual std::string moveTo(const std::string &device) = 0;
    // `warmup` untimed forward passes, then `repeats` timed ones; the outputs of the last,
    // up to maxValues values each. `control` (may be null) reports progress and stops.
    virtual RunResult run(const std::vector<InputSpec> &inputs, int warmup, int repeats, size_t maxValues,
                          RunControl *control) = 0;
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
    // Loads TorchScript with torch::jit::load; null with *error set when it fails.
    virtual std::unique_ptr<LoadedModel> loadModel(const std::string &path, const std::string &device,
                                                   std::string *error) = 0;
};

} // namespace te

// The runtime library's one exported symbol; returns null if the ABI differs.
extern "C" te::Runtime *te_create_runtime(int abiVersion);
