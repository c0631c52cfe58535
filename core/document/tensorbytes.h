#pragma once
// A tensor's elements in the mapped file: where its bytes start, whether they can still be
// trusted, and one element of any dtype decoded to float64 (float16, bfloat16 and float8
// exactly). Strided views are walked through their strides; nothing is copied.
#include "core/document/document.h"

#include <string>
#include <vector>

namespace te {

// Decodes one element of the given dtype at p into float64 (real part for complex).
double decodeElement(DType t, const uint8_t *p, double *imag = nullptr);
double halfToDouble(uint16_t bits);
double float8ToDouble(uint8_t bits, DType t);

// The bytes of a tensor's storage in the mapped file; null with *error set when unreadable,
// including when the tensor reaches past the bytes its storage has in the file.
const uint8_t *tensorBase(const Document &doc, const TensorInfo &t, std::string *error);
// The same checks without fetching or touching the bytes: the file holding the storage,
// where the storage starts in it, and how many of its bytes the tensor reaches.
bool tensorLocation(const Document &doc, const TensorInfo &t, const MappedFile **file, uint64_t *offset,
                    uint64_t *extent, std::string *error);

// Empty when the tensor's bytes are still what was mapped; otherwise why its values just
// read cannot be trusted (the file was cut short on disk while open). Check after reading.
std::string tensorDamage(const Document &doc, const TensorInfo &t);

// The view t[i0, i1, ...] of the dimensions after the given indices, as indexing makes it
// in PyTorch: the same storage, the offset moved along the strides. An index out of range,
// or more indices than dimensions, gives a view whose `error` says so.
TensorInfo indexLeading(const TensorInfo &t, const std::vector<int64_t> &indices);

// The view t.permute(order) as PyTorch makes it: dimension i of the view is dimension
// order[i] of t, the same storage and offset. An order that is not a permutation of t's
// dimensions gives a view whose `error` says so.
TensorInfo permuteDims(const TensorInfo &t, const std::vector<size_t> &order);

// Calls f(elementPointer) for every element in row-major order; stops when f returns false.
template <typename F> bool forEachElement(const uint8_t *base, const TensorInfo &t, F &&f);

template <typename F> bool forEachElement(const uint8_t *base, const TensorInfo &t, F &&f)
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
