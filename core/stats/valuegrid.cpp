#include "core/stats/valuegrid.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace te {

TensorGrid gridOfValues(const std::vector<float> &values, const std::vector<int64_t> &shape, int maxRows,
                        int maxColumns)
{
    TensorGrid g;
    int64_t numel = 1;
    for (int64_t d : shape)
        numel *= d;
    if (numel <= 0 || static_cast<uint64_t>(numel) != values.size()) {
        g.error = numel <= 0 ? "the output is empty" : "the output's values were not kept (it is too large)";
        return g;
    }
    g.columns = shape.empty() ? 1 : shape.back();
    g.rows = numel / g.columns;
    g.blockRows = (g.rows + std::max(maxRows, 1) - 1) / std::max(maxRows, 1);
    g.blockColumns = (g.columns + std::max(maxColumns, 1) - 1) / std::max(maxColumns, 1);
    g.cellRows = static_cast<int>((g.rows + g.blockRows - 1) / g.blockRows);
    g.cellColumns = static_cast<int>((g.columns + g.blockColumns - 1) / g.blockColumns);
    std::vector<double> sums(static_cast<size_t>(g.cellRows) * static_cast<size_t>(g.cellColumns), 0.0);
    std::vector<uint64_t> counts(sums.size(), 0);
    for (int64_t r = 0; r < g.rows; ++r) {
        const size_t cellRow = static_cast<size_t>(r / g.blockRows) * static_cast<size_t>(g.cellColumns);
        const float *row = values.data() + r * g.columns;
        for (int64_t c = 0; c < g.columns; ++c) {
            if (!std::isfinite(row[c]))
                continue;
            const size_t cell = cellRow + static_cast<size_t>(c / g.blockColumns);
            sums[cell] += row[c];
            ++counts[cell];
        }
    }
    g.cells.resize(sums.size());
    g.min = std::numeric_limits<double>::infinity();
    g.max = -g.min;
    for (size_t i = 0; i < sums.size(); ++i) {
        g.cells[i] = counts[i] ? sums[i] / static_cast<double>(counts[i]) : std::nan("");
        if (counts[i]) {
            g.min = std::min(g.min, g.cells[i]);
            g.max = std::max(g.max, g.cells[i]);
        }
    }
    if (g.min > g.max)
        g.min = g.max = 0;
    g.ok = true;
    return g;
}

ValueHistogram histogramOfValues(const std::vector<float> &values, int bins)
{
    ValueHistogram h;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (float v : values) {
        if (std::isfinite(v)) {
            lo = std::min(lo, static_cast<double>(v));
            hi = std::max(hi, static_cast<double>(v));
        }
    }
    if (lo > hi || bins < 1)
        return h;
    h.lo = lo;
    h.hi = hi;
    h.counts.assign(static_cast<size_t>(bins), 0);
    const double width = hi > lo ? (hi - lo) / bins : 1.0;
    for (float v : values) {
        if (!std::isfinite(v))
            continue;
        const auto bin = static_cast<int>((static_cast<double>(v) - lo) / width);
        ++h.counts[static_cast<size_t>(std::clamp(bin, 0, bins - 1))];
    }
    return h;
}

} // namespace te
