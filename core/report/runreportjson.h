#pragma once
// The parts of a run's JSON report (torch-explorer-cli run --json) that the window's
// exports share: outputs with their best classes, every layer's output, and the
// comparison of two weight sets.
#include "core/runtime/labels/labels.h"
#include "core/runtime/runcomparison.h"
#include "core/runtime/runtimeapi.h"

#include <nlohmann/json.hpp>

namespace te {

// Tensors: path, shape, dtype, sum, the first maxValues values (null for NaN and
// infinities) and, for class scores, "top": [{index, label, score, probability}].
nlohmann::ordered_json outputsJson(const RunResult &r, const Labels &labels, size_t maxValues = 1024);
// [{path, type, shape, dtype, sum, mean, std, min, max, nan, inf}]
nlohmann::ordered_json layersJson(const std::vector<LayerOutput> &layers);
nlohmann::ordered_json comparisonJson(const std::vector<OutputComparison> &comparison);

} // namespace te
