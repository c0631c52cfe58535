// The checkpoint's keys after the remapping rules, as the dict load_state_dict is given.
#include "core/diagnose/loadcheckinternal.h"

#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace te::detail {
namespace {

// The text a pattern matches when it is a plain string, optionally anchored, with its
// special characters escaped (the doctor writes its rename rules so); empty otherwise. A
// key without that text cannot match, and std::regex is slow on a hundred thousand keys.
std::string literalOf(const std::string &pattern)
{
    static const char kSpecial[] = ".^$|()[]{}*+?\\";
    const auto special = [](char c) {
        return std::char_traits<char>::find(kSpecial, sizeof kSpecial - 1, c) != nullptr;
    };
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

} // namespace

CompiledRules::CompiledRules(const std::vector<RemapRule> &rules)
    : m_rules(rules)
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
        std::string_view inKey;             // the name when the rules only cut the key's front
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

} // namespace te::detail
