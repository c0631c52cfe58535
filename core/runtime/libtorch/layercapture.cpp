#include "core/runtime/libtorch/layercapture.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace te {
namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

// One entry of a node's inlined call stack, by value: the called function, the place of
// the call and the module it was called on. Two nodes of one call have equal entries even
// where the inliner gave them separate objects (nodes that came from different depths of
// the callee are given separate copies of the same entry).
using CallSite = std::tuple<const void *, const void *, size_t, size_t, std::string>;
// A call is identified by its entries from the outermost call down to it.
using CallKey = std::vector<CallSite>;

struct CallRef {
    CallKey key;
    std::string path, type;
    int depth = 0; // module calls from the root down to this one
};

struct Call {
    CallRef ref;
    size_t last = 0;             // index of its last node in the graph's top-level block
    std::vector<Value *> values; // what it hands back to its caller
};

// "__torch__.torchvision.models.resnet.___torch_mangle_3.BasicBlock" -> "torchvision.models.resnet.BasicBlock"
std::string readableType(const c10::ClassTypePtr &type)
{
    if (!type || !type->name())
        return {};
    std::string name = type->name()->qualifiedName();
    if (name.rfind("__torch__.", 0) == 0)
        name.erase(0, 10);
    for (size_t at; (at = name.find("___torch_mangle_")) != std::string::npos;) {
        const size_t dot = name.find('.', at);
        name.erase(at, dot == std::string::npos ? std::string::npos : dot - at + 1);
    }
    return name;
}

// The module calls a node was inlined from, outermost first. Calls of a method on the
// same module ("SELF", such as ResNet's _forward_impl) and of free functions are not
// module boundaries: they extend the key but not the path.
std::vector<CallRef> callsOf(const Node *node)
{
    std::vector<CallRef> out;
    CallKey key;
    std::string path;
    for (auto entry = node->callstack(); entry; entry = (*entry)->callee()) {
        const auto &e = **entry;
        const auto info = e.module_instance();
        const torch::jit::SourceRange range = e.source_range();
        key.emplace_back(e.function(), range.source().get(), range.start(), range.end(),
                         info ? info->instance_name() : std::string());
        if (!info || info->instance_name() == "SELF")
            continue;
        const std::string name = info->instance_name() == "INSTANCE_NAME_UNKNOWN" ? "?" : info->instance_name();
        path = path.empty() ? name : path + "." + name;
        out.push_back({key, path, readableType(info->class_type()), static_cast<int>(out.size()) + 1});
    }
    return out;
}

// Control flow (prim::If, prim::Loop) without outputs carries no call stack, and the call
// stacks of the nodes inside it are cut short: it belongs to the calls of the latest node
// before it that computes one of its inputs (a batch norm's `if self.training` belongs to
// the batch norm).
std::vector<CallRef> callsOfTopLevel(const Node *node)
{
    if (node->callstack() || node->blocks().empty())
        return callsOf(node);
    for (const Node *before = node->prev(); before->kind() != c10::prim::Return; before = before->prev()) {
        if (!before->callstack())
            continue;
        for (const Value *in : node->inputs())
            if (in->node() == before)
                return callsOf(before);
    }
    return {};
}

Node *topLevelNode(Node *node, const Block *top)
{
    while (node->owningBlock() != top)
        node = node->owningBlock()->owningNode();
    return node;
}

bool isTensor(const Value *v) { return v->type()->kind() == c10::TypeKind::TensorType; }

// The tensors a call returns: its values used after it, or a tuple of them built in it.
void collectReturned(Value *v, std::vector<Value *> *out)
{
    if (isTensor(v)) {
        out->push_back(v);
    } else if (v->node()->kind() == c10::prim::TupleConstruct) {
        for (Value *element : v->node()->inputs())
            if (isTensor(element))
                out->push_back(element);
    }
}

// The module calls of the inlined graph whose nodes lie in its top-level block, each with
// the values it hands back; *hidden counts the calls found only inside loops and branches.
std::vector<Call> findCalls(torch::jit::Graph &graph, const std::vector<Node *> &nodes, size_t *hidden)
{
    Block *top = graph.block();
    std::map<CallKey, size_t> byKey;
    std::vector<Call> calls;
    std::vector<std::vector<size_t>> callsAt(nodes.size());
    std::unordered_map<const Node *, size_t> indexOf;
    for (size_t i = 0; i < nodes.size(); ++i) {
        indexOf[nodes[i]] = i;
        for (auto &ref : callsOfTopLevel(nodes[i])) {
            auto [it, added] = byKey.emplace(ref.key, calls.size());
            if (added)
                calls.push_back({std::move(ref), i, {}});
            calls[it->second].last = i;
            callsAt[i].push_back(it->second);
        }
    }
    std::set<CallKey> nested;
    for (Node *node : graph.nodes()) {
        for (Block *block : node->blocks()) {
            for (Node *inner : block->nodes()) // one level is enough to count what is lost
                for (const auto &ref : callsOf(inner))
                    if (!byKey.count(ref.key))
                        nested.insert(ref.key);
        }
    }
    *hidden = nested.size();
    for (size_t i = 0; i < nodes.size(); ++i) {
        for (Value *v : nodes[i]->outputs()) {
            for (size_t call : callsAt[i]) {
                bool escapes = false;
                for (const auto &use : v->uses()) {
                    Node *user = topLevelNode(use.user, top);
                    const auto at = indexOf.find(user);
                    escapes = escapes || at == indexOf.end() ||
                              std::find(callsAt[at->second].begin(), callsAt[at->second].end(), call) ==
                                  callsAt[at->second].end();
                }
                if (escapes)
                    collectReturned(v, &calls[call].values);
            }
        }
    }
    calls.erase(std::remove_if(calls.begin(), calls.end(), [](const Call &c) { return c.values.empty(); }),
                calls.end());
    // In the order they finish: a call before the calls it is part of.
    std::stable_sort(calls.begin(), calls.end(), [](const Call &a, const Call &b) {
        return a.last != b.last ? a.last < b.last : a.ref.depth > b.ref.depth;
    });
    return calls;
}

LayerOutput describe(const at::Tensor &tensor, const std::string &path, const std::string &type, uint64_t *budget)
{
    LayerOutput o;
    o.path = path;
    o.type = type;
    at::Tensor t = tensor.detach();
    o.shape = t.sizes().vec();
    o.dtype = scalarTypeName(t.scalar_type());
    o.numel = static_cast<uint64_t>(t.numel());
    at::Tensor all = (t.is_complex() ? torch::real(t) : t).to(torch::kCPU, torch::kDouble).reshape({-1});
    o.nans = static_cast<uint64_t>(torch::isnan(all).sum().item<int64_t>());
    o.infs = static_cast<uint64_t>(torch::isinf(all).sum().item<int64_t>());
    at::Tensor finite = all.masked_select(torch::isfinite(all));
    const int64_t n = finite.numel();
    if (n > 0) {
        o.sum = finite.sum().item<double>();
        o.mean = o.sum / static_cast<double>(n);
        o.min = finite.min().item<double>();
        o.max = finite.max().item<double>();
        o.std = n > 1 ? finite.std().item<double>() : 0.0;
    }
    const uint64_t bytes = o.numel * sizeof(float);
    if (bytes <= *budget) {
        at::Tensor f = all.to(torch::kFloat).contiguous();
        o.values.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
        *budget -= bytes;
    }
    return o;
}

} // namespace

std::vector<LayerOutput> captureLayers(torch::jit::script::Module &module, std::vector<c10::IValue> inputs,
                                       uint64_t keepBytes, std::string *note)
{
    auto method = module.get_method("forward");
    auto graph = method.graph()->copy();
    torch::jit::Inline(*graph);
    std::vector<Node *> nodes(graph->nodes().begin(), graph->nodes().end());
    std::vector<Node *> after; // the node each call's clones go before
    for (Node *n : nodes)
        after.push_back(n->next());
    size_t hidden = 0;
    std::vector<Call> calls = findCalls(*graph, nodes, &hidden);
    if (hidden)
        *note = std::to_string(hidden) +
                " module call(s) inside loops or branches of the graph cannot be returned from it and are not listed";

    // Clones right after each call's last node, in the order the calls finish.
    std::vector<Value *> clones;
    std::vector<std::pair<const Call *, size_t>> owner; // call, its tensor's index
    for (const Call &call : calls) {
        torch::jit::WithInsertPoint point(after[call.last]);
        for (size_t i = 0; i < call.values.size(); ++i) {
            clones.push_back(graph->insert(c10::aten::clone, {call.values[i]}));
            owner.emplace_back(&call, i);
        }
    }
    {
        torch::jit::WithInsertPoint point(graph->return_node());
        Node *captured = graph->insertNode(graph->createTuple(clones));
        Node *both = graph->insertNode(graph->createTuple({graph->outputs()[0], captured->output()}));
        graph->return_node()->replaceInput(0, both->output());
    }

    torch::jit::GraphFunction function("te_layer_capture", graph, nullptr);
    torch::jit::Stack stack;
    stack.push_back(module._ivalue());
    for (auto &v : inputs)
        stack.push_back(std::move(v));
    method.function().getSchema().checkAndNormalizeInputs(stack); // forward's defaults
    function.run(stack);
    const auto &values = stack.back().toTupleRef().elements()[1].toTupleRef().elements();

    std::vector<LayerOutput> out;
    uint64_t budget = keepBytes;
    for (size_t i = 0; i < values.size(); ++i) {
        const Call &call = *owner[i].first;
        std::string path = call.ref.path;
        if (call.values.size() > 1)
            path += "[" + std::to_string(owner[i].second) + "]";
        out.push_back(describe(values[i].toTensor(), path, call.ref.type, &budget));
    }
    return out;
}

} // namespace te
