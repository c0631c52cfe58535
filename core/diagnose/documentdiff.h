#pragma once
// Compares two opened files tensor by tensor: keys only in one of them, shape and dtype
// changes, and for tensors present in both with readable values the largest absolute and
// relative difference, computed in float64 from the bytes.
#include "core/document/document.h"

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace te {

struct TensorDiff {
    std::string key;
    std::vector<int64_t> shapeA, shapeB;
    std::string dtypeA, dtypeB;
    bool valuesCompared = false;
    double maxAbs = 0;      // max |a - b|
    double maxRel = 0;      // max |a - b| / max(|a|, |b|), 0 where both are 0
    uint64_t differing = 0; // elements that are not equal
    std::string note;       // why values were not compared
};

struct DocumentDiff {
    std::vector<std::string> onlyA, onlyB;
    std::vector<TensorDiff> common; // every key in both, in A's order
    size_t identical = 0;           // common tensors with equal shape, dtype and values
    bool same() const;
};

DocumentDiff diffDocuments(const Document &a, const Document &b, const std::atomic<bool> *cancel = nullptr);
nlohmann::ordered_json diffJson(const DocumentDiff &diff);
std::string diffText(const DocumentDiff &diff);

} // namespace te
