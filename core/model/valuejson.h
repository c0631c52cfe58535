#pragma once
// A readable JSON rendering of a value for metadata and hyper-parameters: scalars as
// themselves, tensors as a one-line summary, symbolic objects by their class.
#include "document.h"

namespace te {

nlohmann::ordered_json valueToJson(const Document &doc, const Value *v, int depth);
std::string tensorSummary(const Document &doc, const TensorInfo &t);
std::string shapeText(const std::vector<int64_t> &shape); // "[8, 3, 3, 3]"
// JSON text that never throws: bytes that are not UTF-8 (zip member names, hostile
// input) are replaced, not fatal.
std::string jsonText(const nlohmann::ordered_json &j, int indent = -1);

} // namespace te
