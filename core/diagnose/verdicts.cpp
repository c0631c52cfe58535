// What load_state_dict says of each key, judged module by module, and told as a report
// in PyTorch's words or as a count.
#include "core/diagnose/loadcheckinternal.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace te::detail {
namespace {

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

} // namespace

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

namespace {

std::string quotedList(const std::vector<std::string> &keys)
{
    std::string s;
    for (size_t i = 0; i < keys.size(); ++i)
        s.append(i ? ", \"" : "\"").append(keys[i]).append("\"");
    return s;
}

std::string errorText(const std::string &cls, const std::vector<std::string> &messages)
{
    std::string s = "Error(s) in loading state_dict for " + cls + ":";
    for (const auto &m : messages)
        s.append("\n\t").append(m);
    return s;
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

} // namespace

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
        case Verdict::Missing: r.missing.push_back(want->key); break;
        case Verdict::SizeMismatch:
            statuses.emplace_back(originalOf(v.entry), "shape_mismatch");
            r.shapeMismatch.push_back({want->key, have->shape, want->shape, std::string(originalOf(v.entry))});
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

LoadCount countOf(const std::vector<Verdict> &verdicts)
{
    LoadCount c;
    for (const Verdict &v : verdicts) {
        switch (v.kind) {
        case Verdict::Missing: ++c.missing; break;
        case Verdict::SizeMismatch: ++c.shapeMismatch; break;
        case Verdict::Loaded:
        case Verdict::Cast: c.loaded.push_back(v.key); break;
        case Verdict::Unexpected: ++c.unexpected; break;
        }
    }
    std::sort(c.loaded.begin(), c.loaded.end());
    return c;
}

} // namespace te::detail
