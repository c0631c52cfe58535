#pragma once
// The loading doctor: what nn.Module.load_state_dict would do with a checkpoint's state
// dict and a reference model, key by key, with PyTorch's own error text, and the remapping
// rules (prefixes, renames, another state dict) that would make it load.
#include "core/document/document.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace te {

struct KeySpec {
    std::string key;
    std::vector<int64_t> shape;
    DType dtype = DType::Unknown;
    uint64_t elements = 0;
    int tensor = -1; // index into its document's tensors
};

// What the reference expects: its state_dict() keys in order and its module tree.
struct ExpectedModel {
    std::string className;     // as PyTorch names it in the error ("RecursiveScriptModule")
    std::string originalClass; // "__torch__.SmallNetV2", "__main__.SmallNetV2"
    std::string stateDict;     // which state dict of the reference file defines the keys
    std::vector<KeySpec> keys;
    std::vector<std::string> modulePaths; // pre-order, "" first
    // Eager BatchNorm/InstanceNorm modules tracking running stats: before version 2 of
    // their state they had no num_batches_tracked, and load_state_dict fills it in.
    std::vector<std::string> normModulesFillingBatchCount;
};

// A state dict of the weights file, keys relative to it.
struct WeightsSource {
    std::string stateDict; // dotted path in its document ("" is the root)
    std::vector<KeySpec> keys;
    // The state dict's _metadata: module path -> version. Absent when the dict has none,
    // or once keys are renamed (a rebuilt dict in Python loses it too).
    bool hasMetadata = false;
    std::map<std::string, int64_t> versions;
};

struct RemapRule {
    enum class Kind { Prefix, Regex };
    Kind kind = Kind::Prefix;
    std::string from; // Prefix: empty adds `to` before every key
    std::string to;   // Prefix: empty strips `from`
    std::string text() const; // "module. -> (none)", "re:\.gamma$ -> .weight"
};

struct ShapeMismatch {
    std::string key;
    std::vector<int64_t> checkpointShape, modelShape;
};

struct DtypeNote {
    std::string key;
    DType checkpoint = DType::Unknown, model = DType::Unknown;
};

struct Suggestion {
    std::string kind;        // strip_prefix, add_prefix, replace_prefix, rename, state_dict
    std::string from, to;
    int fixes = 0;           // keys that load after applying it, beyond those that load now
    std::string description;
    RemapRule rule;          // for all kinds but state_dict
    std::vector<uint32_t> fixedKeys; // while ranking: indices of the model keys it fixes
};

struct LoadReport {
    std::string stateDict;
    std::string className;
    std::vector<std::string> missing;
    std::vector<std::string> unexpected;
    std::vector<ShapeMismatch> shapeMismatch;
    std::vector<DtypeNote> dtypeMismatch;
    std::vector<std::string> loaded;                     // model keys that receive a value
    std::vector<std::pair<std::string, std::string>> sources; // model key <- checkpoint key (original name)
    // Every checkpoint key (original name): "loaded", "cast", "unexpected", "shape_mismatch".
    std::map<std::string, std::string> checkpointStatus;
    uint64_t loadedElements = 0, expectedElements = 0;
    bool strictOk = false;
    bool nonStrictOk = false; // size mismatches raise even with strict=False
    std::string strictError, nonStrictError;
    std::vector<Suggestion> suggestions;
};

// The keys a reference defines: the module's state_dict() for TorchScript and pickled
// modules, else the chosen (or first) state dict. Throws std::runtime_error if none.
ExpectedModel expectedModelFrom(const Document &ref, const std::string &stateDict = {});
// The state dicts a weights file offers, the conventional one first.
std::vector<std::string> candidateStateDicts(const Document &doc);
WeightsSource weightsFrom(const Document &doc, const std::string &stateDict);

std::string applyRules(const std::string &key, const std::vector<RemapRule> &rules);
LoadReport checkLoad(const WeightsSource &weights, const ExpectedModel &model, const std::vector<RemapRule> &rules);
// checkLoad for many rule sets against one model: the model's module tree is worked out
// once. Keeps a reference to the model.
class LoadChecker {
public:
    explicit LoadChecker(const ExpectedModel &model);
    LoadReport check(const WeightsSource &weights, const std::vector<RemapRule> &rules) const;

private:
    struct Prepared;
    const ExpectedModel &m_model;
    std::shared_ptr<Prepared> m_prepared;
};

// "torch.Size([16, 8])"
std::string torchSizeText(const std::vector<int64_t> &shape);

} // namespace te
