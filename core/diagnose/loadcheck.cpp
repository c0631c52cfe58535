#include "core/diagnose/loadcheck.h"

#include "core/diagnose/nametable.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <iterator>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

namespace te {
namespace {

constexpr uint32_t kNone = NameTable::kNone;

std::string_view parentOf(std::string_view key)
{
    size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
}

std::string_view lastOf(std::string_view key)
{
    size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

std::string quotedList(const std::vector<std::string> &keys)
{
    std::string s;
    for (size_t i = 0; i < keys.size(); ++i)
        s.append(i ? ", \"" : "\"").append(keys[i]).append("\"");
    return s;
}

KeySpec specOf(const Document &doc, std::string key, int tensor)
{
    const TensorInfo &t = doc.tensors[static_cast<size_t>(tensor)];
    KeySpec k;
    k.key = std::move(key);
    k.shape = t.shape;
    k.dtype = t.dtype;
    const int64_t elements = t.numel();
    k.elements = elements > 0 ? static_cast<uint64_t>(elements) : 0;
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

std::string errorText(const std::string &cls, const std::vector<std::string> &messages)
{
    std::string s = "Error(s) in loading state_dict for " + cls + ":";
    for (const auto &m : messages)
        s.append("\n\t").append(m);
    return s;
}

// The module tree load_state_dict recurses through, given by the reference or derived from
// its keys. Modules are numbered in first-seen order and named by views into the model's
// strings. Finding the module that flags a key walks numbered nodes, hashing each segment
// once and never a whole path, so deep keys cost what their length does.
class ModelTree {
public:
    struct Module {
        uint32_t node;
        uint32_t keysBegin, keysEnd; // its own parameters and buffers, in ownKeys
    };

    explicit ModelTree(const ExpectedModel &model);

    const std::vector<Module> &order() const { return m_order; } // pre-order, as the recursion visits
    // Distinct model keys (kNone for a key the recursion names differently, see linkKeys).
    const std::vector<uint32_t> &ownKeys() const { return m_ownKeys; }
    // The first model key that is kNone in ownKeys.
    std::string_view unnamedKey() const { return m_unnamedKey; }
    const KeySpec *spec(uint32_t key) const { return m_distinct[key]; }
    size_t keyCount() const { return m_distinct.size(); }
    uint32_t keyOf(std::string_view name) const { return m_keyIndex.find(name); }
    uint64_t expectedElements() const { return m_expectedElements; }
    // How often the recursion checks a distinct key (its modules' own keys, over all modules).
    uint32_t occurrences(uint32_t key) const { return m_occurrences[key]; }
    // The node of the module that flags `name` as unexpected, or kNone.
    uint32_t flaggedBy(std::string_view name) const;
    // Whether the recursion visits the module of this node, so it reports what it flags.
    bool visits(uint32_t node) const { return node < m_visited.size() && m_visited[node]; }
    size_t nodeCount() const { return m_nodes.size(); }

private:
    void indexKeys();
    std::vector<uint32_t> collectModules();
    void linkKeys(const std::vector<uint32_t> &parentOfKey);
    void sortPreOrder();
    uint32_t addModule(std::string_view path);
    void prepareWalk() const;
    uint32_t intern(std::string_view s) const { return m_nodes.insert(s, static_cast<uint32_t>(m_nodes.size())).first; }

    const ExpectedModel &m_model;
    NameTable m_keyIndex;                   // model key -> distinct key
    std::vector<const KeySpec *> m_distinct; // first spec of each distinct key
    std::vector<uint32_t> m_distinctOf;      // per model key
    uint64_t m_expectedElements = 0;
    std::vector<std::string_view> m_paths;  // per module, first seen first ("" is 0)
    std::vector<uint32_t> m_parents;        // per module: its parent module, kNone when none
    std::vector<uint32_t> m_ownKeys;
    std::vector<uint32_t> m_ownBegin;       // per module: its keys in m_ownKeys, one past the last at the end
    std::string_view m_unnamedKey;
    std::vector<Module> m_order;
    std::vector<char> m_visited;        // per module: in m_order
    std::vector<uint32_t> m_occurrences; // per distinct key
    // Nodes: the modules first, then (for the walk) other strings the recursion's prefix
    // can be. Nodes are strings, not modules, because the recursion compares strings.
    mutable NameTable m_nodes;
    mutable NameTable m_children; // (node, child name) -> node, built on the first walk
    mutable NameTable m_ownNames; // (node, own name)
    mutable std::once_flag m_walkPrepared;
};

ModelTree::ModelTree(const ExpectedModel &model) : m_model(model), m_keyIndex(model.keys.size())
{
    indexKeys();
    const auto parentOfKey = collectModules();
    linkKeys(parentOfKey);
    sortPreOrder();
}

void ModelTree::indexKeys()
{
    m_distinctOf.reserve(m_model.keys.size());
    for (const auto &k : m_model.keys) {
        const auto [key, added] = m_keyIndex.insert(k.key, static_cast<uint32_t>(m_distinct.size()));
        if (added)
            m_distinct.push_back(&k);
        m_distinctOf.push_back(key);
        m_expectedElements += k.elements;
    }
}

uint32_t ModelTree::addModule(std::string_view path)
{
    const auto [node, added] = m_nodes.insert(path, static_cast<uint32_t>(m_paths.size()));
    if (added) {
        m_paths.push_back(path);
        m_parents.push_back(kNone);
    }
    return node;
}

// The reference's modules, then every proper prefix of a key, parents first. The look back
// up a key ends at a prefix known with all of its own prefixes, so a key costs its new
// modules, not its depth times its length. Returns the module of each key's parent path.
std::vector<uint32_t> ModelTree::collectModules()
{
    std::vector<char> closed; // all proper prefixes of the module's path are modules too
    addModule("");
    for (const auto &m : m_model.modulePaths)
        addModule(m);
    closed.assign(m_paths.size(), 0);
    closed[0] = 1;
    std::vector<uint32_t> parentOfKey;
    parentOfKey.reserve(m_model.keys.size());
    std::vector<size_t> dots;
    for (const auto &k : m_model.keys) {
        const std::string_view key = k.key;
        dots.clear();
        for (size_t pos = key.find('.'); pos != std::string_view::npos; pos = key.find('.', pos + 1))
            dots.push_back(pos);
        size_t known = dots.size();
        uint32_t module = 0;
        for (; known > 0; --known) {
            module = m_nodes.find(key.substr(0, dots[known - 1]));
            if (module != kNone && closed[module])
                break;
        }
        if (known == 0)
            module = 0;
        for (; known < dots.size(); ++known) {
            const uint32_t parent = module;
            module = addModule(key.substr(0, dots[known]));
            closed.resize(m_paths.size(), 0);
            closed[module] = 1;
            if (m_parents[module] == kNone && module != 0)
                m_parents[module] = parent;
        }
        parentOfKey.push_back(module);
    }
    for (uint32_t m = 1; m < m_paths.size(); ++m)
        if (m_parents[m] == kNone)
            m_parents[m] = m_nodes.find(parentOf(m_paths[m]));
    return parentOfKey;
}

// Each module's own keys, in the model's order.
void ModelTree::linkKeys(const std::vector<uint32_t> &parentOfKey)
{
    m_ownBegin.assign(m_paths.size() + 1, 0);
    for (const uint32_t m : parentOfKey)
        ++m_ownBegin[m + 1];
    for (size_t m = 0; m < m_paths.size(); ++m)
        m_ownBegin[m + 1] += m_ownBegin[m];
    std::vector<uint32_t> next(m_ownBegin.begin(), m_ownBegin.end() - 1);
    m_ownKeys.resize(parentOfKey.size());
    for (size_t i = 0; i < parentOfKey.size(); ++i) {
        // The recursion names a key prefix + name: under the root that is the last name
        // alone, which for a key with a leading dot is not the key itself.
        const std::string_view key = m_model.keys[i].key;
        const bool leadingDot = parentOfKey[i] == 0 && key.find('.') != std::string_view::npos;
        const uint32_t named = leadingDot ? keyOf(lastOf(key)) : m_distinctOf[i];
        m_ownKeys[next[parentOfKey[i]]++] = named;
        if (named == kNone && m_unnamedKey.empty())
            m_unnamedKey = key;
    }
}

// A module's subtree follows it directly; siblings keep their first-seen order. Modules
// whose parent path is no module are not visited, as in the recursion.
void ModelTree::sortPreOrder()
{
    std::vector<uint32_t> kidsBegin(m_paths.size() + 1, 0);
    for (uint32_t m = 1; m < m_paths.size(); ++m)
        if (m_parents[m] != kNone)
            ++kidsBegin[m_parents[m] + 1];
    for (size_t m = 0; m < m_paths.size(); ++m)
        kidsBegin[m + 1] += kidsBegin[m];
    std::vector<uint32_t> kids(kidsBegin.back()), next(kidsBegin.begin(), kidsBegin.end() - 1);
    for (uint32_t m = 1; m < m_paths.size(); ++m)
        if (m_parents[m] != kNone)
            kids[next[m_parents[m]]++] = m;
    std::vector<uint32_t> stack{0};
    m_visited.assign(m_paths.size(), 0);
    m_occurrences.assign(m_distinct.size(), 0);
    while (!stack.empty()) {
        const uint32_t m = stack.back();
        stack.pop_back();
        m_order.push_back({m, m_ownBegin[m], m_ownBegin[m + 1]});
        m_visited[m] = 1;
        for (uint32_t i = m_ownBegin[m]; i < m_ownBegin[m + 1]; ++i)
            if (m_ownKeys[i] != kNone)
                ++m_occurrences[m_ownKeys[i]];
        stack.insert(stack.end(), kids.rbegin() + (kids.size() - kidsBegin[m + 1]),
                     kids.rbegin() + (kids.size() - kidsBegin[m]));
    }
}

// The recursion descends from prefix m into child c when c is a module whose path splits
// into m and c at its last dot; the prefix is then m + "." + c, or c alone under the root.
void ModelTree::prepareWalk() const
{
    for (uint32_t m = 1; m < m_paths.size(); ++m) {
        const std::string_view path = m_paths[m], parent = parentOf(path), name = lastOf(path);
        const uint32_t into = parent.empty() ? intern(name) : m;
        m_children.insert(name, into, intern(parent));
    }
    for (size_t i = 0; i < m_model.keys.size(); ++i)
        m_ownNames.insert(lastOf(m_model.keys[i].key), 0, intern(parentOf(m_model.keys[i].key)));
}

uint32_t ModelTree::flaggedBy(std::string_view name) const
{
    std::call_once(m_walkPrepared, [this] { prepareWalk(); });
    uint32_t node = 0; // ""
    size_t pos = 0;
    for (;;) {
        const size_t dot = name.find('.', pos);
        const std::string_view first = name.substr(pos, dot == std::string_view::npos ? dot : dot - pos);
        const uint32_t child = m_children.find(first, node);
        if (child != kNone) {
            if (dot == std::string_view::npos)
                return kNone; // the name is a child module itself: no module sees it
            node = child;
            pos = dot + 1;
            continue;
        }
        return m_ownNames.find(first, node) == kNone ? node : kNone;
    }
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

// The text a pattern matches when it is a plain string, optionally anchored, with its
// special characters escaped (the doctor writes its rename rules so); empty otherwise. A
// key without that text cannot match, and std::regex is slow on a hundred thousand keys.
std::string literalOf(const std::string &pattern)
{
    static const char kSpecial[] = ".^$|()[]{}*+?\\";
    const auto special = [](char c) { return std::char_traits<char>::find(kSpecial, sizeof kSpecial - 1, c) != nullptr; };
    std::string text;
    size_t end = pattern.size();
    if (end > 0 && pattern[end - 1] == '$' && !(end > 1 && pattern[end - 2] == '\\'))
        --end;
    for (size_t i = pattern.compare(0, 1, "^") == 0 ? 1 : 0; i < end; ++i) {
        if (pattern[i] == '\\' && i + 1 < end && special(pattern[i + 1]))
            text += pattern[++i];
        else if (!special(pattern[i]))
            text += pattern[i];
        else
            return {};
    }
    return text;
}

// Rules with their patterns compiled once, for applying them to every key.
class CompiledRules {
public:
    explicit CompiledRules(const std::vector<RemapRule> &rules) : m_rules(rules)
    {
        for (const auto &r : rules) {
            m_patterns.emplace_back();
            m_literals.emplace_back();
            if (r.kind != RemapRule::Kind::Prefix) {
                try {
                    m_patterns.back() = std::make_unique<std::regex>(r.from);
                    m_literals.back() = literalOf(r.from);
                } catch (const std::regex_error &) {
                    // an invalid pattern changes nothing; the rule editor says why
                }
            }
        }
    }

    bool empty() const { return m_rules.empty(); }

    // `key` after the rules: a view into `key` itself while they at most cut its front
    // (*copied false), else into `scratch`.
    std::string_view apply(std::string_view key, std::string &scratch, bool *copied) const
    {
        std::string_view k = key;
        *copied = false;
        for (size_t i = 0; i < m_rules.size(); ++i) {
            const RemapRule &r = m_rules[i];
            if (r.kind == RemapRule::Kind::Prefix) {
                if (k.compare(0, r.from.size(), r.from) != 0)
                    continue;
                if (r.to.empty()) {
                    k.remove_prefix(r.from.size());
                    continue;
                }
                if (*copied) { // k is the end of scratch
                    scratch.erase(0, scratch.size() - k.size());
                    scratch.replace(0, r.from.size(), r.to);
                } else {
                    scratch.assign(r.to).append(k.substr(r.from.size()));
                }
            } else if (m_patterns[i] && (m_literals[i].empty() || k.find(m_literals[i]) != std::string_view::npos)) {
                scratch = std::regex_replace(std::string(k), *m_patterns[i], r.to);
            } else {
                continue;
            }
            k = scratch;
            *copied = true;
        }
        return k;
    }

private:
    const std::vector<RemapRule> &m_rules;
    std::vector<std::unique_ptr<std::regex>> m_patterns;
    std::vector<std::string> m_literals; // empty: no shortcut
};

} // namespace

std::string applyRules(const std::string &key, const std::vector<RemapRule> &rules)
{
    std::string scratch;
    bool copied = false;
    return std::string(CompiledRules(rules).apply(key, scratch, &copied));
}

std::vector<std::string> applyRules(const std::vector<KeySpec> &keys, const std::vector<RemapRule> &rules)
{
    const CompiledRules compiled(rules);
    std::vector<std::string> out;
    out.reserve(keys.size());
    std::string scratch;
    bool copied = false;
    for (const auto &k : keys)
        out.emplace_back(compiled.apply(k.key, scratch, &copied));
    return out;
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
        m.className = ref.format == FileFormat::TorchScript ? "RecursiveScriptModule" : std::string(lastOf(root->className));
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

namespace {

// One key of the checkpoint as a dict after renaming.
struct DictEntry {
    std::string_view name;
    const KeySpec *value;
    uint32_t modelKey; // distinct index of the model key it names, or kNone
    bool filled;       // filled in by load_state_dict, not in the checkpoint
};

// The checkpoint as a dict after renaming: a later duplicate replaces the value and keeps
// the first position, as assignment into a Python dict does. Names the model expects are
// found by their model key, only the others through a table of their own.
class RenamedDict {
public:
    RenamedDict(const ModelTree &tree, const WeightsSource &weights, const CompiledRules &rules)
        : entryOf(tree.keyCount(), kNone), m_tree(tree)
    {
        rename(weights, rules);
    }
    RenamedDict(const RenamedDict &) = delete;
    RenamedDict &operator=(const RenamedDict &) = delete;

    void fillBatchCounts(const ExpectedModel &model, const WeightsSource &weights, bool noRules);
    // The entry of that name, or kNone.
    uint32_t entryNamed(std::string_view name) const { return find(name, m_tree.keyOf(name)); }

    std::vector<DictEntry> entries;
    std::vector<uint32_t> entryOf; // per distinct model key: the entry naming it, or kNone

private:
    void rename(const WeightsSource &weights, const CompiledRules &rules);
    uint32_t find(std::string_view name, uint32_t modelKey) const;
    void assign(std::string_view name, const KeySpec *value);

    const ModelTree &m_tree;
    std::string m_renamed; // renamed names, back to back
    NameTable m_other;     // names the model does not expect
    std::vector<KeySpec> m_filled;
};

void RenamedDict::rename(const WeightsSource &weights, const CompiledRules &rules)
{
    entries.reserve(weights.keys.size());
    if (rules.empty()) {
        for (const auto &k : weights.keys)
            assign(k.key, &k);
        return;
    }
    // Renamed names are gathered first: views into m_renamed stay valid once it is whole.
    struct Name {
        std::string_view inKey; // the name when the rules only cut the key's front
        size_t offset = SIZE_MAX, size = 0; // else where it is in m_renamed
    };
    std::vector<Name> names(weights.keys.size());
    std::string scratch;
    for (size_t i = 0; i < names.size(); ++i) {
        bool copied = false;
        const std::string_view name = rules.apply(weights.keys[i].key, scratch, &copied);
        if (copied) {
            names[i].offset = m_renamed.size();
            names[i].size = name.size();
            m_renamed.append(name);
        } else {
            names[i].inKey = name;
        }
    }
    const std::string_view renamed = m_renamed;
    for (size_t i = 0; i < names.size(); ++i) {
        const Name &n = names[i];
        assign(n.offset == SIZE_MAX ? n.inKey : renamed.substr(n.offset, n.size), &weights.keys[i]);
    }
}

uint32_t RenamedDict::find(std::string_view name, uint32_t modelKey) const
{
    if (modelKey != kNone)
        return entryOf[modelKey];
    return m_other.find(name);
}

void RenamedDict::assign(std::string_view name, const KeySpec *value)
{
    const uint32_t modelKey = m_tree.keyOf(name);
    const uint32_t at = find(name, modelKey);
    if (at != kNone) {
        entries[at].value = value;
        return;
    }
    const auto next = static_cast<uint32_t>(entries.size());
    if (modelKey != kNone)
        entryOf[modelKey] = next;
    else
        m_other.insert(name, next);
    entries.push_back({name, value, modelKey, false});
}

// BatchNorm states older than version 2 get num_batches_tracked = tensor(0).
void RenamedDict::fillBatchCounts(const ExpectedModel &model, const WeightsSource &weights, bool noRules)
{
    m_filled.reserve(model.normModulesFillingBatchCount.size()); // views into it must stay valid
    for (const auto &m : model.normModulesFillingBatchCount) {
        int64_t version = 0;
        if (weights.hasMetadata && noRules) {
            auto it = weights.versions.find(m);
            if (it == weights.versions.end())
                it = weights.versions.find("*");
            if (it != weights.versions.end())
                version = it->second;
        }
        std::string key = m.empty() ? "num_batches_tracked" : m + ".num_batches_tracked";
        if (version < 2 && find(key, m_tree.keyOf(key)) == kNone) {
            KeySpec k;
            k.key = std::move(key);
            k.dtype = DType::Int64;
            k.elements = 1;
            m_filled.push_back(std::move(k));
        }
    }
    // Filled in after the existence checks: two norm modules of one path both add a key,
    // the first keeps the name.
    for (const auto &k : m_filled) {
        const uint32_t modelKey = m_tree.keyOf(k.key);
        const auto next = static_cast<uint32_t>(entries.size());
        if (modelKey != kNone && entryOf[modelKey] == kNone)
            entryOf[modelKey] = next;
        else if (modelKey == kNone)
            m_other.insert(k.key, next);
        entries.push_back({k.key, &k, modelKey, true});
    }
}

// What load_state_dict says of one model key or checkpoint entry.
struct Verdict {
    enum Kind : uint8_t { Missing, SizeMismatch, Loaded, Cast, Unexpected };
    Kind kind;
    uint32_t key;   // distinct model key (all but Unexpected)
    uint32_t entry; // checkpoint entry (all but Missing)
};

// Which module flags each checkpoint entry as unexpected, entries by node. A name the
// model expects walks down to its own module and is never flagged, so it is not walked
// (unless it starts with a dot: its first prefix is then the root's).
std::vector<std::vector<uint32_t>> flagUnexpected(const ModelTree &tree, const RenamedDict &dict)
{
    std::vector<std::vector<uint32_t>> byNode;
    for (uint32_t i = 0; i < dict.entries.size(); ++i) {
        const std::string_view name = dict.entries[i].name;
        if (dict.entries[i].modelKey != kNone && !(!name.empty() && name.front() == '.'))
            continue;
        const uint32_t node = tree.flaggedBy(name);
        if (node == kNone)
            continue;
        byNode.resize(tree.nodeCount());
        byNode[node].push_back(i);
    }
    return byNode;
}

// Module by module in pre-order, as load_state_dict's recursion does: each module checks
// its own parameters and buffers, then flags keys under its prefix that name neither one
// of them nor a child module.
std::vector<Verdict> judge(const ModelTree &tree, const RenamedDict &dict)
{
    const auto flagged = flagUnexpected(tree, dict);
    const auto &ownKeys = tree.ownKeys();
    std::vector<Verdict> verdicts;
    verdicts.reserve(ownKeys.size() + dict.entries.size());
    for (const auto &module : tree.order()) {
        for (uint32_t i = module.keysBegin; i < module.keysEnd; ++i) {
            const uint32_t key = ownKeys[i];
            if (key == kNone) // the root would check ".w" as "w", which the model lacks
                throw std::runtime_error("cannot check against the key '" + std::string(tree.unnamedKey()) +
                                         "': a key that starts with a dot names no parameter of a module");
            const uint32_t e = dict.entryOf[key];
            if (e == kNone) {
                verdicts.push_back({Verdict::Missing, key, kNone});
                continue;
            }
            const KeySpec *want = tree.spec(key), *have = dict.entries[e].value;
            if (!sameShapeForLoad(want->shape, have->shape))
                verdicts.push_back({Verdict::SizeMismatch, key, e});
            else
                verdicts.push_back({have->dtype != want->dtype ? Verdict::Cast : Verdict::Loaded, key, e});
        }
        if (module.node < flagged.size())
            for (const uint32_t e : flagged[module.node])
                verdicts.push_back({Verdict::Unexpected, kNone, e});
    }
    return verdicts;
}

// Every checkpoint key's last verdict, by its original name.
std::map<std::string, std::string> statusByName(std::vector<std::pair<std::string_view, const char *>> &statuses)
{
    std::stable_sort(statuses.begin(), statuses.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    std::map<std::string, std::string> out;
    for (size_t i = 0; i < statuses.size(); ++i)
        if (i + 1 == statuses.size() || statuses[i + 1].first != statuses[i].first)
            out.emplace_hint(out.end(), statuses[i].first, statuses[i].second);
    return out;
}

// The verdicts in PyTorch's words.
LoadReport reportOf(const std::vector<Verdict> &verdicts, const ModelTree &tree, const RenamedDict &dict,
                    const std::string &className)
{
    LoadReport r;
    r.className = className;
    r.expectedElements = tree.expectedElements();
    const std::string filledBy = "(filled in by " + className + ")";
    auto originalOf = [&](uint32_t e) -> std::string_view {
        return dict.entries[e].filled ? std::string_view(filledBy) : std::string_view(dict.entries[e].value->key);
    };
    std::vector<std::pair<std::string_view, const char *>> statuses;
    std::vector<std::string> sizeMessages;
    for (const Verdict &v : verdicts) {
        const KeySpec *want = v.key == kNone ? nullptr : tree.spec(v.key);
        const KeySpec *have = v.entry == kNone ? nullptr : dict.entries[v.entry].value;
        switch (v.kind) {
        case Verdict::Missing:
            r.missing.push_back(want->key);
            break;
        case Verdict::SizeMismatch:
            statuses.emplace_back(originalOf(v.entry), "shape_mismatch");
            r.shapeMismatch.push_back({want->key, have->shape, want->shape});
            sizeMessages.push_back("size mismatch for " + want->key + ": copying a param with shape " +
                                   torchSizeText(have->shape) + " from checkpoint, the shape in current model is " +
                                   torchSizeText(want->shape) + ".");
            break;
        case Verdict::Loaded:
        case Verdict::Cast:
            if (v.kind == Verdict::Cast)
                r.dtypeMismatch.push_back({want->key, have->dtype, want->dtype});
            statuses.emplace_back(originalOf(v.entry), v.kind == Verdict::Cast ? "cast" : "loaded");
            r.loaded.push_back(want->key);
            r.sources.emplace_back(want->key, originalOf(v.entry));
            r.loadedElements += want->elements;
            break;
        case Verdict::Unexpected:
            r.unexpected.emplace_back(dict.entries[v.entry].name);
            statuses.emplace_back(originalOf(v.entry), "unexpected");
            break;
        }
    }
    r.checkpointStatus = statusByName(statuses);
    std::vector<std::string> strict;
    if (!r.missing.empty())
        strict.push_back("Missing key(s) in state_dict: " + quotedList(r.missing) + ". ");
    if (!r.unexpected.empty())
        strict.push_back("Unexpected key(s) in state_dict: " + quotedList(r.unexpected) + ". ");
    strict.insert(strict.end(), sizeMessages.begin(), sizeMessages.end());
    r.strictOk = strict.empty();
    r.nonStrictOk = sizeMessages.empty();
    if (!r.strictOk)
        r.strictError = errorText(className, strict);
    if (!r.nonStrictOk)
        r.nonStrictError = errorText(className, sizeMessages);
    return r;
}

} // namespace

// What checkLoad needs to know about the model, worked out once for many checks.
struct LoadChecker::Prepared : ModelTree {
    using ModelTree::ModelTree;
};

LoadChecker::LoadChecker(const ExpectedModel &model) : m_model(model), m_prepared(std::make_shared<Prepared>(model))
{
}

LoadReport checkLoad(const WeightsSource &weights, const ExpectedModel &model, const std::vector<RemapRule> &rules)
{
    return LoadChecker(model).check(weights, rules);
}

namespace {

LoadCount countOf(const std::vector<Verdict> &verdicts)
{
    LoadCount c;
    for (const Verdict &v : verdicts) {
        switch (v.kind) {
        case Verdict::Missing:
            ++c.missing;
            break;
        case Verdict::SizeMismatch:
            ++c.shapeMismatch;
            break;
        case Verdict::Loaded:
        case Verdict::Cast:
            c.loaded.push_back(v.key);
            break;
        case Verdict::Unexpected:
            ++c.unexpected;
            break;
        }
    }
    std::sort(c.loaded.begin(), c.loaded.end());
    return c;
}

} // namespace

LoadReport LoadChecker::check(const WeightsSource &weights, const std::vector<RemapRule> &rules, LoadCount *count) const
{
    const CompiledRules compiled(rules);
    RenamedDict dict(*m_prepared, weights, compiled);
    dict.fillBatchCounts(m_model, weights, rules.empty());
    const std::vector<Verdict> verdicts = judge(*m_prepared, dict);
    LoadReport r = reportOf(verdicts, *m_prepared, dict, m_model.className);
    r.stateDict = weights.stateDict;
    if (count)
        *count = countOf(verdicts);
    return r;
}

LoadCount LoadChecker::count(const WeightsSource &weights, const std::vector<RemapRule> &rules) const
{
    const CompiledRules compiled(rules);
    RenamedDict dict(*m_prepared, weights, compiled);
    dict.fillBatchCounts(m_model, weights, rules.empty());
    return countOf(judge(*m_prepared, dict));
}

// The weights as they stand, checked as after a rule (with the batch counts such a check
// fills in), and per name what a rule can change: which keys have it, what fills it in.
struct RuleTrials::Base {
    Base(const ModelTree &tree, const ExpectedModel &model, const WeightsSource &weights);

    const ModelTree &tree;
    const WeightsSource &weights;
    RenamedDict dict;
    LoadCount count;
    std::vector<uint32_t> keysBegin, keys; // per entry: the weights keys of its name, in order
    std::vector<std::string> filledNames;   // of the batch counts filled in when missing
    NameTable filledIndex;                  // name -> index in fillCounts
    std::vector<uint32_t> fillCounts;       // norm modules filling each name
    KeySpec filled;                         // what they fill in
    // At most this many keys load whatever the names: the checks of each name's model key.
    uint64_t loadable = 0;
    std::vector<uint32_t> loadableOf; // per weights key: the checks of its name's model key
};

namespace {
const std::vector<RemapRule> kNoRules;
}

RuleTrials::Base::Base(const ModelTree &tree, const ExpectedModel &model, const WeightsSource &weights)
    : tree(tree), weights(weights), dict(tree, weights, CompiledRules(kNoRules))
{
    dict.fillBatchCounts(model, weights, false);
    count = countOf(judge(tree, dict));
    std::vector<uint32_t> entryOfKey;
    entryOfKey.reserve(weights.keys.size());
    keysBegin.assign(dict.entries.size() + 1, 0);
    for (const auto &k : weights.keys) {
        entryOfKey.push_back(dict.entryNamed(k.key));
        ++keysBegin[entryOfKey.back() + 1];
    }
    for (size_t e = 0; e < dict.entries.size(); ++e)
        keysBegin[e + 1] += keysBegin[e];
    std::vector<uint32_t> next(keysBegin.begin(), keysBegin.end() - 1);
    keys.resize(weights.keys.size());
    for (uint32_t i = 0; i < entryOfKey.size(); ++i)
        keys[next[entryOfKey[i]]++] = i;
    filledNames.reserve(model.normModulesFillingBatchCount.size());
    for (const auto &m : model.normModulesFillingBatchCount) {
        filledNames.push_back(m.empty() ? "num_batches_tracked" : m + ".num_batches_tracked");
        const auto [at, added] = filledIndex.insert(filledNames.back(), static_cast<uint32_t>(fillCounts.size()));
        if (added)
            fillCounts.push_back(0);
        ++fillCounts[at];
    }
    filled.dtype = DType::Int64;
    filled.elements = 1;
    auto checksOf = [&tree](std::string_view name) {
        const uint32_t key = tree.keyOf(name);
        return key == kNone ? 0 : tree.occurrences(key);
    };
    loadableOf.reserve(weights.keys.size());
    for (const auto &k : weights.keys)
        loadable += loadableOf.emplace_back(checksOf(k.key));
    for (const auto &f : filledNames)
        loadable += checksOf(f);
}

RuleTrials::RuleTrials(const LoadChecker &checker, const WeightsSource &weights)
    : m_checker(checker), m_base(std::make_unique<Base>(*checker.m_prepared, checker.m_model, weights))
{
}

RuleTrials::~RuleTrials() = default;

namespace {

// What a dict holds under one name: the value, and how many entries have the name (more
// than one only for batch counts filled in twice).
struct NameState {
    const KeySpec *value = nullptr;
    uint32_t entries = 0;
};

// A count's change when the entries under some names change.
struct CountChange {
    int64_t missing = 0, unexpected = 0, shapeMismatch = 0;
    std::vector<uint32_t> lost, gained; // loaded keys

    // What the name's state adds to a count (sign 1) or takes from it (sign -1).
    void add(const ModelTree &tree, std::string_view name, const NameState &state, int sign)
    {
        const uint32_t key = tree.keyOf(name);
        if (key != kNone) {
            const int64_t n = tree.occurrences(key);
            if (!state.value)
                missing += sign * n;
            else if (!sameShapeForLoad(tree.spec(key)->shape, state.value->shape))
                shapeMismatch += sign * n;
            else
                (sign > 0 ? gained : lost).insert((sign > 0 ? gained : lost).end(), static_cast<size_t>(n), key);
        }
        if (state.entries > 0 && (key == kNone || (!name.empty() && name.front() == '.'))) {
            const uint32_t node = tree.flaggedBy(name);
            if (node != kNone && tree.visits(node))
                unexpected += sign * static_cast<int64_t>(state.entries);
        }
    }

    LoadCount applied(const LoadCount &before)
    {
        LoadCount c;
        c.missing = static_cast<size_t>(static_cast<int64_t>(before.missing) + missing);
        c.unexpected = static_cast<size_t>(static_cast<int64_t>(before.unexpected) + unexpected);
        c.shapeMismatch = static_cast<size_t>(static_cast<int64_t>(before.shapeMismatch) + shapeMismatch);
        std::sort(lost.begin(), lost.end());
        std::sort(gained.begin(), gained.end());
        std::vector<uint32_t> kept;
        kept.reserve(before.loaded.size());
        std::set_difference(before.loaded.begin(), before.loaded.end(), lost.begin(), lost.end(), std::back_inserter(kept));
        c.loaded.reserve(kept.size() + gained.size());
        std::merge(kept.begin(), kept.end(), gained.begin(), gained.end(), std::back_inserter(c.loaded));
        return c;
    }
};

} // namespace

std::optional<LoadCount> RuleTrials::count(const RemapRule &rule, size_t atLeast) const
{
    const Base &b = *m_base;
    const std::vector<RemapRule> rules{rule};
    const CompiledRules compiled(rules);
    // The keys the rule renames, with their new names back to back.
    std::vector<uint32_t> renamed;
    std::vector<size_t> ends;
    std::string names, scratch;
    uint64_t loadable = b.loadable; // at most this many keys load
    for (uint32_t i = 0; i < b.weights.keys.size(); ++i) {
        const std::string &key = b.weights.keys[i].key;
        bool copied = false;
        const std::string_view name = compiled.apply(key, scratch, &copied);
        if (copied ? name == key : name.size() == key.size())
            continue;
        const uint32_t to = b.tree.keyOf(name);
        loadable = loadable - b.loadableOf[i] + (to == kNone ? 0 : b.tree.occurrences(to));
        renamed.push_back(i);
        names.append(name);
        ends.push_back(names.size());
    }
    if (loadable < atLeast)
        return std::nullopt;
    // A rule that renames many keys is counted from scratch; one that renames a few by the
    // names it touches.
    if (renamed.size() * 8 > b.weights.keys.size())
        return m_checker.count(b.weights, rules);
    return countRenaming(renamed, names, ends);
}

// The count after renaming keys `renamed` to the names in `names` (ending at `ends`): each
// name a renamed key leaves or takes changes its state; the others keep theirs.
LoadCount RuleTrials::countRenaming(const std::vector<uint32_t> &renamed, const std::string &names,
                                    const std::vector<size_t> &ends) const
{
    const Base &b = *m_base;
    std::vector<char> moved(b.weights.keys.size(), 0);
    for (const uint32_t i : renamed)
        moved[i] = 1;
    // Touched names, each with the last renamed key that takes it.
    NameTable touchedIndex(2 * renamed.size());
    std::vector<std::pair<std::string_view, uint32_t>> touched;
    auto touch = [&](std::string_view name, uint32_t taker) {
        const auto [at, added] = touchedIndex.insert(name, static_cast<uint32_t>(touched.size()));
        if (added)
            touched.emplace_back(name, kNone);
        if (taker != kNone && (touched[at].second == kNone || touched[at].second < taker))
            touched[at].second = taker;
    };
    for (size_t j = 0; j < renamed.size(); ++j) {
        touch(b.weights.keys[renamed[j]].key, kNone);
        touch(std::string_view(names).substr(j ? ends[j - 1] : 0, ends[j] - (j ? ends[j - 1] : 0)), renamed[j]);
    }
    CountChange change;
    for (const auto &[name, taker] : touched) {
        const uint32_t e = b.dict.entryNamed(name);
        const uint32_t filledBy = b.filledIndex.find(name);
        const NameState filled{&b.filled, filledBy == kNone ? 0 : b.fillCounts[filledBy]};
        NameState before, after;
        if (e != kNone)
            before = b.dict.entries[e].filled ? filled : NameState{b.dict.entries[e].value, 1};
        uint32_t last = taker;
        if (e != kNone && !b.dict.entries[e].filled)
            for (uint32_t k = b.keysBegin[e]; k < b.keysBegin[e + 1]; ++k)
                if (!moved[b.keys[k]] && (last == kNone || b.keys[k] > last))
                    last = b.keys[k];
        after = last != kNone ? NameState{&b.weights.keys[last], 1} : filled.entries ? filled : NameState{};
        change.add(b.tree, name, before, -1);
        change.add(b.tree, name, after, 1);
    }
    return change.applied(b.count);
}

} // namespace te
