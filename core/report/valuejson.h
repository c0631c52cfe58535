#pragma once
// A readable JSON rendering of a value for metadata and hyper-parameters: scalars as
// themselves, tensors as a one-line summary, symbolic objects by their class.
#include "core/document/document.h"

#include <unordered_map>

namespace te {

// What the renderings of one document may produce together. A value shared by reference
// (a memo-shared string, a list reached along exponentially many paths) is rendered each
// time it is reached, so the total needs a bound, not each rendering alone.
struct RenderBudget {
    uint64_t values = 4'000'000;         // JSON values made
    uint64_t bytes = uint64_t(16) << 20; // text of strings and keys
};

// Renders at most `depth` levels of containers (and never more than a fixed few, so the
// recursion stays shallow whatever the file nests). Without a budget, one of its own.
nlohmann::ordered_json valueToJson(const Document &doc, const Value *v, int depth, RenderBudget *budget = nullptr);
std::string tensorSummary(const Document &doc, const TensorInfo &t);
std::string shapeText(const std::vector<int64_t> &shape); // "[8, 3, 3, 3]"
// JSON text that never throws: bytes that are not UTF-8 (zip member names, hostile
// input) are replaced, not fatal.
std::string jsonText(const nlohmann::ordered_json &j, int indent = -1);

// Fills a JSON object in constant time per member. nlohmann's ordered_json looks every key
// up linearly, so setting n keys one by one costs n squared: a dict of a million scalars
// would take hours. A key set twice keeps its first place and its last value, as before.
class JsonObjectFiller {
public:
    explicit JsonObjectFiller(nlohmann::ordered_json &object);
    void set(const std::string &key, nlohmann::ordered_json value);

private:
    nlohmann::ordered_json &m_object;
    std::unordered_map<std::string, size_t> m_index;
};

} // namespace te
