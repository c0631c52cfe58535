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

constexpr int kRuntimeAbiVersion = 5;

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
    // What the model was exported with (a torch.export program), when known.
    std::vector<int64_t> shape;
    std::string dtype;
};

// A torch.export program: the serialized ExportedProgram (models/<name>.json of a .pt2)
// and the tensors its signature names: weights by state-dict name, tensor constants by
// theirs.
struct ProgramSource {
    std::string programJson;
    std::vector<std::pair<std::string, TensorSource>> tensors;
};

// How to make one input. Tensors: fill is ones, zeros, randn, arange, linspace or full
// with fillArgs (randn: seed; arange: start, step; linspace: low, high; full: value), or
// "data": values from a file (an image, a .npy array, a tensor of a torch.save file),
// whose bytes `data` describes and `owner` keeps alive; they are cast to `dtype`.
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
    std::string source; // fill "data": the spec as given ("image:cat.png:imagenet", "npy:x.npy")
    TensorSource data;
    std::shared_ptr<const void> owner;
};

// One of the largest scores of a class-score output, with its softmax probability.
struct TopClass {
    int64_t index = 0;
    double score = 0, probability = 0;
};

struct OutputValue {
    std::string path; // "" for a single tensor, "0", "logits", "1.hidden"...
    bool isTensor = true;
    std::vector<int64_t> shape;
    std::string dtype;
    uint64_t numel = 0;
    double sum = 0;
    std::vector<double> values; // the first ones, row-major, as float64
    std::vector<TopClass> top;  // class scores ([N] or [1, N], N > 1, floating): the best first
    std::string text;           // non-tensor outputs
};

// What one submodule call returned in a run, in the order the calls finished (a module
// called twice appears twice; a container after its children). Statistics in float64
// over the finite values (std unbiased, as torch.std), NaN and infinities counted.
struct LayerOutput {
    std::string path; // "features.0"; "[i]" appended for the i-th tensor of several
    std::string type; // the module's class, "__torch__.torch.nn.modules.conv.Conv2d"
    std::vector<int64_t> shape;
    std::string dtype;
    uint64_t numel = 0, nans = 0, infs = 0;
    double sum = 0, mean = 0, std = 0, min = 0, max = 0;
    std::vector<float> values; // every value as float32, when RunRequest kept them
};

// What a run does: `warmup` untimed forward passes, `repeats` timed ones; of the outputs
// of the last, up to maxValues values each and the topK best classes; with `layers`, one
// more pass that records every submodule's output (the values of the first outputs up to
// layerValueBytes in all are kept for plotting).
struct RunRequest {
    int warmup = 1, repeats = 10;
    size_t maxValues = 1024;
    int topK = 5;
    bool layers = false;
    uint64_t layerValueBytes = 0;
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
    std::vector<LayerOutput> layers; // RunRequest::layers
    std::string layersNote;          // what the layer pass could not record, and why
};

// A TorchScript model or a torch.export program loaded on a device. Running executes the
// model's code, or the program's operator calls.
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
    // Runs as `request` says. `control` (may be null) reports progress and stops.
    virtual RunResult run(const std::vector<InputSpec> &inputs, const RunRequest &request, RunControl *control) = 0;
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
    // A torch.export program, run node by node through libtorch's operator dispatcher;
    // null with *error set when it cannot (operators this libtorch lacks are named).
    virtual std::unique_ptr<LoadedModel> loadProgram(const ProgramSource &source, const std::string &device,
                                                     std::string *error) = 0;
};

} // namespace te

// The runtime library's one exported symbol; returns null if the ABI differs.
extern "C" te::Runtime *te_create_runtime(int abiVersion);
