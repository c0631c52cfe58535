#pragma once
// The loading doctor: what nn.Module.load_state_dict would do with a checkpoint's state
// dict and a reference model, key by key, with PyTorch's own error text, and the remapping
// rules (prefixes, renames, another state dict) that would make it load.
#include "core/document/document.h"

#include <map>
#include <memory>
#include <optional>
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
    std::string from;         // Prefix: empty adds `to` before every key
    std::string to;           // Prefix: empty strips `from`
    std::string text() const; // "module. -> (none)", "re:\.gamma$ -> .weight"
};

struct ShapeMismatch {
    std::string key;
    std::vector<int64_t> checkpointShape, modelShape;
    std::string checkpointKey; // the checkpoint's own name for it, before any rule
};

struct DtypeNote {
    std::string key;
    DType checkpoint = DType::Unknown, model = DType::Unknown;
};

struct Suggestion {
    std::string kind; // strip_prefix, add_prefix, replace_prefix, rename, state_dict
    std::string from, to;
    int fixes = 0; // keys that load after applying it, beyond those that load now
    std::string description;
    RemapRule rule;                  // for all kinds but state_dict
    std::vector<uint32_t> fixedKeys; // while ranking: indices of the model keys it fixes
};

struct LoadReport {
    std::string stateDict;
    std::string className;
    std::vector<std::string> missing;
    std::vector<std::string> unexpected;
    std::vector<ShapeMismatch> shapeMismatch;
    std::vector<DtypeNote> dtypeMismatch;
    std::vector<std::string> loaded;                          // model keys that receive a value
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
// Every key after the rules, the patterns compiled once.
std::vector<std::string> applyRules(const std::vector<KeySpec> &keys, const std::vector<RemapRule> &rules);
LoadReport checkLoad(const WeightsSource &weights, const ExpectedModel &model, const std::vector<RemapRule> &rules);

// A check in numbers, without the report's texts: what the doctor ranks candidate rules by.
struct LoadCount {
    size_t missing = 0, unexpected = 0, shapeMismatch = 0;
    // Each model key that receives a value (the report's loaded keys) as its index among the
    // model's distinct keys in the model's order, sorted.
    std::vector<uint32_t> loaded;
};

// checkLoad for many rule sets against one model: the model's module tree is worked out
// once. Keeps a reference to the model. Checks throw std::runtime_error for a model with a
// key that starts with a dot ('.w', no module could hold it), unless it also has the key
// without the dot, under which the recursion checks it.
class LoadChecker {
public:
    explicit LoadChecker(const ExpectedModel &model);
    // With `count`, that is set to the report's count too.
    LoadReport check(const WeightsSource &weights, const std::vector<RemapRule> &rules,
                     LoadCount *count = nullptr) const;
    // The same check, counted: the sizes of check()'s missing, unexpected and shapeMismatch,
    // and its loaded keys.
    LoadCount count(const WeightsSource &weights, const std::vector<RemapRule> &rules) const;

private:
    friend class RuleTrials;
    struct Prepared;
    const ExpectedModel &m_model;
    std::shared_ptr<Prepared> m_prepared;
};

// Candidate rules tried one at a time after a weights source's keys: a rule that renames a
// few keys is counted by the names it touches, not by a pass over every key. count(rule, n)
// is checker.count(weights, {rule}), or nothing when fewer than n keys would load. Keeps
// references to the checker and the weights. Throws what check() throws.
class RuleTrials {
public:
    RuleTrials(const LoadChecker &checker, const WeightsSource &weights);
    ~RuleTrials();
    std::optional<LoadCount> count(const RemapRule &rule, size_t atLeast = 0) const;

private:
    struct Base;
    LoadCount countRenaming(const std::vector<uint32_t> &renamed, const std::string &names,
                            const std::vector<size_t> &ends) const;
    const LoadChecker &m_checker;
    std::unique_ptr<Base> m_base;
};

// "torch.Size([16, 8])"
std::string torchSizeText(const std::vector<int64_t> &shape);

} // namespace te
