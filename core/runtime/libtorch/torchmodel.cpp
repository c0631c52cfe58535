// A TorchScript model on a device: its forward arguments, its parameters and buffers for
// applying weights (shapes checked here), and timed runs with inputs made from specs.
#include "core/runtime/libtorch/torchmodel.h"
#include "core/runtime/libtorch/layercapture.h"

#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <sstream>

namespace te {
namespace {

std::vector<int64_t> parseInts(const std::string &text)
{
    std::vector<int64_t> out;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ','))
        if (!part.empty())
            out.push_back(std::stoll(part));
    return out;
}

std::vector<double> parseDoubles(const std::string &text)
{
    std::vector<double> out;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ','))
        if (!part.empty())
            out.push_back(std::stod(part));
    return out;
}

double arg(const InputSpec &s, size_t i, double fallback) { return i < s.fillArgs.size() ? s.fillArgs[i] : fallback; }

at::Tensor makeTensor(const InputSpec &s, const torch::Device &device)
{
    c10::ScalarType type;
    if (!scalarTypeFromName(s.dtype, &type))
        throw std::runtime_error("input " + s.name + ": unknown dtype " + s.dtype);
    if (s.fill == "data") {
        // From a file: a copy of the values (the map may go before the model runs again).
        std::string error;
        at::Tensor view = tensorViewOfSource(s.data, &error);
        if (!view.defined())
            throw std::runtime_error("input " + s.name + ": " + error);
        return view.to(type).clone().to(device);
    }
    int64_t numel = 1;
    for (int64_t d : s.shape) {
        if (d < 0)
            throw std::runtime_error("input " + s.name + ": negative dimension");
        numel *= d;
    }
    // Values are made in float64 on the CPU, so every fill gives the same numbers on
    // every device, then cast and moved.
    auto f64 = torch::TensorOptions().dtype(torch::kDouble);
    at::Tensor t;
    if (s.fill == "ones")
        t = torch::ones(s.shape, f64);
    else if (s.fill == "zeros")
        t = torch::zeros(s.shape, f64);
    else if (s.fill == "full")
        t = torch::full(s.shape, arg(s, 0, 0.0), f64);
    else if (s.fill == "randn") {
        auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(arg(s, 0, 0.0)));
        t = at::randn(s.shape, gen, f64);
    } else if (s.fill == "arange")
        t = (torch::arange(numel, f64) * arg(s, 1, 1.0) + arg(s, 0, 0.0)).reshape(s.shape);
    else if (s.fill == "linspace")
        t = torch::linspace(arg(s, 0, 0.0), arg(s, 1, 1.0), numel, f64).reshape(s.shape);
    else
        throw std::runtime_error("input " + s.name + ": unknown fill " + s.fill);
    return t.to(type).to(device);
}

c10::IValue makeValue(const InputSpec &s, const torch::Device &device)
{
    if (s.isTensor)
        return makeTensor(s, device);
    const std::string &t = s.type;
    if (t == "int")
        return static_cast<int64_t>(std::stoll(s.text));
    if (t == "float")
        return std::stod(s.text);
    if (t == "bool")
        return s.text == "true" || s.text == "True" || s.text == "1";
    if (t == "str")
        return s.text;
    if (t == "List[int]")
        return c10::List<int64_t>(parseInts(s.text));
    if (t == "List[float]")
        return c10::List<double>(parseDoubles(s.text));
    if (t.rfind("Optional", 0) == 0 && (s.text.empty() || s.text == "None"))
        return c10::IValue();
    throw std::runtime_error("input " + s.name + ": arguments of type " + t + " cannot be made here");
}

// The best classes of a class-score output: a floating tensor [N] or [1, N], N > 1.
std::vector<TopClass> topClasses(const at::Tensor &t, int k)
{
    std::vector<TopClass> out;
    const bool scores = t.is_floating_point() && (t.dim() == 1 || (t.dim() == 2 && t.size(0) == 1));
    if (!scores || k <= 0 || t.numel() < 2)
        return out;
    at::Tensor row = t.reshape({-1}).to(torch::kCPU, torch::kDouble);
    at::Tensor probabilities = torch::softmax(row, 0);
    auto [values, indices] = row.topk(std::min<int64_t>(k, row.numel()));
    for (int64_t i = 0; i < values.numel(); ++i) {
        const int64_t index = indices[i].item<int64_t>();
        out.push_back({index, values[i].item<double>(), probabilities[index].item<double>()});
    }
    return out;
}

void flatten(const c10::IValue &v, const std::string &path, const RunRequest &request, std::vector<OutputValue> *out)
{
    const size_t maxValues = request.maxValues;
    auto join = [&](const std::string &name) { return path.empty() ? name : path + "." + name; };
    if (v.isTensor()) {
        at::Tensor t = v.toTensor().detach();
        OutputValue o;
        o.path = path;
        o.shape = t.sizes().vec();
        o.dtype = scalarTypeName(t.scalar_type());
        o.numel = static_cast<uint64_t>(t.numel());
        at::Tensor flat = (t.is_complex() ? torch::real(t) : t).reshape({-1}).to(torch::kCPU, torch::kDouble);
        o.sum = flat.numel() ? flat.sum().item<double>() : 0.0;
        const int64_t n = std::min<int64_t>(static_cast<int64_t>(maxValues), flat.numel());
        at::Tensor head = flat.slice(0, 0, n).contiguous();
        o.values.assign(head.data_ptr<double>(), head.data_ptr<double>() + n);
        o.top = topClasses(t, request.topK);
        out->push_back(std::move(o));
    } else if (v.isTuple()) {
        const auto &elements = v.toTupleRef().elements();
        for (size_t i = 0; i < elements.size(); ++i)
            flatten(elements[i], join(std::to_string(i)), request, out);
    } else if (v.isList()) {
        auto list = v.toListRef();
        for (size_t i = 0; i < list.size(); ++i)
            flatten(list[i], join(std::to_string(i)), request, out);
    } else if (v.isGenericDict()) {
        for (const auto &item : v.toGenericDict()) {
            std::ostringstream key;
            key << item.key();
            std::string k = key.str();
            if (item.key().isString())
                k = item.key().toStringRef();
            flatten(item.value(), join(k), request, out);
        }
    } else {
        OutputValue o;
        o.path = path;
        o.isTensor = false;
        std::ostringstream text;
        text << v;
        o.text = text.str();
        out->push_back(std::move(o));
    }
}

void synchronize(const torch::Device &device)
{
    if (device.is_cuda())
        torch::cuda::synchronize(device.index());
}

} // namespace

TorchModel::TorchModel(torch::jit::script::Module module, torch::Device device)
    : m_module(std::move(module))
    , m_device(device)
{
    m_module.eval();
}

std::string TorchModel::device() const { return m_device.str(); }

std::vector<ArgumentInfo> TorchModel::forwardArguments() const
{
    std::vector<ArgumentInfo> out;
    const auto &schema = m_module.get_method("forward").function().getSchema();
    const auto &args = schema.arguments();
    for (size_t i = 1; i < args.size(); ++i) { // argument 0 is self
        ArgumentInfo a;
        a.name = args[i].name();
        a.type = args[i].type()->annotation_str();
        if (args[i].default_value()) {
            std::ostringstream d;
            d << *args[i].default_value();
            a.defaultValue = d.str();
        }
        out.push_back(std::move(a));
    }
    return out;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> TorchModel::stateShapes() const
{
    std::vector<std::pair<std::string, std::vector<int64_t>>> out;
    for (const auto &p : m_module.named_parameters(true))
        out.emplace_back(p.name, p.value.sizes().vec());
    for (const auto &b : m_module.named_buffers(true))
        out.emplace_back(b.name, b.value.sizes().vec());
    return out;
}

std::string TorchModel::setTensor(const std::string &key, const TensorSource &source)
{
    try {
        at::Tensor target;
        for (const auto &p : m_module.named_parameters(true))
            if (p.name == key)
                target = p.value;
        if (!target.defined())
            for (const auto &b : m_module.named_buffers(true))
                if (b.name == key)
                    target = b.value;
        if (!target.defined())
            return "the model has no parameter or buffer " + key;
        if (target.sizes().vec() != source.shape && !(target.dim() == 0 && source.shape == std::vector<int64_t>{1}))
            return "size mismatch for " + key;
        std::string error;
        at::Tensor value = tensorViewOfSource(source, &error);
        if (!value.defined())
            return error;
        torch::NoGradGuard noGrad;
        value = value.reshape(target.sizes());
        // One tensor at a time, read once from the mapped file: on the CPU copy_ reads the
        // map straight into the parameter. For a GPU the bytes go through pinned memory
        // (the one read) so the copy to the device can run asynchronously; run()
        // synchronises before timing.
        if (target.is_cuda())
            value = value.pin_memory();
        // copy_ casts the dtype as load_state_dict does, and writes in place, so the
        // module keeps its own parameter objects on its device.
        target.copy_(value, /*non_blocking=*/target.is_cuda());
        return {};
    } catch (const std::exception &e) {
        return readableError(e.what());
    }
}

std::string TorchModel::moveTo(const std::string &device)
{
    try {
        torch::Device d(device);
        m_module.to(d);
        m_device = d;
        return {};
    } catch (const std::exception &e) {
        return readableError(e.what());
    }
}

RunResult runTimed(const std::vector<InputSpec> &specs, const RunRequest &request, RunControl *control,
                   const torch::Device &device,
                   const std::function<c10::IValue(std::vector<c10::IValue> &inputs)> &forward,
                   const std::function<void(std::vector<c10::IValue> &inputs, RunResult &r)> &afterwards)
{
    RunResult r;
    r.device = device.str();
    r.requested = std::max(request.repeats, 1);
    const int warmup = std::max(request.warmup, 0);
    RunControl none;
    RunControl &progress = control ? *control : none;
    progress.total = warmup + r.requested + (request.layers ? 1 : 0);
    try {
        torch::NoGradGuard noGrad;
        std::vector<c10::IValue> inputs;
        for (const auto &s : specs)
            inputs.push_back(makeValue(s, device));
        c10::IValue output;
        for (int i = 0; i < warmup && !progress.stop; ++i) {
            output = forward(inputs);
            ++progress.done;
        }
        synchronize(device);
        for (int i = 0; i < r.requested && !progress.stop; ++i) {
            auto start = std::chrono::steady_clock::now();
            output = forward(inputs);
            synchronize(device);
            auto end = std::chrono::steady_clock::now();
            r.latenciesMs.push_back(std::chrono::duration<double, std::milli>(end - start).count());
            ++progress.done;
        }
        r.stopped = static_cast<int>(r.latenciesMs.size()) < r.requested;
        if (r.latenciesMs.empty()) {
            r.error = "stopped before the first timed run";
            return r;
        }
        std::vector<double> sorted = r.latenciesMs;
        std::sort(sorted.begin(), sorted.end());
        r.minMs = sorted.front();
        r.medianMs = sorted[sorted.size() / 2];
        r.p95Ms = sorted[std::min(sorted.size() - 1, static_cast<size_t>(0.95 * static_cast<double>(sorted.size())))];
        flatten(output, "", request, &r.outputs);
        if (afterwards && !progress.stop) {
            afterwards(inputs, r);
            if (request.layers)
                ++progress.done;
        }
        r.ok = true;
    } catch (const std::exception &e) {
        r.error = readableError(e.what());
    }
    return r;
}

RunResult TorchModel::run(const std::vector<InputSpec> &specs, const RunRequest &request, RunControl *control)
{
    return runTimed(
        specs, request, control, m_device,
        [this](std::vector<c10::IValue> &inputs) { return m_module.forward(inputs); },
        [this, &request](std::vector<c10::IValue> &inputs, RunResult &r) {
            if (request.layers)
                r.layers = captureLayers(m_module, inputs, request.layerValueBytes, &r.layersNote);
        });
}

} // namespace te
