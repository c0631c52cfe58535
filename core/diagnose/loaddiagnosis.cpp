#include "core/diagnose/loaddiagnosis.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

namespace te {
namespace {

std::vector<std::string> prefixesOf(const std::string &key, int maxSegments)
{
    std::vector<std::string> out;
    size_t pos = 0;
    for (int i = 0; i < maxSegments; ++i) {
        pos = key.find('.', pos);
        if (pos == std::string::npos)
            break;
        ++pos;
        out.push_back(key.substr(0, pos));
    }
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


// The rule that turns checkpoint key `from` into model key `to`: the differing middle
// part, cut at dots, as a prefix replacement or a regex on whole segments.
RemapRule ruleBetween(const std::string &from, const std::string &to)
{
    auto split = [](const std::string &s) {
        std::vector<std::string> parts;
        size_t start = 0, dot;
        while ((dot = s.find('.', start)) != std::string::npos) {
            parts.push_back(s.substr(start, dot - start));
            start = dot + 1;
        }
        parts.push_back(s.substr(start));
        return parts;
    };
    auto a = split(from), b = split(to);
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
    const std::string before = head > 0 ? "\\." : "^";
    const std::string after = tail > 0 ? "\\." : "$";
    r.from = (head > 0 ? "\\." : "^") + escapeRegex(x) + after;
    r.to = (head > 0 ? "." : "") + y + (tail > 0 ? "." : "");
    (void)before;
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

} // namespace

LoadReport diagnoseLoad(const Document &weightsDoc, const std::string &stateDict, const ExpectedModel &model,
                        const std::vector<RemapRule> &rules)
{
    const WeightsSource weights = weightsFrom(weightsDoc, stateDict);
    const LoadChecker checker(model);
    LoadReport report = checker.check(weights, rules);
    const int base = static_cast<int>(report.loaded.size());
    std::vector<Suggestion> found;
    std::set<std::string> tried;
    std::unordered_map<std::string, uint32_t> modelIndex;
    for (const auto &k : model.keys)
        modelIndex.emplace(k.key, static_cast<uint32_t>(modelIndex.size()));
    std::vector<char> loadedBefore(model.keys.size(), 0);
    for (const auto &k : report.loaded)
        loadedBefore[modelIndex.at(k)] = 1;

    // Prefix rules that already make the whole load succeed: a longer prefix of the same
    // start can add nothing after them, so it is not tried (a checkpoint of a hundred
    // thousand keys would otherwise be checked again for every one of them).
    std::vector<std::string> completeFroms;
    auto consider = [&](std::string kind, RemapRule rule) {
        std::string id = std::to_string(static_cast<int>(rule.kind)) + "\n" + rule.from + "\n" + rule.to;
        if (!tried.insert(id).second || (rule.from == rule.to))
            return;
        if (rule.kind == RemapRule::Kind::Prefix && !rule.from.empty())
            for (const auto &f : completeFroms)
                if (rule.from.compare(0, f.size(), f) == 0)
                    return;
        std::vector<RemapRule> with = rules;
        with.push_back(rule);
        LoadReport after = checker.check(weights, with);
        int fixes = static_cast<int>(after.loaded.size()) - base;
        // A rule that moves a key onto a parameter of another shape trades a missing key
        // for a size mismatch, which fails even a non-strict load: not a fix.
        if (fixes <= 0 || after.shapeMismatch.size() > report.shapeMismatch.size())
            return;
        if (rule.kind == RemapRule::Kind::Prefix && !rule.from.empty() && after.missing.empty() &&
            after.unexpected.empty())
            completeFroms.push_back(rule.from);
        if (kind == "rename" && rule.kind == RemapRule::Kind::Prefix)
            kind = rule.to.empty() ? "strip_prefix" : rule.from.empty() ? "add_prefix" : "replace_prefix";
        Suggestion s;
        s.kind = kind;
        s.from = rule.kind == RemapRule::Kind::Regex ? "re:" + rule.from : rule.from;
        s.to = rule.to;
        s.fixes = fixes;
        s.rule = rule;
        s.description = describe(s);
        for (const auto &k : after.loaded) {
            const uint32_t i = modelIndex.at(k);
            if (!loadedBefore[i])
                s.fixedKeys.push_back(i);
        }
        std::sort(s.fixedKeys.begin(), s.fixedKeys.end());
        found.push_back(std::move(s));
    };

    // Prefixes of the keys that do not load, most frequent first.
    std::map<std::string, int> unexpectedPrefixes, missingPrefixes;
    for (const auto &k : report.unexpected)
        for (const auto &p : prefixesOf(k, 3))
            ++unexpectedPrefixes[p];
    for (const auto &k : report.missing)
        for (const auto &p : prefixesOf(k, 3))
            ++missingPrefixes[p];
    auto top = [](const std::map<std::string, int> &counts, size_t n) {
        std::vector<std::pair<int, std::string>> v;
        for (const auto &[p, c] : counts)
            v.emplace_back(-c, p);
        std::sort(v.begin(), v.end());
        std::vector<std::string> out;
        for (size_t i = 0; i < v.size() && i < n; ++i)
            out.push_back(v[i].second);
        return out;
    };
    const auto strips = top(unexpectedPrefixes, 8), adds = top(missingPrefixes, 8);
    for (const auto &p : strips)
        consider("strip_prefix", {RemapRule::Kind::Prefix, p, ""});
    for (const auto &p : adds)
        consider("add_prefix", {RemapRule::Kind::Prefix, "", p});
    for (size_t i = 0; i < strips.size() && i < 4; ++i)
        for (size_t j = 0; j < adds.size() && j < 4; ++j)
            consider("replace_prefix", {RemapRule::Kind::Prefix, strips[i], adds[j]});

    // Renames: a missing key and an unexpected key of the same shape, preferring the same
    // last name or a known synonym (gamma/weight, beta/bias).
    std::unordered_map<std::string, const KeySpec *> byKey;
    for (const auto &k : weights.keys)
        byKey.emplace(applyRules(k.key, rules), &k);
    std::unordered_map<std::string, const KeySpec *> expected;
    for (const auto &k : model.keys)
        expected.emplace(k.key, &k);
    auto last = [](const std::string &k) { return k.substr(k.rfind('.') == std::string::npos ? 0 : k.rfind('.') + 1); };
    // Unexpected keys by shape, in their order, and by shape and last name: each missing
    // key finds its partner without looking at every unexpected key.
    auto shapeId = [](const std::vector<int64_t> &shape) {
        std::string id;
        for (int64_t d : shape)
            id += std::to_string(d) + ",";
        return id;
    };
    std::unordered_map<std::string, std::vector<size_t>> unexpectedByShape;
    std::unordered_map<std::string, size_t> unexpectedByShapeAndName; // first of each
    for (size_t i = 0; i < report.unexpected.size(); ++i) {
        auto it = byKey.find(report.unexpected[i]);
        if (it == byKey.end())
            continue;
        const std::string id = shapeId(it->second->shape);
        unexpectedByShape[id].push_back(i);
        unexpectedByShapeAndName.emplace(id + "\n" + last(report.unexpected[i]), i);
    }
    static const std::pair<const char *, const char *> kSynonyms[] = {
        {"gamma", "weight"}, {"beta", "bias"}, {"moving_mean", "running_mean"}, {"moving_variance", "running_var"},
        {"kernel", "weight"}};
    size_t pairsTried = 0;
    for (const auto &m : report.missing) {
        if (pairsTried >= 64)
            break;
        const std::string id = shapeId(expected.at(m)->shape);
        auto sameShape = unexpectedByShape.find(id);
        if (sameShape == unexpectedByShape.end())
            continue;
        // The first unexpected key of that shape with the same last name or a synonym of
        // it, else the first of that shape.
        size_t best = sameShape->second.front();
        size_t named = SIZE_MAX;
        std::vector<std::string> names{last(m)};
        for (const auto &[x, y] : kSynonyms) {
            if (names.front() == x)
                names.push_back(y);
            else if (names.front() == y)
                names.push_back(x);
        }
        for (const auto &n : names) {
            auto it = unexpectedByShapeAndName.find(id + "\n" + n);
            if (it != unexpectedByShapeAndName.end())
                named = std::min(named, it->second);
        }
        if (named != SIZE_MAX)
            best = named;
        ++pairsTried;
        consider("rename", ruleBetween(report.unexpected[best], m));
    }

    std::sort(found.begin(), found.end(), [](const Suggestion &a, const Suggestion &b) { return a.fixes > b.fixes; });
    // Another state dict of the checkpoint that loads more, ranked with the rules.
    for (const auto &other : candidateStateDicts(weightsDoc)) {
        if (other == stateDict)
            continue;
        int fixes = static_cast<int>(checker.check(weightsFrom(weightsDoc, other), rules).loaded.size()) - base;
        if (fixes <= 0)
            continue;
        Suggestion s;
        s.kind = "state_dict";
        s.from = stateDict;
        s.to = other;
        s.fixes = fixes;
        s.description = describe(s);
        found.push_back(std::move(s));
    }
    // Most fixes first; on a tie a rule on the chosen state dict before switching to another.
    std::stable_sort(found.begin(), found.end(), [](const Suggestion &a, const Suggestion &b) {
        if (a.fixes != b.fixes)
            return a.fixes > b.fixes;
        return a.kind != "state_dict" && b.kind == "state_dict";
    });
    // Drop what a better suggestion already covers ('module.bn.' after 'module.').
    // A rule whose fixed keys a better one fixes too adds nothing after it.
    std::vector<Suggestion> kept;
    for (auto &s : found) {
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
    report.suggestions = std::move(kept);
    return report;
}

} // namespace te
