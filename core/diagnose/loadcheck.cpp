// The load check's entry points: the keys a reference expects, the state dicts a weights
// file offers, and the check of one against the other.
#include "core/diagnose/loadcheck.h"

#include "core/diagnose/loadcheckinternal.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

namespace te {

using detail::CompiledRules;
using detail::countOf;
using detail::judge;
using detail::lastOf;
using detail::RenamedDict;
using detail::reportOf;
using detail::Verdict;

namespace {

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
        m.className =
            ref.format == FileFormat::TorchScript ? "RecursiveScriptModule" : std::string(lastOf(root->className));
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
        // An exported program loads weights through ep.module(), a GraphModule.
        m.className = ref.format == FileFormat::TorchExport ? "GraphModule" : "Module";
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

LoadChecker::LoadChecker(const ExpectedModel &model)
    : m_model(model)
    , m_prepared(std::make_shared<Prepared>(model))
{ }

LoadReport checkLoad(const WeightsSource &weights, const ExpectedModel &model, const std::vector<RemapRule> &rules)
{
    return LoadChecker(model).check(weights, rules);
}

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

} // namespace te
