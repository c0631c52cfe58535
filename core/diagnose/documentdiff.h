#pragma once
// Compares two opened files tensor by tensor: keys only in one of them, shape and dtype
// changes, and for tensors present in both with readable values the largest absolute and
// relative difference, computed in float64 from the bytes. Keys are lined up first (see
// keyalignment.h); a literal alignment compares every key as it is. The keys are compared
// at once, the values after, one tensor at a time, so that a window can show the first
// while the second runs.
#include "core/diagnose/keyalignment.h"
#include "core/document/document.h"

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace te {

enum class DiffStatus { OnlyA, OnlyB, Tied, ShapeChanged, DtypeChanged, ValuesDiffer, Identical, Pending, Unreadable };
const char *diffStatusName(DiffStatus s); // "only in A", "values differ", ...

struct TensorDiff {
    std::string key;                // B's full key
    std::string keyA;               // A's full key (differs from key when the alignment renamed it)
    int tensorA = -1, tensorB = -1; // indices into each document's tensors
    std::vector<int64_t> shapeA, shapeB;
    std::string dtypeA, dtypeB;
    bool valuesTried = false;    // the value comparison ran (or was refused, see note)
    bool valuesCompared = false; // ...and walked every element
    double maxAbs = 0;           // max |a - b|
    double maxRel = 0;           // max |a - b| / max(|a|, |b|), 0 where both are 0
    uint64_t differing = 0;      // elements that are not equal
    // A - B element by element (real parts): 0 where the values are equal (NaN and
    // infinities included), the difference where both are finite; other pairs left out.
    uint64_t diffCount = 0;
    double diffMean = 0, diffStd = 0, diffMin = 0, diffMax = 0;
    std::string note; // why values were not compared
    DiffStatus status() const;
};

// A key of one file that the other lacks, but that holds the very tensor of a key both
// have (tied weights: safetensors keeps one of them).
struct TiedKey {
    std::string key, tiedTo;
};

struct DocumentDiff {
    KeyAlignment alignment;
    std::vector<std::string> onlyA, onlyB; // full keys as each file names them
    std::vector<TiedKey> tiedA, tiedB;
    std::vector<TensorDiff> common; // every key in both, in A's order
    size_t identical = 0;           // common tensors with equal shape, dtype and values
    bool same() const;
    void recount(); // identical, after values were compared one by one
};

// Keys, shapes and dtypes only: fast, reads no tensor bytes.
DocumentDiff diffKeys(const Document &a, const Document &b, const KeyAlignment &alignment);
// The values of one row of diffKeys. Adds to *walked the elements walked (cancel is checked
// every 2^20 of them). False when cancelled part-way.
bool compareTensorValues(const Document &a, const Document &b, TensorDiff &row, const std::atomic<bool> *cancel,
                         uint64_t *walked);
// Both, for every common key.
DocumentDiff diffDocuments(const Document &a, const Document &b, const KeyAlignment &alignment,
                           const std::atomic<bool> *cancel = nullptr);
nlohmann::ordered_json diffJson(const DocumentDiff &diff);
std::string diffText(const DocumentDiff &diff);
// The comparison as Markdown: the files, how keys were lined up, the counts, and a table
// of every key that is not identical.
std::string diffMarkdown(const DocumentDiff &diff, const std::string &pathA, const std::string &pathB);

} // namespace te
