#include "core/diagnose/loadcheck.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <regex>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace te {
namespace {

std::string parentOf(const std::string &key)
{
    size_t dot = key.rfind('.');
    return dot == std::string::npos ? std::string() : key.substr(0, dot);
}

std::string lastOf(const std::string &key)
{
    size_t dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string quotedList(const std::vector<std::string> &keys)
{
    std::string s;
    for (size_t i = 0; i < keys.size(); ++i)
        s += (i ? ", \"" : "\"") + keys[i] + "\"";
    return s;
}

KeySpec specOf(const Document &doc, const std::string &key, int tensor)
{
    const TensorInfo &t = doc.tensors[static_cast<size_t>(tensor)];
    KeySpec k;
    k.key = key;
    k.shape = t.shape;
    k.dtype = t.dtype;
    k.elements = t.numel() > 0 ? static_cast<uint64_t>(t.numel()) : 0;
    k.tensor = tensor;
    return k;
}

// Keys of the entries under `path`, relative to it.
std::vector<KeySpec> keysUnder(const Document &doc, const std::string &path)
{
    std::vector<KeySpec> out;
    const std::string prefix = path.empty() ? std::string() : path + ".";
    for (const auto &e : doc.entries)
        if (e.key.compare(0, prefix.size(), prefix) == 0 && e.key.size() > prefix.size())
            out.push_back(specOf(doc, e.key.substr(prefix.size()), e.tensor));
    return out;
}

bool sameShapeForLoad(const std::vector<int64_t> &model, const std::vector<int64_t> &checkpoint)
{
    // load_state_dict accepts a 1-element vector for a 0-d parameter (old checkpoints).
    if (model.empty() && checkpoint.size() == 1 && checkpoint[0] == 1)
        return true;
    return model == checkpoint;
}

// The module tree the traversal needs: given by the reference, or derived from its keys.
struct ModuleTree {
    std::vector<std::string> order;
    std::unordered_map<std::string, std::vector<std::string>> locals;   // module -> local names
    std::unordered_map<std::string, std::unordered_set<std::string>> children;
};

ModuleTree moduleTree(const ExpectedModel &model)
{
    ModuleTree t;
    std::unordered_set<std::string> known;
    auto add = [&](const std::string &m) {
        if (known.insert(m).second) {
            t.order.push_back(m);
            if (!m.empty())
                t.children[parentOf(m)].insert(lastOf(m));
        }
    };
    add("");
    for (const auto &m : model.modulePaths)
        add(m);
    for (const auto &k : model.keys) {
        // every proper prefix of a key is a module, parents first
        size_t pos = 0;
        while ((pos = k.key.find('.', pos)) != std::string::npos) {
            add(k.key.substr(0, pos));
            ++pos;
        }
        t.locals[parentOf(k.key)].push_back(lastOf(k.key));
    }
    // Pre-order: a module's subtree follows it directly; siblings keep their first-seen
    // order. Children are listed once, so this stays linear at a hundred thousand modules.
    std::unordered_map<std::string, std::vector<const std::string *>> kids;
    for (const auto &c : t.order)
        if (!c.empty())
            kids[parentOf(c)].push_back(&c);
    std::vector<std::string> sorted;
    sorted.reserve(t.order.size());
    std::vector<const std::string *> stack{&t.order.front()}; // "" was added first
    while (!stack.empty()) {
        const std::string *m = stack.back();
        stack.pop_back();
        sorted.push_back(*m);
        auto it = kids.find(*m);
        if (it != kids.end())
            stack.insert(stack.end(), it->second.rbegin(), it->second.rend());
    }
    t.order = std::move(sorted);
    return t;
}

std::string errorText(const std::string &cls, const std::vector<std::string> &messages)
{
    std::string s = "Error(s) in loading state_dict for " + cls + ":";
    for (const auto &m : messages)
        s += "\n\t" + m;
    return s;
}

} // namespace

std::string torchSizeText(const std::vector<int64_t> &shape)
{
    std::string s = "torch.Size([";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "])";
}

std::string RemapRule::text() const
{
    if (kind == Kind::Regex)
        return "re:" + from + " -> " + to;
    return (from.empty() ? std::string("(start)") : from) + " -> " + (to.empty() ? std::string("(nothing)") : to);
}

namespace {

// Rules with their patterns compiled once, for applying them to every key.
class CompiledRules {
public:
    explicit CompiledRules(const std::vector<RemapRule> &rules) : m_rules(rules)
    {
        for (const auto &r : rules) {
            m_patterns.emplace_back();
            if (r.kind != RemapRule::Kind::Prefix) {
                try {
                    m_patterns.back() = std::make_unique<std::regex>(r.from);
                } catch (const std::regex_error &) {
                    // an invalid pattern changes nothing; the rule editor says why
                }
            }
        }
    }

    std::string apply(const std::string &key) const
    {
        std::string k = key;
        for (size_t i = 0; i < m_rules.size(); ++i) {
            const RemapRule &r = m_rules[i];
            if (r.kind == RemapRule::Kind::Prefix) {
                if (k.compare(0, r.from.size(), r.from) == 0)
                    k = r.to + k.substr(r.from.size());
            } else if (m_patterns[i]) {
                k = std::regex_replace(k, *m_patterns[i], r.to);
            }
        }
        return k;
    }

private:
    const std::vector<RemapRule> &m_rules;
    std::vector<std::unique_ptr<std::regex>> m_patterns;
};

} // namespace

std::string applyRules(const std::string &key, const std::vector<RemapRule> &rules)
{
    return CompiledRules(rules).apply(key);
}

ExpectedModel expectedModelFrom(const Document &ref, const std::string &stateDict)
{
    ExpectedModel m;
    const ModuleInfo *root = nullptr;
    for (const auto &mod : ref.modules)
        if (mod.path == stateDict)
            root = &mod;
    if (root) {
        m.originalClass = root->className;
        m.className = ref.format == FileFormat::TorchScript ? "RecursiveScriptModule" : lastOf(root->className);
        m.stateDict = stateDict;
        const std::string prefix = stateDict.empty() ? std::string() : stateDict + ".";
        for (const auto &mod : ref.modules) {
            if ((mod.path.compare(0, prefix.size(), prefix) != 0 && !stateDict.empty()) || mod.path == stateDict)
                continue;
            const std::string path = mod.path.substr(prefix.size());
            m.modulePaths.push_back(path);
            const bool norm = mod.className.rfind("torch.nn.modules.batchnorm.", 0) == 0 ||
                              mod.className.rfind("torch.nn.modules.instancenorm.", 0) == 0;
            if (norm && ref.format != FileFormat::TorchScript && mod.hyper.value("track_running_stats", false))
                m.normModulesFillingBatchCount.push_back(path);
        }
        m.keys = keysUnder(ref, stateDict);
    } else {
        std::vector<std::string> candidates = candidateStateDicts(ref);
        std::string chosen = stateDict;
        if (chosen.empty() && !candidates.empty())
            chosen = candidates.front();
        m.stateDict = chosen;
        m.className = "Module";
        m.keys = keysUnder(ref, chosen);
    }
    if (m.keys.empty())
        throw std::runtime_error(ref.path + " defines no state dict keys to check against");
    return m;
}

std::vector<std::string> candidateStateDicts(const Document &doc)
{
    std::vector<std::string> out;
    // Modules not inside another module: their state_dict() is a candidate. A module is
    // inside another when the root module exists or one of its path's prefixes is a module.
    std::unordered_set<std::string> paths;
    for (const auto &m : doc.modules)
        paths.insert(m.path);
    for (const auto &m : doc.modules) {
        bool nested = !m.path.empty() && paths.count("");
        for (size_t dot = m.path.find('.'); !nested && dot != std::string::npos; dot = m.path.find('.', dot + 1))
            nested = paths.count(m.path.substr(0, dot)) > 0;
        if (!nested)
            out.push_back(m.path);
    }
    static const char *preferred[] = {"state_dict", "model_state_dict", "model", "net", "module", "ema"};
    std::vector<std::string> sds = doc.stateDicts;
    std::stable_sort(sds.begin(), sds.end(), [](const std::string &a, const std::string &b) {
        auto rank = [](const std::string &s) {
            for (size_t i = 0; i < std::size(preferred); ++i)
                if (s == preferred[i])
                    return static_cast<int>(i);
            return 100;
        };
        return rank(a) < rank(b);
    });
    for (const auto &s : sds)
        if (std::find(out.begin(), out.end(), s) == out.end())
            out.push_back(s);
    if (out.empty() && !doc.entries.empty())
        out.push_back("");
    return out;
}

namespace {

// The value at a dotted path through dicts; keys may contain dots, so the longest key that
// matches wins.
const Value *valueAt(const Value *v, const std::string &path)
{
    std::string rest = path;
    while (v && !rest.empty()) {
        if (v->kind != ValueKind::Dict)
            return nullptr;
        const Value *next = nullptr;
        size_t used = 0;
        for (const auto &[k, child] : v->entries) {
            if (!k->isString() || k->text.size() <= used)
                continue;
            if (rest.compare(0, k->text.size(), k->text) == 0 &&
                (rest.size() == k->text.size() || rest[k->text.size()] == '.')) {
                next = child;
                used = k->text.size();
            }
        }
        v = next;
        rest = used < rest.size() ? rest.substr(used + 1) : std::string();
    }
    return v;
}

} // namespace

WeightsSource weightsFrom(const Document &doc, const std::string &stateDict)
{
    WeightsSource w;
    w.stateDict = stateDict;
    w.keys = keysUnder(doc, stateDict);
    const Value *sd = valueAt(doc.root, stateDict);
    if (sd && sd->kind == ValueKind::Dict && sd->state && sd->state->kind == ValueKind::Dict) {
        if (const Value *meta = sd->state->get("_metadata"); meta && meta->kind == ValueKind::Dict) {
            w.hasMetadata = true;
            for (const auto &[k, info] : meta->entries) {
                const Value *version = k->isString() && info->kind == ValueKind::Dict ? info->get("version") : nullptr;
                if (version && version->kind == ValueKind::Int)
                    w.versions[k->text] = version->integer;
            }
        }
    }
    // A module's own state_dict() carries the current versions: nothing to fill in.
    for (const auto &m : doc.modules)
        if (m.path == stateDict)
            w.hasMetadata = true, w.versions.clear(), w.versions["*"] = 2;
    return w;
}

// What checkLoad needs to know about the model, worked out once for many checks.
struct LoadChecker::Prepared {
    ModuleTree tree;
    std::unordered_map<std::string, std::unordered_set<std::string>> localSets;
    std::unordered_map<std::string, const KeySpec *> expected;
    uint64_t expectedElements = 0;
};

LoadChecker::LoadChecker(const ExpectedModel &model) : m_model(model), m_prepared(std::make_shared<Prepared>())
{
    Prepared &p = *m_prepared;
    for (const auto &k : model.keys) {
        p.expected.emplace(k.key, &k);
        p.expectedElements += k.elements;
    }
    p.tree = moduleTree(model);
    for (const auto &[m, names] : p.tree.locals)
        p.localSets[m].insert(names.begin(), names.end());
}

LoadReport checkLoad(const WeightsSource &weights, const ExpectedModel &model, const std::vector<RemapRule> &rules)
{
    return LoadChecker(model).check(weights, rules);
}

LoadReport LoadChecker::check(const WeightsSource &weights, const std::vector<RemapRule> &rules) const
{
    const ExpectedModel &model = m_model;
    const Prepared &prepared = *m_prepared;
    LoadReport r;
    r.stateDict = weights.stateDict;
    r.className = model.className;
    // The checkpoint as a dict after renaming: a later duplicate replaces the value and
    // keeps the first position, as assignment into a Python dict does.
    std::vector<std::string> order;
    std::unordered_map<std::string, size_t> index;
    std::vector<const KeySpec *> value;
    std::vector<std::string> original;
    const CompiledRules compiled(rules);
    for (const auto &k : weights.keys) {
        std::string mapped = compiled.apply(k.key);
        auto it = index.find(mapped);
        if (it == index.end()) {
            index.emplace(mapped, order.size());
            order.push_back(mapped);
            value.push_back(&k);
            original.push_back(k.key);
        } else {
            value[it->second] = &k;
            original[it->second] = k.key;
        }
    }
    // BatchNorm states older than version 2 get num_batches_tracked = tensor(0).
    std::vector<KeySpec> filled;
    filled.reserve(model.normModulesFillingBatchCount.size());
    for (const auto &m : model.normModulesFillingBatchCount) {
        int64_t version = 0;
        if (weights.hasMetadata && rules.empty()) {
            auto it = weights.versions.find(m);
            if (it == weights.versions.end())
                it = weights.versions.find("*");
            if (it != weights.versions.end())
                version = it->second;
        }
        const std::string key = m.empty() ? "num_batches_tracked" : m + ".num_batches_tracked";
        if (version < 2 && !index.count(key)) {
            KeySpec k;
            k.key = key;
            k.dtype = DType::Int64;
            k.elements = 1;
            filled.push_back(k);
        }
    }
    for (const auto &k : filled) {
        index.emplace(k.key, order.size());
        order.push_back(k.key);
        value.push_back(&k);
        original.push_back("(filled in by " + model.className + ")");
    }
    const auto &expected = prepared.expected;
    r.expectedElements = prepared.expectedElements;
    const ModuleTree &tree = prepared.tree;
    // Which module flags each checkpoint key as unexpected: walk the key's segments down
    // the module tree; the module where the next segment is neither a child nor one of
    // its own names reports it. One walk per key instead of every key per module.
    const auto &localSets = prepared.localSets;
    std::unordered_map<std::string, std::vector<size_t>> unexpectedBy;
    for (size_t i = 0; i < order.size(); ++i) {
        const std::string &key = order[i];
        std::string m;
        size_t pos = 0;
        for (;;) {
            const size_t dot = key.find('.', pos);
            const std::string first = key.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
            auto kids = tree.children.find(m);
            if (kids != tree.children.end() && kids->second.count(first)) {
                if (dot == std::string::npos)
                    break; // the key names a child module itself: no module sees it
                m = m.empty() ? first : m + "." + first;
                pos = dot + 1;
                continue;
            }
            auto own = localSets.find(m);
            if (own == localSets.end() || !own->second.count(first))
                unexpectedBy[m].push_back(i);
            break;
        }
    }

    // Module by module in pre-order, as load_state_dict's recursion does: each module
    // checks its own parameters and buffers, then flags keys under its prefix that name
    // neither one of them nor a child module.
    std::vector<std::string> sizeMessages;
    for (const auto &m : tree.order) {
        const std::string prefix = m.empty() ? std::string() : m + ".";
        static const std::vector<std::string> none;
        auto localsIt = tree.locals.find(m);
        const auto &locals = localsIt == tree.locals.end() ? none : localsIt->second;
        for (const auto &name : locals) {
            const std::string key = prefix + name;
            const KeySpec *want = expected.at(key);
            auto it = index.find(key);
            if (it == index.end()) {
                r.missing.push_back(key);
                continue;
            }
            const KeySpec *have = value[it->second];
            if (!sameShapeForLoad(want->shape, have->shape)) {
                r.checkpointStatus[original[it->second]] = "shape_mismatch";
                r.shapeMismatch.push_back({key, have->shape, want->shape});
                sizeMessages.push_back("size mismatch for " + key + ": copying a param with shape " +
                                       torchSizeText(have->shape) + " from checkpoint, the shape in current model is " +
                                       torchSizeText(want->shape) + ".");
                continue;
            }
            if (have->dtype != want->dtype)
                r.dtypeMismatch.push_back({key, have->dtype, want->dtype});
            r.checkpointStatus[original[it->second]] = have->dtype != want->dtype ? "cast" : "loaded";
            r.loaded.push_back(key);
            r.sources.emplace_back(key, original[it->second]);
            r.loadedElements += want->elements;
        }
        auto flagged = unexpectedBy.find(m);
        if (flagged != unexpectedBy.end()) {
            for (size_t i : flagged->second) {
                r.unexpected.push_back(order[i]);
                r.checkpointStatus[original[i]] = "unexpected";
            }
        }
    }
    std::vector<std::string> strict;
    if (!r.missing.empty())
        strict.push_back("Missing key(s) in state_dict: " + quotedList(r.missing) + ". ");
    if (!r.unexpected.empty())
        strict.push_back("Unexpected key(s) in state_dict: " + quotedList(r.unexpected) + ". ");
    strict.insert(strict.end(), sizeMessages.begin(), sizeMessages.end());
    r.strictOk = strict.empty();
    r.nonStrictOk = sizeMessages.empty();
    if (!r.strictOk)
        r.strictError = errorText(model.className, strict);
    if (!r.nonStrictOk)
        r.nonStrictError = errorText(model.className, sizeMessages);
    return r;
}

} // namespace te
