#include "core/diagnose/keyalignment.h"

#include "core/diagnose/loaddiagnosis.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

namespace te {
namespace {

constexpr size_t kMaxStateDicts = 4; // per file: the conventional ones come first
constexpr int kMaxRounds = 3;

std::string prefixOf(const std::string &stateDict) { return stateDict.empty() ? std::string() : stateDict + "."; }

std::string where(const char *file, const std::string &stateDict)
{
    return stateDict.empty() ? std::string(file) + "'s top level" : std::string(file) + "'s '" + stateDict + "'";
}

size_t keysIn(const Document &doc, const std::string &stateDict)
{
    const std::string prefix = prefixOf(stateDict);
    size_t n = 0;
    for (const TensorEntry &e : doc.entries)
        n += e.key.size() > prefix.size() && e.key.compare(0, prefix.size(), prefix) == 0;
    return n;
}

std::vector<std::string> namesOf(const std::vector<KeySpec> &keys)
{
    std::vector<std::string> out;
    out.reserve(keys.size());
    for (const KeySpec &k : keys)
        out.push_back(k.key);
    return out;
}

// A key without the prefixes that wrappers add (DataParallel, torch.compile, Lightning):
// what state dicts are chosen by, before the doctor finds the actual rules.
std::string unwrapped(std::string key)
{
    static const char *wrappers[] = {"module.", "_orig_mod.", "model."};
    for (bool stripped = true; stripped;) {
        stripped = false;
        for (const char *w : wrappers) {
            const size_t n = std::strlen(w);
            if (key.size() > n && key.compare(0, n, w) == 0) {
                key.erase(0, n);
                stripped = true;
            }
        }
    }
    return key;
}

std::vector<std::string> unwrappedNames(const std::vector<KeySpec> &keys)
{
    std::vector<std::string> out;
    out.reserve(keys.size());
    for (const KeySpec &k : keys)
        out.push_back(unwrapped(k.key));
    return out;
}

// Distinct names of A that B has.
size_t common(const std::vector<std::string> &namesA, const std::unordered_set<std::string> &inB)
{
    std::unordered_set<std::string> seen;
    size_t n = 0;
    for (const std::string &k : namesA)
        n += inB.count(k) && seen.insert(k).second;
    return n;
}

} // namespace

std::vector<std::string> KeyAlignment::describe() const
{
    std::vector<std::string> out;
    if (!stateDictA.empty() || !stateDictB.empty())
        out.push_back(where("A", stateDictA) + " against " + where("B", stateDictB));
    for (const RemapRule &r : rules) {
        if (r.kind == RemapRule::Kind::Regex)
            out.push_back("A's keys renamed by re:" + r.from + " -> " + r.to);
        else if (r.from.empty())
            out.push_back("'" + r.to + "' put before A's keys");
        else if (r.to.empty())
            out.push_back("'" + r.from + "' taken off A's keys");
        else
            out.push_back("'" + r.from + "' at the start of A's keys read as '" + r.to + "'");
    }
    return out;
}

std::string KeyAlignment::keyInB(const std::string &keyA) const
{
    const std::string from = prefixOf(stateDictA);
    if (keyA.size() <= from.size() || keyA.compare(0, from.size(), from) != 0)
        return {};
    return prefixOf(stateDictB) + applyRules(keyA.substr(from.size()), rules);
}

KeyAlignment alignKeys(const Document &a, const Document &b)
{
    KeyAlignment best;
    std::vector<std::string> dictsA = candidateStateDicts(a), dictsB = candidateStateDicts(b);
    dictsA.resize(std::min(dictsA.size(), kMaxStateDicts));
    dictsB.resize(std::min(dictsB.size(), kMaxStateDicts));
    if (std::find(dictsA.begin(), dictsA.end(), "") == dictsA.end())
        dictsA.insert(dictsA.begin(), "");
    if (std::find(dictsB.begin(), dictsB.end(), "") == dictsB.end())
        dictsB.insert(dictsB.begin(), "");

    // The pair of state dicts with the most keys in common once wrapper prefixes are set
    // aside. The whole files come first, so that nothing is left out when they agree; on
    // a tie the conventional one wins (a Lightning checkpoint's model, not its EMA copy).
    std::vector<WeightsSource> sourcesB;
    std::vector<std::unordered_set<std::string>> namesB;
    for (const std::string &db : dictsB) {
        sourcesB.push_back(weightsFrom(b, db));
        const std::vector<std::string> names = unwrappedNames(sourcesB.back().keys);
        namesB.emplace_back(names.begin(), names.end());
    }
    std::vector<KeySpec> keysA, keysB;
    size_t bestShared = 0;
    bool first = true;
    for (const std::string &da : dictsA) {
        const WeightsSource wa = weightsFrom(a, da);
        const std::vector<std::string> names = unwrappedNames(wa.keys);
        for (size_t j = 0; j < sourcesB.size(); ++j) {
            const WeightsSource &wb = sourcesB[j];
            const size_t n = common(names, namesB[j]);
            if (n > bestShared || first) {
                first = false;
                bestShared = n;
                best.stateDictA = da;
                best.stateDictB = wb.stateDict;
                keysA = wa.keys;
                keysB = wb.keys;
            }
        }
    }
    if (keysA.empty() || keysB.empty() || bestShared == 0)
        return {};
    const std::vector<std::string> namesOfB = namesOf(keysB);
    const std::unordered_set<std::string> setB(namesOfB.begin(), namesOfB.end());
    size_t bestCommon = common(namesOf(keysA), setB);

    // Then the doctor's rules, each kept only when it lines up more keys.
    if (bestCommon < std::min(keysA.size(), keysB.size())) {
        try {
            const ExpectedModel model = expectedModelFrom(b, best.stateDictB);
            for (int round = 0; round < kMaxRounds; ++round) {
                const LoadReport report = diagnoseLoad(a, best.stateDictA, model, best.rules);
                const Suggestion *pick = nullptr;
                for (const Suggestion &s : report.suggestions)
                    if (s.kind != "state_dict" && s.fixes > 0 && (!pick || s.fixes > pick->fixes))
                        pick = &s;
                if (!pick)
                    break;
                std::vector<RemapRule> rules = best.rules;
                rules.push_back(pick->rule);
                const size_t n = common(applyRules(keysA, rules), setB);
                if (n <= bestCommon)
                    break;
                bestCommon = n;
                best.rules = std::move(rules);
            }
        } catch (const std::runtime_error &) {
            // B defines no keys the doctor can check against: compare as they are.
        }
    }
    if (bestCommon == 0)
        return {};
    best.outsideA = a.entries.size() - keysIn(a, best.stateDictA);
    best.outsideB = b.entries.size() - keysIn(b, best.stateDictB);
    return best;
}

} // namespace te
