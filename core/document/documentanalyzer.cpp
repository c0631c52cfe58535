#include "core/document/documentanalyzer.h"
#include "core/report/valuejson.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace te {
namespace {

// There is no depth limit: Python's unpickler has none, so a checkpoint that torch.load
// reads may nest thousands of levels. The walk keeps its own stack, and these budgets
// bound its time and memory instead.
constexpr uint64_t kMaxVisits = 2'000'000;
constexpr uint32_t kMaxListingsPerValue = 16;
// Keys are whole dotted paths, so a chain n levels deep with something listed on every
// level stores n squared bytes of keys; past these totals the rest is not listed. Tensors
// and the structure around them (modules, state dicts) have their own budget, so that
// metadata and objects on every level of a deep chain cannot crowd out its tensors.
constexpr uint64_t kMaxKeyBytes = uint64_t(64) << 20;
constexpr uint64_t kMaxInfoKeyBytes = uint64_t(16) << 20;
// Scalars are metadata only this close to the root. Real metadata (epoch, loss, config) is
// shallow; deep down it would only repeat ever longer keys.
constexpr size_t kMaxMetadataDepth = 64;

using NamedValues = std::vector<std::pair<std::string, Value *>>;

struct ModuleParts {
    std::string className;
    NamedValues parameters, buffers, children, hyper;
    std::unordered_set<std::string> nonPersistent;
};

// A TorchScript class's parameter and buffer names, looked up once per class.
struct ScriptNames {
    std::unordered_set<std::string> parameters, buffers;
};

// One value being walked: where its key ends in the path, and which child is next.
struct Frame {
    const Value *v = nullptr;
    size_t keyLength = 0;
    size_t next = 0; // next dict entry, item or child module
    int phase = 0;   // calls and objects: 0 state, 1 entries, 2 items
    bool throughDicts = false;
    bool inOptimizer = false;
    bool module = false;
    NamedValues children; // a module's child modules
};

bool isScalar(const Value *v)
{
    switch (v->kind) {
    case ValueKind::None:
    case ValueKind::Bool:
    case ValueKind::Int:
    case ValueKind::BigInt:
    case ValueKind::Float:
    case ValueKind::String: return true;
    default: return false;
    }
}

bool isStateDict(const Value *d)
{
    if (d->entries.empty())
        return false;
    for (const auto &[k, v] : d->entries)
        if (!k->isString() || v->kind != ValueKind::Tensor)
            return false;
    return true;
}

// A best guess from the keys of an optimizer's per-parameter state and param groups.
std::string optimizerType(const std::unordered_set<std::string> &stateKeys,
                          const std::unordered_set<std::string> &groupKeys)
{
    if (stateKeys.count("exp_avg") && stateKeys.count("exp_avg_sq"))
        return groupKeys.count("decoupled_weight_decay") || groupKeys.count("amsgrad") ? "Adam or AdamW" : "Adam-like";
    if (stateKeys.count("square_avg"))
        return "RMSprop or Adadelta";
    if (stateKeys.count("sum"))
        return "Adagrad";
    if (groupKeys.count("momentum") && groupKeys.count("nesterov"))
        return "SGD";
    return "unknown";
}

class Analyzer {
public:
    explicit Analyzer(Document &doc)
        : m_doc(doc)
        , m_metadata(doc.metadata)
    { }

    void run()
    {
        // Nearly every tensor is listed once.
        m_doc.entries.reserve(m_doc.entries.size() + m_doc.tensors.size());
        if (m_doc.root)
            visit(m_doc.root, true, false);
        while (!m_stack.empty())
            step();
        if (m_truncated)
            m_doc.warnings.push_back("the object tree is too large or too deep; parts of it were not listed");
    }

private:
    const ScriptNames *scriptNames(const std::string &cls)
    {
        auto cached = m_scriptNames.find(cls);
        if (cached != m_scriptNames.end())
            return &cached->second;
        auto ts = m_doc.torchscript.classes.find(cls);
        if (ts == m_doc.torchscript.classes.end())
            return nullptr;
        ScriptNames &names = m_scriptNames[cls];
        names.parameters.insert(ts->second.parameters.begin(), ts->second.parameters.end());
        names.buffers.insert(ts->second.buffers.begin(), ts->second.buffers.end());
        return &names;
    }

    bool isModule(const Value *v, ModuleParts *parts)
    {
        if (!v || (v->kind != ValueKind::Object && v->kind != ValueKind::Call) || !v->callee ||
            v->callee->kind != ValueKind::Global || !v->state || v->state->kind != ValueKind::Dict)
            return false;
        const Value *state = v->state;
        std::string cls = v->callee->globalName();
        if (const ScriptNames *names = scriptNames(cls)) {
            if (!parts)
                return true;
            parts->className = cls;
            for (const auto &[k, val] : state->entries) {
                if (!k->isString())
                    continue;
                const std::string &name = k->text;
                if (names->parameters.count(name))
                    parts->parameters.emplace_back(name, val);
                else if (names->buffers.count(name))
                    parts->buffers.emplace_back(name, val);
                else if (isModule(val, nullptr))
                    parts->children.emplace_back(name, val);
                else
                    parts->hyper.emplace_back(name, val);
            }
            return true;
        }
        const Value *modules = state->get("_modules");
        const Value *params = state->get("_parameters");
        if (!modules || !params || modules->kind != ValueKind::Dict || params->kind != ValueKind::Dict)
            return false;
        if (!parts)
            return true;
        parts->className = cls;
        if (const Value *np = state->get("_non_persistent_buffers_set"))
            for (const Value *n : np->items)
                if (n->isString())
                    parts->nonPersistent.insert(n->text);
        for (const auto &[k, val] : params->entries)
            if (k->isString())
                parts->parameters.emplace_back(k->text, val);
        if (const Value *buffers = state->get("_buffers"); buffers && buffers->kind == ValueKind::Dict)
            for (const auto &[k, val] : buffers->entries)
                if (k->isString())
                    parts->buffers.emplace_back(k->text, val);
        for (const auto &[k, val] : modules->entries)
            if (k->isString())
                parts->children.emplace_back(k->text, val);
        for (const auto &[k, val] : state->entries)
            if (k->isString() && !k->text.empty() && k->text[0] != '_')
                parts->hyper.emplace_back(k->text, val);
        return true;
    }

    // --- what is listed, under the key now in m_path ------------------------------------

    // Every stored key is a copy of the path; false once its budget is spent.
    bool takeKey(size_t extra = 0) { return spend(m_keyBytes, kMaxKeyBytes, m_path.size() + extra); }
    bool takeInfoKey() { return spend(m_infoKeyBytes, kMaxInfoKeyBytes, m_path.size()); }

    bool spend(uint64_t &spent, uint64_t limit, uint64_t bytes)
    {
        if (spent + bytes > limit) {
            m_truncated = true;
            return false;
        }
        spent += bytes;
        return true;
    }

    std::string childKey(const std::string &name) const { return m_path.empty() ? name : m_path + "." + name; }

    void listTensor(const Value *v, const std::string &name = {})
    {
        if (takeKey(name.size() + 1))
            m_doc.entries.push_back({name.empty() ? m_path : childKey(name), static_cast<int>(v->integer)});
    }

    bool listOptimizer(const Value *d)
    {
        const Value *state = d->get("state");
        const Value *groups = d->get("param_groups");
        if (!state || !groups || state->kind != ValueKind::Dict || groups->kind != ValueKind::List || !takeKey())
            return false;
        OptimizerInfo o;
        o.path = m_path;
        o.stateEntries = state->entries.size();
        std::unordered_set<std::string> stateKeys, groupKeys;
        for (const auto &[k, per] : state->entries)
            if (per->kind == ValueKind::Dict)
                for (const auto &[sk, sv] : per->entries)
                    if (sk->isString())
                        stateKeys.insert(sk->text);
        for (const Value *g : groups->items) {
            if (g->kind != ValueKind::Dict)
                continue;
            nlohmann::ordered_json group = nlohmann::ordered_json::object();
            JsonObjectFiller members(group);
            for (const auto &[k, v] : g->entries) {
                if (!k->isString())
                    continue;
                groupKeys.insert(k->text);
                if (k->text != "params")
                    members.set(k->text, valueToJson(m_doc, v, 3, &m_render));
                else
                    members.set("params_count", v->items.size());
            }
            o.paramGroups.push_back(std::move(group));
        }
        o.type = optimizerType(stateKeys, groupKeys);
        m_doc.optimizers.push_back(std::move(o));
        return true;
    }

    void listModule(const ModuleParts &parts)
    {
        if (!takeKey())
            return;
        ModuleInfo info;
        info.path = m_path;
        info.className = parts.className;
        auto src = m_doc.classSources.find(parts.className);
        if (src != m_doc.classSources.end())
            info.source = src->second;
        JsonObjectFiller hyper(info.hyper);
        for (const auto &[name, val] : parts.hyper)
            hyper.set(name, valueToJson(m_doc, val, 2, &m_render));
        for (const auto &[name, val] : parts.parameters) {
            if (val->kind == ValueKind::Tensor) {
                // TorchScript writes parameters as plain tensors; its code/ says which.
                m_doc.tensors[static_cast<size_t>(val->integer)].isParameter = true;
                info.parameters.push_back(name);
                listTensor(val, name);
            }
        }
        for (const auto &[name, val] : parts.buffers) {
            if (val->kind != ValueKind::Tensor)
                continue;
            if (parts.nonPersistent.count(name)) {
                info.nonPersistentBuffers.push_back(name);
                continue;
            }
            info.buffers.push_back(name);
            listTensor(val, name);
        }
        m_doc.modules.push_back(std::move(info));
    }

    void listObject(const Value *v)
    {
        if (m_path.empty() || !v->callee || v->callee->kind != ValueKind::Global || !takeInfoKey())
            return;
        nlohmann::ordered_json j = valueToJson(m_doc, v, 1, &m_render);
        m_doc.objects.push_back({m_path, v->callee->globalName(), j.is_string() ? j.get<std::string>() : jsonText(j)});
    }

    void listMetadata(const Value *v)
    {
        if (m_stack.size() <= kMaxMetadataDepth && takeInfoKey())
            m_metadata.set(m_path, valueToJson(m_doc, v, 1, &m_render));
    }

    // --- the walk ------------------------------------------------------------------------

    bool countVisit()
    {
        if (++m_visits > kMaxVisits) {
            m_truncated = true;
            return false;
        }
        return true;
    }

    // Appends a child's name to the path, unless the path would outgrow the key budget
    // (a memo-shared megabyte string as the key on every level).
    bool extendPath(const std::string &name)
    {
        if (m_path.size() + 1 + name.size() > kMaxKeyBytes) {
            m_truncated = true;
            return false;
        }
        if (!m_path.empty())
            m_path += '.';
        m_path += name;
        return true;
    }

    // The same with a dict key's text (a string key without a copy of it).
    bool extendPathByKey(const Value *k)
    {
        return k->kind == ValueKind::String ? extendPath(k->text) : extendPath(keyText(k));
    }

    // Starts on v, whose key is now in m_path: lists what it is, and pushes a frame when
    // it has children to walk.
    void visit(const Value *v, bool throughDicts, bool inOptimizer)
    {
        if (!countVisit())
            return;
        if (v->kind == ValueKind::Tensor) {
            listTensor(v);
            return;
        }
        const bool container = v->kind == ValueKind::Dict || v->kind == ValueKind::List ||
                               v->kind == ValueKind::Tuple || v->kind == ValueKind::Set ||
                               v->kind == ValueKind::FrozenSet || v->kind == ValueKind::Object ||
                               v->kind == ValueKind::Call;
        if (!container)
            return;
        if (!m_onPath.insert(v).second)
            return; // a cycle: the value contains itself
        // A container shared under many keys is listed under each of them, but not
        // without end: memo sharing nests exponentially many paths into a small file.
        if (++m_timesListed[v] > kMaxListingsPerValue) {
            m_truncated = true;
            m_onPath.erase(v);
            return;
        }
        Frame f;
        f.v = v;
        f.keyLength = m_path.size();
        if (v->kind == ValueKind::Dict) {
            f.throughDicts = throughDicts;
            f.inOptimizer = inOptimizer;
            // An optimizer's per-parameter state (step, exp_avg...) is a dict of tensors
            // too, but not a state dict anyone loads into a model.
            if (!inOptimizer && isStateDict(v)) {
                if (takeKey())
                    m_doc.stateDicts.push_back(m_path);
            } else if (!inOptimizer) {
                f.inOptimizer = listOptimizer(v);
            }
        } else if (v->kind == ValueKind::Object || v->kind == ValueKind::Call) {
            ModuleParts parts;
            if (isModule(v, &parts)) {
                listModule(parts);
                f.module = true;
                f.children = std::move(parts.children);
            } else {
                listObject(v);
            }
        } else {
            f.inOptimizer = inOptimizer;
        }
        m_stack.push_back(std::move(f));
    }

    // A module's child: walked only when it is a module itself.
    void visitChildModule(const Value *child)
    {
        ModuleParts parts;
        if (!countVisit() || !m_onPath.insert(child).second)
            return;
        if (!isModule(child, &parts)) {
            m_onPath.erase(child);
            return;
        }
        listModule(parts);
        Frame f;
        f.v = child;
        f.keyLength = m_path.size();
        f.module = true;
        f.children = std::move(parts.children);
        m_stack.push_back(std::move(f));
    }

    // Takes the top frame one child further, or pops it when it has none left.
    void step()
    {
        Frame &f = m_stack.back();
        m_path.resize(f.keyLength);
        const Value *v = f.v;
        if (f.module) {
            if (f.next < f.children.size()) {
                const size_t i = f.next++;
                Value *child = f.children[i].second;
                if (extendPath(f.children[i].first))
                    visitChildModule(child);
                return;
            }
        } else if (v->kind == ValueKind::Dict) {
            if (f.next < v->entries.size()) {
                const auto &[k, child] = v->entries[f.next++];
                const bool throughDicts = f.throughDicts, inOptimizer = f.inOptimizer;
                if (!extendPathByKey(k))
                    return;
                if (throughDicts && isScalar(child))
                    listMetadata(child);
                visit(child, throughDicts, inOptimizer);
                return;
            }
        } else if (v->kind == ValueKind::Object || v->kind == ValueKind::Call) {
            if (stepObject(f))
                return;
        } else if (f.next < v->items.size()) {
            const size_t i = f.next++;
            const bool inOptimizer = f.inOptimizer;
            if (extendPath(std::to_string(i)))
                visit(v->items[i], false, inOptimizer);
            return;
        }
        m_onPath.erase(v);
        m_stack.pop_back();
    }

    // An object that is not a module: what BUILD set (under the object's own key), then
    // SETITEM entries and APPEND items. False when nothing is left.
    bool stepObject(Frame &f)
    {
        const Value *v = f.v;
        if (f.phase == 0) {
            f.phase = 1;
            if (v->state) {
                visit(v->state, false, false);
                return true;
            }
        }
        if (f.phase == 1) {
            if (f.next < v->entries.size()) {
                const Value *k = v->entries[f.next].first, *child = v->entries[f.next].second;
                ++f.next;
                if (extendPathByKey(k))
                    visit(child, false, false);
                return true;
            }
            f.phase = 2;
            f.next = 0;
        }
        if (f.next < v->items.size()) {
            const size_t i = f.next++;
            if (extendPath(std::to_string(i)))
                visit(v->items[i], false, false);
            return true;
        }
        return false;
    }

    Document &m_doc;
    JsonObjectFiller m_metadata;
    RenderBudget m_render;
    std::vector<Frame> m_stack;
    std::string m_path; // the key of the value being walked: names joined by dots
    std::unordered_set<const Value *> m_onPath;
    std::unordered_map<const Value *, uint32_t> m_timesListed;
    std::unordered_map<std::string, ScriptNames> m_scriptNames;
    uint64_t m_visits = 0;
    uint64_t m_keyBytes = 0;
    uint64_t m_infoKeyBytes = 0;
    bool m_truncated = false;
};

} // namespace

std::string keyText(const Value *key)
{
    switch (key->kind) {
    case ValueKind::String: return key->text;
    case ValueKind::Int: return std::to_string(key->integer);
    case ValueKind::BigInt: return key->text;
    case ValueKind::Bool: return key->boolean ? "True" : "False";
    case ValueKind::None: return "None";
    case ValueKind::Float: return std::to_string(key->real);
    default: return std::string("<") + kindName(key->kind) + ">";
    }
}

void analyzeDocument(Document &doc)
{
    Analyzer(doc).run();
    if (doc.format == FileFormat::TorchScript && doc.root && doc.root->callee) {
        auto it = doc.torchscript.classes.find(doc.root->callee->globalName());
        if (it != doc.torchscript.classes.end())
            doc.torchscript.forwardSignature = it->second.forwardSignature;
    }
}

} // namespace te
