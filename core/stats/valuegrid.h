#pragma once
// Values already in memory (a layer's output handed back by a run, as float32 in row-major
// order) as the Tensor tab shows a tensor of a file: laid out as a grid of cells for the
// heatmap, and counted into a histogram.
#include "core/stats/tensorgrid.h"

#include <cstdint>
#include <vector>

namespace te {

// The values as (all leading dimensions) x (the last one), each cell the mean of the
// finite values of its block, at most maxRows x maxColumns cells. Not ok when `values`
// does not hold every element of `shape`.
TensorGrid gridOfValues(const std::vector<float> &values, const std::vector<int64_t> &shape, int maxRows,
                        int maxColumns);

struct ValueHistogram {
    std::vector<uint64_t> counts; // equal bins over [lo, hi]; empty without a finite value
    double lo = 0, hi = 0;
};

// The finite values counted into `bins` equal bins over their range.
ValueHistogram histogramOfValues(const std::vector<float> &values, int bins);

} // namespace te
