#pragma once
// Values and statistics of a tensor read straight from the mapped bytes, in float64 for
// every dtype (float16, bfloat16 and float8 are converted exactly). Strided views are
// walked through their strides; nothing is copied first.
#include "document.h"

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

// Decodes one element of the given dtype at p into float64 (real part for complex).
double decodeElement(DType t, const uint8_t *p, double *imag = nullptr);
double halfToDouble(uint16_t bits);
double float8ToDouble(uint8_t bits, DType t);

// The bytes of a tensor's storage in the mapped file; null with *error set when unreadable,
// including when the tensor reaches past the bytes its storage has in the file.
const uint8_t *tensorBase(const Document &doc, const TensorInfo &t, std::string *error);

// Contiguous tensors are read block by block, long ones split over the cores; `progress`,
// when given, grows by the number of elements read (for a progress bar on big tensors).
// Empty when the tensor's bytes are still what was mapped; otherwise why its values just
// read cannot be trusted (the file was cut short on disk while open). Check after reading.
std::string tensorDamage(const Document &doc, const TensorInfo &t);

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

// Calls f(elementPointer) for every element in row-major order; stops when f returns false.
template <typename F>
bool forEachElement(const uint8_t *base, const TensorInfo &t, F &&f);

template <typename F>
bool forEachElement(const uint8_t *base, const TensorInfo &t, F &&f)
{
    const int64_t item = dtypeItemSize(t.dtype);
    const size_t dims = t.shape.size();
    int64_t numel = t.numel();
    if (numel <= 0)
        return true;
    const uint8_t *start = base + t.storageOffset * item;
    std::vector<int64_t> index(dims, 0);
    int64_t offset = 0; // in elements from start
    for (int64_t n = 0; n < numel; ++n) {
        if (!f(start + offset * item))
            return false;
        for (size_t d = dims; d-- > 0;) {
            if (++index[d] < t.shape[d]) {
                offset += t.strides[d];
                break;
            }
            offset -= (t.shape[d] - 1) * t.strides[d];
            index[d] = 0;
        }
    }
    return true;
}

} // namespace te
