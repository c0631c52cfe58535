#include "core/runtime/weightapplier.h"
#include "core/document/tensorbytes.h"
#include "core/runtime/modelinputs.h"

#include <chrono>
#include <unordered_map>

namespace te {

ApplyResult applyWeights(LoadedModel &model, const Document &modelDoc, const Document &weights,
                         const std::string &stateDict, const std::vector<RemapRule> &rules, bool strict)
{
    ApplyResult r;
    ExpectedModel expected = expectedModelFrom(modelDoc);
    r.report = checkLoad(weightsFrom(weights, stateDict), expected, rules);
    if (strict && !r.report.strictOk) {
        r.error = r.report.strictError;
        return r;
    }
    if (!r.report.nonStrictOk)
        r.warning = "load_state_dict(strict=False) would raise; the tensors of other shapes were skipped:\n" +
                    r.report.nonStrictError;
    std::unordered_map<std::string, int> byKey;
    const std::string prefix = stateDict.empty() ? std::string() : stateDict + ".";
    for (const auto &e : weights.entries)
        byKey.emplace(e.key, e.tensor);
    const auto start = std::chrono::steady_clock::now();
    for (const auto &[modelKey, checkpointKey] : r.report.sources) {
        auto it = byKey.find(prefix + checkpointKey);
        if (it == byKey.end())
            continue; // filled in by the module itself (num_batches_tracked)
        TensorSource source;
        std::string error;
        if (!tensorSource(weights, it->second, &source, &error)) {
            r.error = checkpointKey + ": " + error;
            return r;
        }
        error = model.setTensor(modelKey, source);
        if (!error.empty()) {
            r.error = modelKey + ": " + error;
            return r;
        }
        const TensorInfo &t = weights.tensors[static_cast<size_t>(it->second)];
        error = tensorDamage(weights, t);
        if (!error.empty()) {
            r.error = checkpointKey + ": " + error;
            return r;
        }
        ++r.applied;
        r.bytes += t.nbytes();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.ok = true;
    return r;
}

} // namespace te
