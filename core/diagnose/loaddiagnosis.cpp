#include "core/diagnose/loaddiagnosis.h"

#include "core/diagnose/nametable.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

namespace te {
namespace {

std::vector<std::string_view> prefixesOf(std::string_view key, int maxSegments)
{
    std::vector<std::string_view> out;
    size_t pos = 0;
    for (int i = 0; i < maxSegments; ++i) {
        pos = key.find('.', pos);
        if (pos == std::string_view::npos)
            break;
        ++pos;
        out.push_back(key.substr(0, pos));
    }
    return out;
}

// The n most frequent, the smaller first among equally frequent ones.
std::vector<std::string> mostFrequent(const std::unordered_map<std::string_view, int> &counts, size_t n)
{
    std::vector<std::pair<int, std::string_view>> v;
    v.reserve(counts.size());
    for (const auto &[p, c] : counts)
        v.emplace_back(-c, p);
    n = std::min(n, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end());
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i)
        out.emplace_back(v[i].second);
    return out;
}

std::string escapeRegex(const std::string &s)
{
    std::string out;
    for (char c : s) {
        if (std::strchr(".^$|()[]{}*+?\\", c))
            out += '\\';
        out += c;
    }
    return out;
}

std::vector<std::string> segmentsOf(const std::string &s)
{
    std::vector<std::string> parts;
    size_t start = 0, dot;
    while ((dot = s.find('.', start)) != std::string::npos) {
        parts.push_back(s.substr(start, dot - start));
        start = dot + 1;
    }
    parts.push_back(s.substr(start));
    return parts;
}

// The rule that turns checkpoint key `from` into model key `to`: the differing middle
// part, cut at dots, as a prefix replacement or a regex on whole segments.
RemapRule ruleBetween(const std::string &from, const std::string &to)
{
    const auto a = segmentsOf(from), b = segmentsOf(to);
    size_t head = 0;
    while (head < a.size() && head < b.size() && a[head] == b[head])
        ++head;
    size_t tail = 0;
    while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
        ++tail;
    auto join = [](const std::vector<std::string> &p, size_t begin, size_t end) {
        std::string s;
        for (size_t i = begin; i < end; ++i)
            s += (i > begin ? "." : "") + p[i];
        return s;
    };
    const std::string x = join(a, head, a.size() - tail), y = join(b, head, b.size() - tail);
    RemapRule r;
    if (head == 0 && tail > 0) {
        r.kind = RemapRule::Kind::Prefix;
        r.from = x.empty() ? x : x + ".";
        r.to = y.empty() ? y : y + ".";
        return r;
    }
    r.kind = RemapRule::Kind::Regex;
    r.from = (head > 0 ? "\\." : "^") + escapeRegex(x) + (tail > 0 ? "\\." : "$");
    r.to = (head > 0 ? "." : "") + y + (tail > 0 ? "." : "");
    return r;
}

std::string describe(const Suggestion &s)
{
    if (s.kind == "strip_prefix")
        return "strip the prefix '" + s.from + "' from the checkpoint's keys";
    if (s.kind == "add_prefix")
        return "add the prefix '" + s.to + "' to the checkpoint's keys";
    if (s.kind == "replace_prefix")
        return "replace the prefix '" + s.from + "' with '" + s.to + "'";
    if (s.kind == "rename")
        return "rename " + s.from + " to " + s.to;
    return "use the state dict '" + (s.to.empty() ? std::string("(root)") : s.to) + "' of the checkpoint";
}

std::string shapeId(const std::vector<int64_t> &shape)
{
    std::string id;
    for (int64_t d : shape)
        id += std::to_string(d) + ",";
    return id;
}

std::string_view lastOf(std::string_view key)
{
    const size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

// The doctor at work on one state dict: the check as it stands, then candidate rules, each
// counted as if applied to the whole state dict, then the other state dicts of the file.
class Doctor {
public:
    Doctor(const Document &weightsDoc, const std::string &stateDict, const ExpectedModel &model,
           const std::vector<RemapRule> &rules);
    LoadReport diagnose();

private:
    void consider(std::string kind, const RemapRule &rule);
    void tryPrefixes();
    void tryRenames();
    size_t partnerOf(const std::string &shape, const std::string &missing) const;
    void tryOtherStateDicts();
    std::vector<Suggestion> ranked();

    const Document &m_weightsDoc;
    const std::string &m_stateDict;
    const ExpectedModel &m_model;
    const std::vector<RemapRule> &m_rules;
    const WeightsSource m_weights;
    // The weights as the rules leave them: a candidate is tried after them on its own.
    WeightsSource m_renamed;
    const LoadChecker m_checker;
    std::optional<RuleTrials> m_trials;
    LoadReport m_report;
    int m_base = 0;
    std::vector<char> m_loadedBefore; // per distinct model key
    std::vector<Suggestion> m_found;
    std::set<std::string> m_tried;
    // Prefix rules that already make the whole load succeed: a longer prefix of the same
    // start can add nothing after them, so it is not tried (a checkpoint of a hundred
    // thousand keys would otherwise be checked again for every one of them).
    std::vector<std::string> m_completeFroms;
    // For renames: unexpected keys by shape, in their order, and by shape and last name.
    std::unordered_map<std::string, std::vector<size_t>> m_unexpectedByShape;
    std::unordered_map<std::string, size_t> m_unexpectedByShapeAndName; // first of each
};

Doctor::Doctor(const Document &weightsDoc, const std::string &stateDict, const ExpectedModel &model,
               const std::vector<RemapRule> &rules)
    : m_weightsDoc(weightsDoc)
    , m_stateDict(stateDict)
    , m_model(model)
    , m_rules(rules)
    , m_weights(weightsFrom(weightsDoc, stateDict))
    , m_checker(model)
{ }

LoadReport Doctor::diagnose()
{
    LoadCount before;
    m_report = m_checker.check(m_weights, m_rules, &before);
    m_base = static_cast<int>(m_report.loaded.size());
    m_loadedBefore.assign(m_model.keys.size(), 0);
    for (const uint32_t k : before.loaded)
        m_loadedBefore[k] = 1;
    if (!m_rules.empty()) {
        m_renamed = m_weights;
        auto names = applyRules(m_weights.keys, m_rules);
        for (size_t i = 0; i < names.size(); ++i)
            m_renamed.keys[i].key = std::move(names[i]);
    }
    m_trials.emplace(m_checker, m_rules.empty() ? m_weights : m_renamed);
    tryPrefixes();
    tryRenames();
    std::sort(m_found.begin(), m_found.end(),
              [](const Suggestion &a, const Suggestion &b) { return a.fixes > b.fixes; });
    tryOtherStateDicts();
    m_report.suggestions = ranked();
    return std::move(m_report);
}

void Doctor::consider(std::string kind, const RemapRule &rule)
{
    std::string id = std::to_string(static_cast<int>(rule.kind)) + "\n" + rule.from + "\n" + rule.to;
    if (!m_tried.insert(id).second || (rule.from == rule.to))
        return;
    if (rule.kind == RemapRule::Kind::Prefix && !rule.from.empty())
        for (const auto &f : m_completeFroms)
            if (rule.from.compare(0, f.size(), f) == 0)
                return;
    const std::optional<LoadCount> counted = m_trials->count(rule, static_cast<size_t>(m_base) + 1);
    if (!counted)
        return; // fixes nothing
    const LoadCount &after = *counted;
    const int fixes = static_cast<int>(after.loaded.size()) - m_base;
    // A rule that moves a key onto a parameter of another shape trades a missing key
    // for a size mismatch, which fails even a non-strict load: not a fix.
    if (fixes <= 0 || after.shapeMismatch > m_report.shapeMismatch.size())
        return;
    if (rule.kind == RemapRule::Kind::Prefix && !rule.from.empty() && after.missing == 0 && after.unexpected == 0)
        m_completeFroms.push_back(rule.from);
    if (kind == "rename" && rule.kind == RemapRule::Kind::Prefix)
        kind = rule.to.empty() ? "strip_prefix" : rule.from.empty() ? "add_prefix" : "replace_prefix";
    Suggestion s;
    s.kind = kind;
    s.from = rule.kind == RemapRule::Kind::Regex ? "re:" + rule.from : rule.from;
    s.to = rule.to;
    s.fixes = fixes;
    s.rule = rule;
    s.description = describe(s);
    for (const uint32_t k : after.loaded) // sorted
        if (!m_loadedBefore[k])
            s.fixedKeys.push_back(k);
    m_found.push_back(std::move(s));
}

// Prefixes of the keys that do not load, most frequent first: stripped, added, replaced.
void Doctor::tryPrefixes()
{
    std::unordered_map<std::string_view, int> unexpectedPrefixes, missingPrefixes;
    for (const auto &k : m_report.unexpected)
        for (const auto p : prefixesOf(k, 3))
            ++unexpectedPrefixes[p];
    for (const auto &k : m_report.missing)
        for (const auto p : prefixesOf(k, 3))
            ++missingPrefixes[p];
    const auto strips = mostFrequent(unexpectedPrefixes, 8), adds = mostFrequent(missingPrefixes, 8);
    for (const auto &p : strips)
        consider("strip_prefix", {RemapRule::Kind::Prefix, p, ""});
    for (const auto &p : adds)
        consider("add_prefix", {RemapRule::Kind::Prefix, "", p});
    for (size_t i = 0; i < strips.size() && i < 4; ++i)
        for (size_t j = 0; j < adds.size() && j < 4; ++j)
            consider("replace_prefix", {RemapRule::Kind::Prefix, strips[i], adds[j]});
}

// Renames: a missing key and an unexpected key of the same shape, preferring the same
// last name or a known synonym (gamma/weight, beta/bias).
void Doctor::tryRenames()
{
    if (m_report.missing.empty() || m_report.unexpected.empty())
        return;
    // The weights' keys as the rules name them, the first of each name.
    const auto &weights = (m_rules.empty() ? m_weights : m_renamed).keys;
    NameTable byKey(weights.size());
    for (uint32_t i = 0; i < weights.size(); ++i)
        byKey.insert(weights[i].key, i);
    for (size_t i = 0; i < m_report.unexpected.size(); ++i) {
        const uint32_t k = byKey.find(m_report.unexpected[i]);
        if (k == NameTable::kNone)
            continue;
        const std::string id = shapeId(weights[k].shape);
        m_unexpectedByShape[id].push_back(i);
        m_unexpectedByShapeAndName.try_emplace(id + "\n" + std::string(lastOf(m_report.unexpected[i])), i);
    }
    NameTable expected(m_model.keys.size());
    for (uint32_t i = 0; i < m_model.keys.size(); ++i)
        expected.insert(m_model.keys[i].key, i);
    size_t pairsTried = 0;
    for (const auto &m : m_report.missing) {
        if (pairsTried >= 64)
            break;
        const size_t best = partnerOf(shapeId(m_model.keys[expected.find(m)].shape), m);
        if (best == SIZE_MAX)
            continue;
        ++pairsTried;
        consider("rename", ruleBetween(m_report.unexpected[best], m));
    }
}

// The first unexpected key of the missing key's shape with the same last name or a synonym
// of it, else the first of that shape; SIZE_MAX when none has that shape.
size_t Doctor::partnerOf(const std::string &shape, const std::string &missing) const
{
    static const std::pair<const char *, const char *> kSynonyms[] = {{"gamma", "weight"},
                                                                      {"beta", "bias"},
                                                                      {"moving_mean", "running_mean"},
                                                                      {"moving_variance", "running_var"},
                                                                      {"kernel", "weight"}};
    auto sameShape = m_unexpectedByShape.find(shape);
    if (sameShape == m_unexpectedByShape.end())
        return SIZE_MAX;
    std::vector<std::string> names{std::string(lastOf(missing))};
    for (const auto &[x, y] : kSynonyms) {
        if (names.front() == x)
            names.push_back(y);
        else if (names.front() == y)
            names.push_back(x);
    }
    size_t named = SIZE_MAX;
    for (const auto &n : names) {
        auto it = m_unexpectedByShapeAndName.find(shape + "\n" + n);
        if (it != m_unexpectedByShapeAndName.end())
            named = std::min(named, it->second);
    }
    return named != SIZE_MAX ? named : sameShape->second.front();
}

// Another state dict of the checkpoint that loads more, ranked with the rules.
void Doctor::tryOtherStateDicts()
{
    for (const auto &other : candidateStateDicts(m_weightsDoc)) {
        if (other == m_stateDict)
            continue;
        int fixes = static_cast<int>(m_checker.count(weightsFrom(m_weightsDoc, other), m_rules).loaded.size()) - m_base;
        if (fixes <= 0)
            continue;
        Suggestion s;
        s.kind = "state_dict";
        s.from = m_stateDict;
        s.to = other;
        s.fixes = fixes;
        s.description = describe(s);
        m_found.push_back(std::move(s));
    }
}

// Most fixes first; on a tie a rule on the chosen state dict before switching to another.
// Drop what a better suggestion already covers ('module.bn.' after 'module.'): a rule
// whose fixed keys a better one fixes too adds nothing after it.
std::vector<Suggestion> Doctor::ranked()
{
    std::stable_sort(m_found.begin(), m_found.end(), [](const Suggestion &a, const Suggestion &b) {
        if (a.fixes != b.fixes)
            return a.fixes > b.fixes;
        return a.kind != "state_dict" && b.kind == "state_dict";
    });
    std::vector<Suggestion> kept;
    for (auto &s : m_found) {
        bool covered = false;
        for (size_t i = 0; i < kept.size() && !covered; ++i) {
            if (s.kind == "state_dict" || kept[i].kind == "state_dict")
                continue;
            covered = std::includes(kept[i].fixedKeys.begin(), kept[i].fixedKeys.end(), s.fixedKeys.begin(),
                                    s.fixedKeys.end());
        }
        if (covered)
            continue;
        kept.push_back(std::move(s));
        if (kept.size() >= 10)
            break;
    }
    for (auto &s : kept)
        s.fixedKeys.clear();
    return kept;
}

} // namespace

LoadReport diagnoseLoad(const Document &weightsDoc, const std::string &stateDict, const ExpectedModel &model,
                        const std::vector<RemapRule> &rules)
{
    return Doctor(weightsDoc, stateDict, model, rules).diagnose();
}

} // namespace te
