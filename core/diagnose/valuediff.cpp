#include "core/diagnose/valuediff.h"

#include "core/document/tensorbytes.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

// Value rules, in float64 for every dtype:
// - two elements are equal when their values are equal (0 and -0 included) or both are
//   NaN; for the same 64-bit integer dtype, when their bytes are equal (float64 cannot
//   tell large int64 values apart);
// - an unequal pair where either side is NaN or infinite counts with max_abs and max_rel
//   infinite (null in JSON): there is no finite measure of that difference;
// - max_rel is |a - b| / max(|a|, |b|), never taken over a pair of zeros;
// - complex elements: the real and imaginary parts are measured as separate pairs and the
//   element counts once in `differing` when either part differs.

namespace te {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kBlock = int64_t(1) << 20; // elements between cancel checks

// Walks a strided tensor in row-major order one element at a time, like forEachElement,
// but resumable, so two tensors can be walked in lockstep without copying either.
class ElementCursor {
public:
    ElementCursor(const uint8_t *base, const TensorInfo &t)
        : m_start(base + t.storageOffset * dtypeItemSize(t.dtype))
        , m_item(dtypeItemSize(t.dtype))
        , m_t(t)
        , m_index(t.shape.size(), 0)
    { }
    const uint8_t *get() const { return m_start + m_offset * m_item; }
    void advance()
    {
        for (size_t d = m_index.size(); d-- > 0;) {
            if (++m_index[d] < m_t.shape[d]) {
                m_offset += m_t.strides[d];
                return;
            }
            m_offset -= (m_t.shape[d] - 1) * m_t.strides[d];
            m_index[d] = 0;
        }
    }

private:
    const uint8_t *m_start;
    int64_t m_item;
    const TensorInfo &m_t;
    std::vector<int64_t> m_index;
    int64_t m_offset = 0;
};

bool is64BitInteger(DType t) { return t == DType::Int64 || t == DType::UInt64; }

// |a - b| of two 64-bit integers without the rounding of converting each to double first.
double integerDistance(DType t, const uint8_t *pa, const uint8_t *pb)
{
    uint64_t ua, ub;
    std::memcpy(&ua, pa, 8);
    std::memcpy(&ub, pb, 8);
    if (t == DType::Int64) { // order as signed, subtract as unsigned: exact modulo 2^64
        int64_t sa, sb;
        std::memcpy(&sa, pa, 8);
        std::memcpy(&sb, pb, 8);
        return static_cast<double>(sa > sb ? ua - ub : ub - ua);
    }
    return static_cast<double>(ua > ub ? ua - ub : ub - ua);
}

struct Accumulator {
    DType typeA = DType::Unknown, typeB = DType::Unknown;
    bool bytewise = false; // same 64-bit integer dtype: equality by bytes
    int itemA = 0, itemB = 0;
    double maxAbs = 0, maxRel = 0;
    uint64_t differing = 0;
    // Moments of A - B (Welford), its range.
    uint64_t count = 0;
    double mean = 0, m2 = 0, lo = kInf, hi = -kInf;

    void difference(double d)
    {
        ++count;
        const double delta = d - mean;
        mean += delta / static_cast<double>(count);
        m2 += delta * (d - mean);
        lo = std::min(lo, d);
        hi = std::max(hi, d);
    }
    // n equal elements at once (a block that compared equal byte for byte).
    void zeros(uint64_t n)
    {
        if (n == 0)
            return;
        const double total = static_cast<double>(count + n);
        m2 += mean * mean * static_cast<double>(count) * static_cast<double>(n) / total;
        mean *= static_cast<double>(count) / total;
        count += n;
        lo = std::min(lo, 0.0);
        hi = std::max(hi, 0.0);
    }

    // Returns whether the part differs, updating the maxima.
    bool part(double a, double b)
    {
        if (a == b || (std::isnan(a) && std::isnan(b)))
            return false;
        if (!std::isfinite(a) || !std::isfinite(b)) {
            maxAbs = maxRel = kInf;
            return true;
        }
        const double m = std::max(std::fabs(a), std::fabs(b)); // > 0: a != b
        maxAbs = std::max(maxAbs, std::fabs(a - b));
        maxRel = std::max(maxRel, std::fabs(a / m - b / m));
        return true;
    }

    void element(const uint8_t *pa, const uint8_t *pb)
    {
        if (bytewise) {
            if (std::memcmp(pa, pb, 8) == 0)
                return zeros(1);
            ++differing;
            difference(decodeElement(typeA, pa) - decodeElement(typeB, pb));
            const double d = integerDistance(typeA, pa, pb);
            const double m = std::max(std::fabs(decodeElement(typeA, pa)), std::fabs(decodeElement(typeB, pb)));
            maxAbs = std::max(maxAbs, d);
            maxRel = std::max(maxRel, std::min(2.0, d / m));
            return;
        }
        double ia = 0, ib = 0;
        const double ra = decodeElement(typeA, pa, &ia), rb = decodeElement(typeB, pb, &ib);
        const bool realDiffers = part(ra, rb);
        if (!realDiffers) // equal, NaN and infinities alike, as the byte-equal blocks count
            difference(0.0);
        else if (std::isfinite(ra) && std::isfinite(rb))
            difference(ra - rb);
        const bool imagDiffers = part(ia, ib);
        if (realDiffers || imagDiffers)
            ++differing;
    }
};

bool cancelled(const std::atomic<bool> *cancel) { return cancel && cancel->load(std::memory_order_relaxed); }

} // namespace

bool compareValues(const uint8_t *baseA, const TensorInfo &ta, const uint8_t *baseB, const TensorInfo &tb,
                   TensorDiff &diff, const std::atomic<bool> *cancel, uint64_t &walked)
{
    Accumulator acc;
    acc.typeA = ta.dtype;
    acc.typeB = tb.dtype;
    acc.bytewise = ta.dtype == tb.dtype && is64BitInteger(ta.dtype);
    acc.itemA = dtypeItemSize(ta.dtype);
    acc.itemB = dtypeItemSize(tb.dtype);
    const int64_t numel = ta.numel();
    const bool flat = ta.dtype == tb.dtype && ta.isContiguous() && tb.isContiguous();
    const uint8_t *pa = baseA + ta.storageOffset * acc.itemA, *pb = baseB + tb.storageOffset * acc.itemB;
    ElementCursor ca(baseA, ta), cb(baseB, tb);
    bool complete = true;
    int64_t done = 0;
    while (done < numel) {
        // Checked before every block, so a long run of small tensors is cancellable too.
        if ((walked >> 20) != ((walked + static_cast<uint64_t>(std::min(kBlock, numel - done))) >> 20) &&
            cancelled(cancel)) {
            complete = false;
            break;
        }
        const int64_t n = std::min(kBlock, numel - done);
        if (flat) {
            // Identical bytes are identical values: equal checkpoints compare at memcmp speed.
            const size_t offset = static_cast<size_t>(done * acc.itemA), bytes = static_cast<size_t>(n * acc.itemA);
            if (std::memcmp(pa + offset, pb + offset, bytes) != 0)
                for (int64_t i = 0; i < n; ++i)
                    acc.element(pa + offset + i * acc.itemA, pb + offset + i * acc.itemB);
            else
                acc.zeros(static_cast<uint64_t>(n)); // equal values differ by 0
        } else {
            for (int64_t i = 0; i < n; ++i, ca.advance(), cb.advance())
                acc.element(ca.get(), cb.get());
        }
        done += n;
        walked += static_cast<uint64_t>(n);
    }
    diff.maxAbs = acc.maxAbs;
    diff.maxRel = acc.maxRel;
    diff.differing = acc.differing;
    diff.diffCount = acc.count;
    if (acc.count) {
        diff.diffMean = acc.mean;
        diff.diffStd = acc.count > 1 ? std::sqrt(acc.m2 / static_cast<double>(acc.count - 1)) : 0.0;
        diff.diffMin = acc.lo;
        diff.diffMax = acc.hi;
    }
    if (!complete)
        diff.note = "cancelled after " + std::to_string(done) + " of " + std::to_string(numel) + " elements";
    return complete;
}

} // namespace te
