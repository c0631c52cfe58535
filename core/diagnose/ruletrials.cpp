// The doctor's trials of candidate rules, one rule at a time: a rule that renames a few
// keys is counted by the names it touches.
#include "core/diagnose/loadcheck.h"

#include "core/diagnose/loadcheckinternal.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace te {

using detail::CompiledRules;
using detail::countOf;
using detail::judge;
using detail::kNone;
using detail::ModelTree;
using detail::RenamedDict;
using detail::sameShapeForLoad;

// The weights as they stand, checked as after a rule (with the batch counts such a check
// fills in), and per name what a rule can change: which keys have it, what fills it in.
struct RuleTrials::Base {
    Base(const ModelTree &tree, const ExpectedModel &model, const WeightsSource &weights);

    const ModelTree &tree;
    const WeightsSource &weights;
    RenamedDict dict;
    LoadCount count;
    std::vector<uint32_t> keysBegin, keys; // per entry: the weights keys of its name, in order
    std::vector<std::string> filledNames;  // of the batch counts filled in when missing
    NameTable filledIndex;                 // name -> index in fillCounts
    std::vector<uint32_t> fillCounts;      // norm modules filling each name
    KeySpec filled;                        // what they fill in
    // At most this many keys load whatever the names: the checks of each name's model key.
    uint64_t loadable = 0;
    std::vector<uint32_t> loadableOf; // per weights key: the checks of its name's model key
};

namespace {
const std::vector<RemapRule> kNoRules;
}

RuleTrials::Base::Base(const ModelTree &tree, const ExpectedModel &model, const WeightsSource &weights)
    : tree(tree)
    , weights(weights)
    , dict(tree, weights, CompiledRules(kNoRules))
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
    : m_checker(checker)
    , m_base(std::make_unique<Base>(*checker.m_prepared, checker.m_model, weights))
{ }

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
        std::set_difference(before.loaded.begin(), before.loaded.end(), lost.begin(), lost.end(),
                            std::back_inserter(kept));
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
