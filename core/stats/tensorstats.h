#pragma once
// Values, statistics and histograms of a tensor read straight from the mapped bytes
// (tensorbytes.h), in float64 for every dtype.
#include "core/document/tensorbytes.h"

#include <atomic>
#include <vector>

namespace te {

struct TensorStats {
    bool ok = false;
    std::string error;
    uint64_t count = 0;
    uint64_t zeros = 0, nans = 0, posInfs = 0, negInfs = 0;
    double sum = 0, finiteSum = 0, sumImag = 0;
    double min = 0, max = 0, mean = 0, std = 0; // over finite values; std is unbiased like torch.std
};

// Contiguous tensors are read block by block, long ones split over the cores; `progress`,
// when given, grows by the number of elements read (for a progress bar on big tensors).
TensorStats computeStats(const Document &doc, const TensorInfo &t, const std::atomic<bool> *cancel = nullptr,
                         std::atomic<uint64_t> *progress = nullptr);
// Statistics of doc.entries[from, to), a tensor per core at a time.
std::vector<TensorStats> computeStatsOfEntries(const Document &doc, size_t from, size_t to,
                                               const std::atomic<bool> *cancel = nullptr);
// The first `limit` values in row-major order (imaginary parts into *imag when given).
std::vector<double> readValues(const Document &doc, const TensorInfo &t, size_t limit,
                               std::vector<double> *imag = nullptr, std::string *error = nullptr);

// Counts of finite values in `bins` equal bins over [lo, hi] (real parts for complex).
std::vector<uint64_t> computeHistogram(const Document &doc, const TensorInfo &t, double lo, double hi, int bins,
                                       const std::atomic<bool> *cancel = nullptr);

} // namespace te
