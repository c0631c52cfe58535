#pragma once
// A tensor as a picture: its values laid out as rows x columns (the last dimension, or the
// last few, across, every other one down, as a reshape would) and reduced to at most a
// given number of cells, each summarising a block of elements. Read straight from the map
// in one pass; the tensor is never materialised.
#include "core/document/document.h"

#include <atomic>
#include <string>
#include <vector>

namespace te {

enum class GridReduction {
    Mean,   // the mean of the block's finite values
    MaxAbs, // the block's value of largest magnitude, with its sign
};

struct TensorGrid {
    bool ok = false;
    std::string error;
    int64_t rows = 0, columns = 0;           // of the tensor laid out in 2-D
    int64_t blockRows = 1, blockColumns = 1; // elements a cell covers
    int cellRows = 0, cellColumns = 0;
    std::vector<double> cells; // row-major; NaN where a block has no finite value
    double min = 0, max = 0;   // over the finite cells
};

// At most maxRows x maxColumns cells (each at least 1); a 0-d tensor is one cell. The
// last `columnDims` dimensions go across.
TensorGrid reduceToGrid(const Document &doc, const TensorInfo &t, int maxRows, int maxColumns, GridReduction how,
                        const std::atomic<bool> *cancel = nullptr, int columnDims = 1);

// A conv weight [out, in, kh, kw] as the view [out, kh, in, kw]: laid out with two column
// dimensions, every filter is a kh x kw tile, a row of tiles per output channel. Other
// tensors are returned as they are.
TensorInfo filtersTiled(const TensorInfo &t);

} // namespace te
