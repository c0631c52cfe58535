#include "core/stats/tensorgrid.h"

#include "core/document/tensorbytes.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace te {

TensorInfo filtersTiled(const TensorInfo &t)
{
    TensorInfo view = t;
    if (t.shape.size() == 4 && t.strides.size() == 4) {
        std::swap(view.shape[1], view.shape[2]);
        std::swap(view.strides[1], view.strides[2]);
    }
    return view;
}

namespace {

// Contiguous float32, the common case: a row at a time copied out of the map (its bytes
// need not be aligned), then a block of the row at a time, with no index walk and no
// dtype switch per element. False when the tensor is not such a case.
bool reduceFloat32Rows(const uint8_t *base, const TensorInfo &t, const TensorGrid &g, GridReduction how,
                       std::vector<double> &acc, std::vector<uint32_t> &counts, const std::atomic<bool> *cancel,
                       bool *cancelled)
{
    if (t.dtype != DType::Float32 || !t.isContiguous() || g.columns > (int64_t(1) << 22))
        return false;
    const uint8_t *start = base + t.storageOffset * 4;
    std::vector<float> row(static_cast<size_t>(g.columns));
    for (int64_t r = 0; r < g.rows; ++r) {
        if ((r & 255) == 0 && cancel && cancel->load()) {
            *cancelled = true;
            return true;
        }
        std::memcpy(row.data(), start + r * g.columns * 4, row.size() * 4);
        const size_t rowCells = static_cast<size_t>(r / g.blockRows) * static_cast<size_t>(g.cellColumns);
        size_t cell = rowCells;
        for (int64_t c0 = 0; c0 < g.columns; c0 += g.blockColumns, ++cell) {
            const int64_t end = std::min(c0 + g.blockColumns, g.columns);
            double sum = 0, best = 0;
            uint32_t n = 0;
            for (int64_t c = c0; c < end; ++c) {
                const double v = row[static_cast<size_t>(c)];
                if (!std::isfinite(v))
                    continue;
                sum += v;
                if (n == 0 || std::fabs(v) > std::fabs(best))
                    best = v;
                ++n;
            }
            if (n == 0)
                continue;
            if (how == GridReduction::Mean)
                acc[cell] += sum;
            else if (counts[cell] == 0 || std::fabs(best) > std::fabs(acc[cell]))
                acc[cell] = best;
            counts[cell] += n;
        }
    }
    return true;
}

} // namespace

TensorGrid reduceToGrid(const Document &doc, const TensorInfo &t, int maxRows, int maxColumns, GridReduction how,
                        const std::atomic<bool> *cancel, int columnDims)
{
    TensorGrid g;
    const int64_t numel = t.numel();
    if (numel < 0) {
        g.error = "the tensor's size overflows";
        return g;
    }
    if (numel == 0) {
        g.error = "the tensor has no elements";
        return g;
    }
    g.columns = 1; // a product of dimensions of a tensor whose size did not overflow
    for (size_t d = t.shape.size() - std::min(t.shape.size(), static_cast<size_t>(std::max(columnDims, 1)));
         d < t.shape.size(); ++d)
        g.columns *= t.shape[d];
    g.rows = g.columns > 0 ? numel / g.columns : 0;
    if (g.rows == 0 || g.columns == 0) {
        g.error = "the tensor has no elements";
        return g;
    }
    const uint8_t *base = tensorBase(doc, t, &g.error);
    if (!base)
        return g;
    g.blockRows = (g.rows + std::max(maxRows, 1) - 1) / std::max(maxRows, 1);
    g.blockColumns = (g.columns + std::max(maxColumns, 1) - 1) / std::max(maxColumns, 1);
    g.cellRows = static_cast<int>((g.rows + g.blockRows - 1) / g.blockRows);
    g.cellColumns = static_cast<int>((g.columns + g.blockColumns - 1) / g.blockColumns);
    const size_t cells = static_cast<size_t>(g.cellRows) * static_cast<size_t>(g.cellColumns);
    std::vector<double> acc(cells, 0.0);
    std::vector<uint32_t> counts(cells, 0);
    // The walk is row-major: a cell's column advances every blockColumns elements, its
    // row every blockRows rows.
    int64_t row = 0, column = 0, seen = 0;
    size_t rowCells = 0; // first cell of the current row of cells
    int64_t cellColumn = 0, inBlock = 0;
    bool cancelled = false;
    if (!reduceFloat32Rows(base, t, g, how, acc, counts, cancel, &cancelled))
        forEachElement(base, t, [&](const uint8_t *p) {
            if ((++seen & 0xFFFFF) == 0 && cancel && cancel->load()) {
                cancelled = true;
                return false;
            }
            const double v = decodeElement(t.dtype, p);
            if (std::isfinite(v)) {
                const size_t cell = rowCells + static_cast<size_t>(cellColumn);
                if (how == GridReduction::Mean) {
                    acc[cell] += v;
                } else if (counts[cell] == 0 || std::fabs(v) > std::fabs(acc[cell])) {
                    acc[cell] = v;
                }
                ++counts[cell];
            }
            if (++inBlock == g.blockColumns) {
                inBlock = 0;
                ++cellColumn;
            }
            if (++column == g.columns) {
                column = 0;
                cellColumn = 0;
                inBlock = 0;
                if (++row % g.blockRows == 0)
                    rowCells += static_cast<size_t>(g.cellColumns);
            }
            return true;
        });
    if (cancelled) {
        g.error = "cancelled";
        return g;
    }
    if (std::string damage = tensorDamage(doc, t); !damage.empty()) {
        g.error = std::move(damage);
        return g;
    }
    g.cells.resize(cells);
    g.min = std::numeric_limits<double>::infinity();
    g.max = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < cells; ++i) {
        if (counts[i] == 0) {
            g.cells[i] = std::numeric_limits<double>::quiet_NaN();
            continue;
        }
        g.cells[i] = how == GridReduction::Mean ? acc[i] / counts[i] : acc[i];
        g.min = std::min(g.min, g.cells[i]);
        g.max = std::max(g.max, g.cells[i]);
    }
    if (!(g.min <= g.max))
        g.min = g.max = 0; // no finite value at all
    g.ok = true;
    return g;
}

} // namespace te
