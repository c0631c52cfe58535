#include "core/runtime/libtorch/programmodel.h"
#include "core/runtime/libtorch/torchmodel.h"

#include <ATen/ScalarOps.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <stdexcept>

namespace te {
namespace {

using nlohmann::json;

// torch/_export/serde/schema.py's enums, to libtorch's.
c10::ScalarType scalarTypeOf(int64_t v)
{
    switch (v) {
    case 1: return c10::kByte;
    case 2: return c10::kChar;
    case 3: return c10::kShort;
    case 4: return c10::kInt;
    case 5: return c10::kLong;
    case 6: return c10::kHalf;
    case 7: return c10::kFloat;
    case 8: return c10::kDouble;
    case 9: return c10::kComplexHalf;
    case 10: return c10::kComplexFloat;
    case 11: return c10::kComplexDouble;
    case 12: return c10::kBool;
    case 13: return c10::kBFloat16;
    default:
        throw std::runtime_error("the program names a dtype (ScalarType " + std::to_string(v) +
                                 ") this runtime does not know");
    }
}

c10::MemoryFormat memoryFormatOf(int64_t v)
{
    switch (v) {
    case 1: return c10::MemoryFormat::Contiguous;
    case 2: return c10::MemoryFormat::ChannelsLast;
    case 3: return c10::MemoryFormat::ChannelsLast3d;
    case 4: return c10::MemoryFormat::Preserve;
    default: throw std::runtime_error("unknown memory format " + std::to_string(v));
    }
}

c10::Layout layoutOf(int64_t v)
{
    switch (v) {
    case 1: return c10::kSparse;
    case 7: return c10::kStrided;
    default: throw std::runtime_error("layout " + std::to_string(v) + " is not run here");
    }
}

// "torch.ops.aten.linear.default" -> {"aten::linear", ""}; false for other targets.
bool operatorName(const std::string &target, c10::OperatorName *out)
{
    const std::string prefix = "torch.ops.";
    if (target.compare(0, prefix.size(), prefix) != 0)
        return false;
    const std::string rest = target.substr(prefix.size());
    const size_t a = rest.find('.'), b = rest.rfind('.');
    if (a == std::string::npos || b == a)
        return false;
    const std::string overload = rest.substr(b + 1);
    *out = c10::OperatorName(rest.substr(0, a) + "::" + rest.substr(a + 1, b - a - 1),
                             overload == "default" ? std::string() : overload);
    return true;
}

std::string tensorName(const json &arg)
{
    if (arg.is_object() && arg.contains("as_tensor") && arg["as_tensor"].is_object())
        return arg["as_tensor"].value("name", "");
    if (arg.is_object() && arg.contains("name") && arg["name"].is_string())
        return arg["name"];
    return {};
}

struct Node {
    std::string target;
    std::optional<c10::OperatorHandle> op; // none for _operator.getitem
    std::map<std::string, json> inputs;    // by schema argument name
    std::vector<json> positional;          // getitem's (collection, index)
    std::vector<json> outputs;
};

class ProgramModel final : public LoadedModel {
public:
    ProgramModel(std::vector<Node> nodes, std::vector<json> outputs, std::map<std::string, at::Tensor> lifted,
                 std::map<std::string, std::string> stateNames, std::vector<ArgumentInfo> user, torch::Device device)
        : m_nodes(std::move(nodes))
        , m_outputs(std::move(outputs))
        , m_lifted(std::move(lifted))
        , m_stateNames(std::move(stateNames))
        , m_user(std::move(user))
        , m_device(device)
    { }

    std::string device() const override { return m_device.str(); }
    std::vector<ArgumentInfo> forwardArguments() const override { return m_user; }

    std::vector<std::pair<std::string, std::vector<int64_t>>> stateShapes() const override
    {
        std::vector<std::pair<std::string, std::vector<int64_t>>> out;
        for (const auto &[placeholder, name] : m_stateNames)
            out.emplace_back(name, m_lifted.at(placeholder).sizes().vec());
        return out;
    }

    std::string setTensor(const std::string &key, const TensorSource &source) override
    {
        for (const auto &[placeholder, name] : m_stateNames) {
            if (name != key)
                continue;
            std::string error;
            at::Tensor view = tensorViewOfSource(source, &error);
            if (!error.empty())
                return error;
            at::Tensor &target = m_lifted.at(placeholder);
            if (view.sizes() != target.sizes())
                return "shape mismatch for " + key;
            torch::NoGradGuard noGrad;
            target = view.to(m_device, target.scalar_type()).clone();
            return {};
        }
        return "the program has no weight " + key;
    }

    std::string moveTo(const std::string &device) override
    {
        try {
            torch::Device dev(device);
            for (auto &[name, t] : m_lifted)
                t = t.to(dev);
            m_device = dev;
            return {};
        } catch (const std::exception &e) {
            return readableError(e.what());
        }
    }

    RunResult run(const std::vector<InputSpec> &specs, const RunRequest &request, RunControl *control) override
    {
        RunResult r = runTimed(
            specs, request, control, m_device, [this](std::vector<c10::IValue> &inputs) { return forward(inputs); },
            [&request](std::vector<c10::IValue> &, RunResult &result) {
                if (request.layers)
                    result.layersNote = "an exported program has no submodules to record: its graph is flat";
            });
        return r;
    }

private:
    c10::IValue value(const json &arg, const c10::Argument *schema, std::map<std::string, c10::IValue> &env) const
    {
        if (!arg.is_object() || arg.empty())
            throw std::runtime_error("an argument is not a tagged value: " + arg.dump());
        const auto &[kind, v] = *arg.items().begin();
        auto tensor = [&](const json &t) {
            const std::string name = tensorName(t.is_object() && t.contains("as_tensor") ? t : json{{"as_tensor", t}});
            auto it = env.find(name);
            if (it == env.end())
                throw std::runtime_error("the graph uses " + name + " before it is computed");
            return it->second;
        };
        const bool wantsFloat = schema && schema->type()->kind() == c10::TypeKind::FloatType;
        if (kind == "as_none")
            return c10::IValue();
        if (kind == "as_tensor")
            return tensor(arg);
        if (kind == "as_tensors") {
            c10::List<at::Tensor> list;
            for (const auto &t : v)
                list.push_back(tensor(json{{"as_tensor", t}}).toTensor());
            return list;
        }
        if (kind == "as_optional_tensors") {
            c10::List<c10::optional<at::Tensor>> list;
            for (const auto &t : v)
                list.push_back(t.contains("as_none") ? c10::optional<at::Tensor>()
                                                     : c10::optional<at::Tensor>(tensor(t["as_tensor"]).toTensor()));
            return list;
        }
        if (kind == "as_int" || kind == "as_sym_int") {
            if (v.is_object() && v.contains("as_name"))
                return env.at(v["as_name"].get<std::string>());
            const int64_t n = v.is_object() ? v.value("as_int", int64_t(0)) : v.get<int64_t>();
            return wantsFloat ? c10::IValue(static_cast<double>(n)) : c10::IValue(n);
        }
        if (kind == "as_float" || kind == "as_sym_float")
            return v.is_object() ? c10::IValue(v.value("as_float", 0.0)) : c10::IValue(v.get<double>());
        if (kind == "as_bool" || kind == "as_sym_bool")
            return v.is_object() ? c10::IValue(v.value("as_bool", false)) : c10::IValue(v.get<bool>());
        if (kind == "as_string")
            return c10::IValue(v.get<std::string>());
        if (kind == "as_ints" || kind == "as_sym_ints") {
            std::vector<int64_t> out;
            for (const auto &i : v)
                out.push_back(i.is_object() ? i.value("as_int", int64_t(0)) : i.get<int64_t>());
            return c10::IValue(out);
        }
        if (kind == "as_floats")
            return c10::IValue(v.get<std::vector<double>>());
        if (kind == "as_bools") {
            c10::List<bool> list;
            for (const auto &b : v)
                list.push_back(b.get<bool>());
            return list;
        }
        if (kind == "as_scalar_type")
            return c10::IValue(static_cast<int64_t>(scalarTypeOf(v.get<int64_t>())));
        if (kind == "as_memory_format")
            return c10::IValue(static_cast<int64_t>(memoryFormatOf(v.get<int64_t>())));
        if (kind == "as_layout")
            return c10::IValue(static_cast<int64_t>(layoutOf(v.get<int64_t>())));
        if (kind == "as_device") // the program's device becomes the run's, as map_location does
            return c10::IValue(m_device);
        throw std::runtime_error("arguments of kind " + kind + " are not run here");
    }

    void bind(const json &out, const c10::IValue &v, std::map<std::string, c10::IValue> &env) const
    {
        if (!out.is_object() || out.empty())
            return;
        const auto &[kind, spec] = *out.items().begin();
        if (kind == "as_tensor")
            env[spec.value("name", "")] = v;
        else if (kind == "as_tensors") {
            auto list = v.toTensorList();
            for (size_t i = 0; i < spec.size() && i < list.size(); ++i)
                env[spec[i].value("name", "")] = list.get(i);
        } else if ((kind == "as_int" || kind == "as_sym_int") && spec.is_object() && spec.contains("as_name"))
            env[spec["as_name"].get<std::string>()] = v;
    }

    c10::IValue forward(std::vector<c10::IValue> &inputs) const
    {
        std::map<std::string, c10::IValue> env;
        for (const auto &[name, t] : m_lifted)
            env[name] = t;
        for (size_t i = 0; i < m_user.size() && i < inputs.size(); ++i)
            env[m_user[i].name] = inputs[i];
        for (const Node &n : m_nodes) {
            if (!n.op) { // _operator.getitem(collection, index)
                const c10::IValue collection = value(n.positional.at(0), nullptr, env);
                const int64_t index = value(n.positional.at(1), nullptr, env).toInt();
                const c10::IValue item = collection.isTuple()
                                             ? collection.toTupleRef().elements().at(static_cast<size_t>(index))
                                             : collection.toListRef().at(static_cast<size_t>(index));
                if (!n.outputs.empty())
                    bind(n.outputs.front(), item, env);
                continue;
            }
            const c10::FunctionSchema &schema = n.op->schema();
            torch::jit::Stack stack;
            for (const c10::Argument &a : schema.arguments()) {
                auto it = n.inputs.find(a.name());
                if (it != n.inputs.end()) {
                    c10::IValue v = value(it->second, &a, env);
                    // A Python number where the schema takes a Tensor (x * 0.5 exports as
                    // mul.Tensor): a wrapped number, as Python's binding makes it.
                    if (a.type()->kind() == c10::TypeKind::TensorType && (v.isDouble() || v.isInt() || v.isBool()))
                        v = at::native::wrapped_scalar_tensor(v.toScalar(), m_device);
                    stack.push_back(std::move(v));
                } else if (a.default_value())
                    stack.push_back(*a.default_value());
                else
                    throw std::runtime_error(n.target + " is called without its argument " + a.name());
            }
            n.op->callBoxed(&stack);
            if (n.outputs.size() == stack.size()) {
                for (size_t i = 0; i < stack.size(); ++i)
                    bind(n.outputs[i], stack[i], env);
            } else if (n.outputs.size() == 1) { // several returns named as one tuple
                bind(n.outputs.front(),
                     c10::ivalue::Tuple::create(std::vector<c10::IValue>(stack.begin(), stack.end())), env);
            }
        }
        std::vector<c10::IValue> results;
        for (const json &o : m_outputs)
            results.push_back(value(o, nullptr, env));
        if (results.size() == 1)
            return results.front();
        return c10::ivalue::Tuple::create(std::move(results));
    }

    std::vector<Node> m_nodes;
    std::vector<json> m_outputs;
    std::map<std::string, at::Tensor> m_lifted;      // placeholder -> weight, buffer or constant
    std::map<std::string, std::string> m_stateNames; // placeholder -> state-dict name
    std::vector<ArgumentInfo> m_user;
    torch::Device m_device;
};

std::vector<int64_t> metaShape(const json &meta)
{
    std::vector<int64_t> shape;
    if (meta.is_object() && meta.contains("sizes"))
        for (const auto &s : meta["sizes"])
            shape.push_back(s.is_object() ? s.value("as_int", int64_t(-1)) : -1);
    return shape;
}

} // namespace

std::unique_ptr<LoadedModel> loadProgramModel(const ProgramSource &source, const std::string &deviceName,
                                              std::string *error)
{
    try {
        const json program = json::parse(source.programJson);
        const json &gm = program.at("graph_module");
        const json &graph = gm.at("graph");
        const json values = graph.value("tensor_values", json::object());
        torch::Device device(deviceName);
        std::map<std::string, const TensorSource *> tensors;
        for (const auto &[name, t] : source.tensors)
            tensors[name] = &t;

        std::map<std::string, at::Tensor> lifted;
        std::map<std::string, std::string> stateNames;
        std::vector<ArgumentInfo> user;
        for (const json &spec : gm.at("signature").at("input_specs")) {
            if (!spec.is_object() || spec.size() != 1)
                throw std::runtime_error("an input spec is not one tagged value: " + spec.dump().substr(0, 200));
            const auto &[kind, s] = *spec.items().begin();
            if (kind == "user_input") {
                const std::string name = tensorName(s.at("arg"));
                if (name.empty())
                    throw std::runtime_error("a user input that is not a tensor is not run here: " + s.dump());
                ArgumentInfo a;
                a.name = name;
                a.type = "Tensor";
                if (values.contains(name)) {
                    a.shape = metaShape(values[name]);
                    const int64_t dt = values[name].value("dtype", int64_t(7));
                    a.dtype = scalarTypeName(scalarTypeOf(dt));
                }
                user.push_back(std::move(a));
                continue;
            }
            const char *field = kind == "parameter"         ? "parameter_name"
                                : kind == "buffer"          ? "buffer_name"
                                : kind == "tensor_constant" ? "tensor_constant_name"
                                                            : nullptr;
            if (!field)
                throw std::runtime_error("inputs of kind " + kind + " (" + s.dump() + ") are not run here");
            const std::string placeholder = tensorName(s.at("arg")), name = s.at(field).get<std::string>();
            auto it = tensors.find(name);
            if (it == tensors.end())
                throw std::runtime_error("the program's " + kind + " " + name + " is not among the archive's tensors");
            std::string viewError;
            at::Tensor view = tensorViewOfSource(*it->second, &viewError);
            if (!viewError.empty())
                throw std::runtime_error(name + ": " + viewError);
            lifted[placeholder] = view.to(device).clone();
            if (kind != "tensor_constant")
                stateNames[placeholder] = name;
        }
        // Every operator is looked up before anything runs: those missing are named together.
        std::vector<Node> nodes;
        std::vector<std::string> missing, unsupported;
        for (const json &jn : graph.at("nodes")) {
            Node n;
            n.target = jn.at("target").get<std::string>();
            n.outputs = jn.value("outputs", std::vector<json>());
            c10::OperatorName name("", "");
            if (n.target == "_operator.getitem") {
                for (const json &in : jn.at("inputs"))
                    n.positional.push_back(in.at("arg"));
                if (n.positional.size() != 2)
                    unsupported.push_back(n.target + " with " + std::to_string(n.positional.size()) + " arguments");
            } else if (!operatorName(n.target, &name)) {
                unsupported.push_back(n.target);
            } else if (auto op = c10::Dispatcher::singleton().findSchema(name)) {
                n.op = *op;
                for (const json &in : jn.at("inputs"))
                    n.inputs[in.at("name").get<std::string>()] = in.at("arg");
            } else {
                missing.push_back(name.name + (name.overload_name.empty() ? "" : "." + name.overload_name));
            }
            nodes.push_back(std::move(n));
        }
        auto joined = [](std::vector<std::string> v) {
            std::sort(v.begin(), v.end());
            v.erase(std::unique(v.begin(), v.end()), v.end());
            std::string s;
            for (const auto &x : v)
                s += (s.empty() ? "" : ", ") + x;
            return s;
        };
        if (!missing.empty())
            throw std::runtime_error("operators the installed libtorch (" TORCH_VERSION ") lacks: " + joined(missing) +
                                     "; the program was exported by a newer PyTorch");
        if (!unsupported.empty())
            throw std::runtime_error("graph calls this runtime does not execute: " + joined(unsupported));
        return std::make_unique<ProgramModel>(std::move(nodes), graph.at("outputs").get<std::vector<json>>(),
                                              std::move(lifted), std::move(stateNames), std::move(user), device);
    } catch (const std::exception &e) {
        *error = readableError(e.what());
        return nullptr;
    }
}

} // namespace te
