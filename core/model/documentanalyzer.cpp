#include "documentanalyzer.h"
#include "valuejson.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace te {
namespace {

constexpr int kMaxDepth = 200;
constexpr uint64_t kMaxVisits = 2'000'000;
constexpr uint32_t kMaxListingsPerValue = 16;

std::string join(const std::string &prefix, const std::string &name)
{
    return prefix.empty() ? name : prefix + "." + name;
}

struct ModuleParts {
    std::string className;
    std::vector<std::pair<std::string, Value *>> parameters, buffers, children, hyper;
    std::vector<std::string> nonPersistent;
};

class Analyzer {
public:
    explicit Analyzer(Document &doc) : m_doc(doc) {}

    void run()
    {
        if (m_doc.root)
            walk(m_doc.root, "", 0, true);
        if (m_truncated)
            m_doc.warnings.push_back("the object tree is too large or too deep; parts of it were not listed");
    }

private:
    bool isModule(const Value *v, ModuleParts *parts) const
    {
        if (!v || (v->kind != ValueKind::Object && v->kind != ValueKind::Call) || !v->callee ||
            v->callee->kind != ValueKind::Global || !v->state || v->state->kind != ValueKind::Dict)
            return false;
        const Value *state = v->state;
        std::string cls = v->callee->globalName();
        auto ts = m_doc.torchscript.classes.find(cls);
        if (ts != m_doc.torchscript.classes.end()) {
            if (!parts)
                return true;
            parts->className = cls;
            const auto &params = ts->second.parameters;
            const auto &buffers = ts->second.buffers;
            for (const auto &[k, val] : state->entries) {
                if (!k->isString())
                    continue;
                const std::string &name = k->text;
                if (std::find(params.begin(), params.end(), name) != params.end())
                    parts->parameters.emplace_back(name, val);
                else if (std::find(buffers.begin(), buffers.end(), name) != buffers.end())
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
                    parts->nonPersistent.push_back(n->text);
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

    static bool isStateDict(const Value *d)
    {
        if (d->entries.empty())
            return false;
        for (const auto &[k, v] : d->entries)
            if (!k->isString() || v->kind != ValueKind::Tensor)
                return false;
        return true;
    }

    bool noteOptimizer(const Value *d, const std::string &key)
    {
        const Value *state = d->get("state");
        const Value *groups = d->get("param_groups");
        if (!state || !groups || state->kind != ValueKind::Dict || groups->kind != ValueKind::List)
            return false;
        OptimizerInfo o;
        o.path = key;
        o.stateEntries = state->entries.size();
        std::vector<std::string> stateKeys;
        for (const auto &[k, per] : state->entries)
            if (per->kind == ValueKind::Dict)
                for (const auto &[sk, sv] : per->entries)
                    if (sk->isString())
                        stateKeys.push_back(sk->text);
        std::vector<std::string> groupKeys;
        for (const Value *g : groups->items) {
            if (g->kind != ValueKind::Dict)
                continue;
            nlohmann::ordered_json group = nlohmann::ordered_json::object();
            for (const auto &[k, v] : g->entries) {
                if (!k->isString())
                    continue;
                groupKeys.push_back(k->text);
                if (k->text != "params")
                    group[k->text] = valueToJson(m_doc, v, 3);
                else
                    group["params_count"] = v->items.size();
            }
            o.paramGroups.push_back(std::move(group));
        }
        auto has = [](const std::vector<std::string> &v, const char *s) {
            return std::find(v.begin(), v.end(), s) != v.end();
        };
        if (has(stateKeys, "exp_avg") && has(stateKeys, "exp_avg_sq"))
            o.type = has(groupKeys, "decoupled_weight_decay") || has(groupKeys, "amsgrad") ? "Adam or AdamW" : "Adam-like";
        else if (has(stateKeys, "square_avg"))
            o.type = "RMSprop or Adadelta";
        else if (has(stateKeys, "sum"))
            o.type = "Adagrad";
        else if (has(groupKeys, "momentum") && has(groupKeys, "nesterov"))
            o.type = "SGD";
        else
            o.type = "unknown";
        m_doc.optimizers.push_back(std::move(o));
        return true;
    }

    bool enter(int depth)
    {
        if (depth > kMaxDepth || ++m_visits > kMaxVisits) {
            m_truncated = true;
            return false;
        }
        return true;
    }

    void walkModule(const Value *v, const ModuleParts &parts, const std::string &key, int depth)
    {
        ModuleInfo info;
        info.path = key;
        info.className = parts.className;
        auto src = m_doc.classSources.find(parts.className);
        if (src != m_doc.classSources.end())
            info.source = src->second;
        for (const auto &[name, val] : parts.hyper)
            info.hyper[name] = valueToJson(m_doc, val, 2);
        for (const auto &[name, val] : parts.parameters) {
            if (val->kind == ValueKind::Tensor) {
                // TorchScript writes parameters as plain tensors; its code/ says which.
                m_doc.tensors[static_cast<size_t>(val->integer)].isParameter = true;
                info.parameters.push_back(name);
                m_doc.entries.push_back({join(key, name), static_cast<int>(val->integer)});
            }
        }
        for (const auto &[name, val] : parts.buffers) {
            if (val->kind != ValueKind::Tensor)
                continue;
            if (std::find(parts.nonPersistent.begin(), parts.nonPersistent.end(), name) != parts.nonPersistent.end()) {
                info.nonPersistentBuffers.push_back(name);
                continue;
            }
            info.buffers.push_back(name);
            m_doc.entries.push_back({join(key, name), static_cast<int>(val->integer)});
        }
        m_doc.modules.push_back(std::move(info));
        for (const auto &[name, child] : parts.children) {
            ModuleParts childParts;
            if (enter(depth + 1) && m_onPath.insert(child).second) {
                if (isModule(child, &childParts))
                    walkModule(child, childParts, join(key, name), depth + 1);
                m_onPath.erase(child);
            }
        }
        (void)v;
    }

    void walk(const Value *v, const std::string &key, int depth, bool throughDicts, bool inOptimizer = false)
    {
        if (!enter(depth))
            return;
        if (!m_onPath.insert(v).second)
            return; // a cycle: the value contains itself
        // A container shared under many keys is listed under each of them, but not
        // without end: memo sharing nests exponentially many paths into a small file.
        if (v->kind != ValueKind::Tensor && ++m_timesListed[v] > kMaxListingsPerValue) {
            m_truncated = true;
            m_onPath.erase(v);
            return;
        }
        switch (v->kind) {
        case ValueKind::Tensor:
            m_doc.entries.push_back({key, static_cast<int>(v->integer)});
            break;
        case ValueKind::Dict: {
            // An optimizer's per-parameter state (step, exp_avg...) is a dict of tensors
            // too, but not a state dict anyone loads into a model.
            if (!inOptimizer && isStateDict(v))
                m_doc.stateDicts.push_back(key);
            else if (!inOptimizer)
                inOptimizer = noteOptimizer(v, key);
            for (const auto &[k, child] : v->entries) {
                std::string childKey = join(key, keyText(k));
                if (throughDicts && isScalar(child))
                    m_doc.metadata[childKey] = valueToJson(m_doc, child, 1);
                walk(child, childKey, depth + 1, throughDicts, inOptimizer);
            }
            break;
        }
        case ValueKind::List:
        case ValueKind::Tuple:
        case ValueKind::Set:
        case ValueKind::FrozenSet:
            for (size_t i = 0; i < v->items.size(); ++i)
                walk(v->items[i], join(key, std::to_string(i)), depth + 1, false, inOptimizer);
            break;
        case ValueKind::Object:
        case ValueKind::Call: {
            ModuleParts parts;
            if (isModule(v, &parts)) {
                walkModule(v, parts, key, depth);
            } else {
                if (!key.empty() && v->callee && v->callee->kind == ValueKind::Global) {
                    nlohmann::ordered_json j = valueToJson(m_doc, v, 1);
                    m_doc.objects.push_back({key, v->callee->globalName(), j.is_string() ? j.get<std::string>() : jsonText(j)});
                }
                if (v->state)
                    walk(v->state, key, depth + 1, false);
                for (const auto &[k, child] : v->entries)
                    walk(child, join(key, keyText(k)), depth + 1, false);
                for (size_t i = 0; i < v->items.size(); ++i)
                    walk(v->items[i], join(key, std::to_string(i)), depth + 1, false);
            }
            break;
        }
        default:
            break;
        }
        m_onPath.erase(v);
    }

    static bool isScalar(const Value *v)
    {
        switch (v->kind) {
        case ValueKind::None: case ValueKind::Bool: case ValueKind::Int: case ValueKind::BigInt:
        case ValueKind::Float: case ValueKind::String:
            return true;
        default:
            return false;
        }
    }

    Document &m_doc;
    std::unordered_set<const Value *> m_onPath;
    std::unordered_map<const Value *, uint32_t> m_timesListed;
    uint64_t m_visits = 0;
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
    case ValueKind::Float: {
        std::string s = std::to_string(key->real);
        return s;
    }
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
