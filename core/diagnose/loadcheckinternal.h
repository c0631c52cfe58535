#pragma once
// Internal to core/diagnose: what the parts of the load check share (the model's module
// tree, the checkpoint renamed into a dict, load_state_dict's verdicts). Only loadcheck.cpp,
// moduletree.cpp, renameddict.cpp, verdicts.cpp and ruletrials.cpp include it.
#include "core/diagnose/loadcheck.h"
#include "core/diagnose/nametable.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace te {
namespace detail {

constexpr uint32_t kNone = NameTable::kNone;

inline std::string_view parentOf(std::string_view key)
{
    size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
}

inline std::string_view lastOf(std::string_view key)
{
    size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

inline bool sameShapeForLoad(const std::vector<int64_t> &model, const std::vector<int64_t> &checkpoint)
{
    // load_state_dict accepts a 1-element vector for a 0-d parameter (old checkpoints).
    if (model.empty() && checkpoint.size() == 1 && checkpoint[0] == 1)
        return true;
    return model == checkpoint;
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
    NameTable m_keyIndex;                    // model key -> distinct key
    std::vector<const KeySpec *> m_distinct; // first spec of each distinct key
    std::vector<uint32_t> m_distinctOf;      // per model key
    uint64_t m_expectedElements = 0;
    std::vector<std::string_view> m_paths; // per module, first seen first ("" is 0)
    std::vector<uint32_t> m_parents;       // per module: its parent module, kNone when none
    std::vector<uint32_t> m_ownKeys;
    std::vector<uint32_t> m_ownBegin; // per module: its keys in m_ownKeys, one past the last at the end
    std::string_view m_unnamedKey;
    std::vector<Module> m_order;
    std::vector<char> m_visited;         // per module: in m_order
    std::vector<uint32_t> m_occurrences; // per distinct key
    // Nodes: the modules first, then (for the walk) other strings the recursion's prefix
    // can be. Nodes are strings, not modules, because the recursion compares strings.
    mutable NameTable m_nodes;
    mutable NameTable m_children; // (node, child name) -> node, built on the first walk
    mutable NameTable m_ownNames; // (node, own name)
    mutable std::once_flag m_walkPrepared;
};

// Rules with their patterns compiled once, for applying them to every key.
class CompiledRules {
public:
    explicit CompiledRules(const std::vector<RemapRule> &rules);

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
        : entryOf(tree.keyCount(), kNone)
        , m_tree(tree)
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

// What load_state_dict says of one model key or checkpoint entry.
struct Verdict {
    enum Kind : uint8_t { Missing, SizeMismatch, Loaded, Cast, Unexpected };
    Kind kind;
    uint32_t key;   // distinct model key (all but Unexpected)
    uint32_t entry; // checkpoint entry (all but Missing)
};

// In verdicts.cpp: the verdicts in load_state_dict's order, then told as a report in
// PyTorch's words or as a count.
std::vector<Verdict> judge(const ModelTree &tree, const RenamedDict &dict);
LoadReport reportOf(const std::vector<Verdict> &verdicts, const ModelTree &tree, const RenamedDict &dict,
                    const std::string &className);
LoadCount countOf(const std::vector<Verdict> &verdicts);

} // namespace detail

// What checkLoad needs to know about the model, worked out once for many checks.
struct LoadChecker::Prepared : detail::ModelTree {
    using ModelTree::ModelTree;
};

} // namespace te
