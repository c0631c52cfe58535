#include "core/stats/tensorstats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>
#include <thread>

namespace te {

namespace {

// Statistics of a contiguous run of one real dtype, block by block: each block of 4096
// values is summed plainly in one pass; blocks are merged with Neumaier's sum and Chan's formula. This
// keeps float64 accuracy at memory speed, where a per-element compensated update is
// several times slower. Inside a block every running quantity is split over kLanes
// independent accumulators, so the additions do not wait on each other and the
// compiler can use vector instructions without reordering anything itself.
constexpr int64_t kLanes = 4;

void addCompensated(double &acc, double &c, double v)
{
    double y = acc + v;
    c += std::fabs(acc) >= std::fabs(v) ? (acc - y) + v : (v - y) + acc;
    acc = y;
}

// What a run of values contributes; runs are merged in order.
struct Partial {
    double sum = 0, comp = 0, finiteSum = 0, finiteComp = 0, mean = 0, m2 = 0;
    uint64_t finite = 0, zeros = 0, nans = 0, posInfs = 0, negInfs = 0;
    double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();

    // Chan's formula for the squared deviations of two runs together.
    void merge(const Partial &o)
    {
        addCompensated(sum, comp, o.sum);
        addCompensated(sum, comp, o.comp);
        addCompensated(finiteSum, finiteComp, o.finiteSum);
        addCompensated(finiteSum, finiteComp, o.finiteComp);
        if (o.finite) {
            const double count = static_cast<double>(finite + o.finite);
            const double delta = o.mean - mean;
            mean += delta * static_cast<double>(o.finite) / count;
            m2 += o.m2 + delta * delta * static_cast<double>(finite) * static_cast<double>(o.finite) / count;
            finite += o.finite;
        }
        zeros += o.zeros;
        nans += o.nans;
        posInfs += o.posInfs;
        negInfs += o.negInfs;
        lo = std::min(lo, o.lo);
        hi = std::max(hi, o.hi);
    }

    void finish(TensorStats &st, uint64_t n) const
    {
        st.count = n;
        st.zeros = zeros;
        st.nans = nans;
        st.posInfs = posInfs;
        st.negInfs = negInfs;
        st.sum = std::isfinite(sum + comp) ? sum + comp : sum;
        st.finiteSum = finiteSum + finiteComp;
        st.min = finite ? lo : std::numeric_limits<double>::quiet_NaN();
        st.max = finite ? hi : std::numeric_limits<double>::quiet_NaN();
        st.mean = finite ? st.finiteSum / static_cast<double>(finite) : std::numeric_limits<double>::quiet_NaN();
        st.std = finite > 1 ? std::sqrt(m2 / static_cast<double>(finite - 1)) : std::numeric_limits<double>::quiet_NaN();
        st.ok = true;
    }
};

template <typename Load>
bool linearStats(const uint8_t *p, int64_t n, int64_t item, Load load, Partial &out,
                 const std::atomic<bool> *cancel, std::atomic<uint64_t> *progress)
{
    constexpr int64_t kBlock = 4096;
    double values[kBlock];
    double sum = 0, comp = 0, finiteSum = 0, finiteComp = 0, mean = 0, m2 = 0;
    uint64_t finite = 0;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    auto total = [](const double *lanes) {
        return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    };
    for (int64_t start = 0; start < n; start += kBlock) {
        if ((start & 0xFFFFF) == 0) {
            if (cancel && cancel->load())
                return false;
            if (progress && start > 0)
                progress->fetch_add(0x100000, std::memory_order_relaxed);
        }
        const int64_t len = std::min(kBlock, n - start);
        const int64_t whole = len - len % kLanes;
        const uint8_t *q = p + start * item;
        // One pass for a block of finite values: the sum, extremes, zeros, and the sum and
        // squares of deviations from the block's first value (a shift close to the data
        // keeps the squares accurate). v - v is NaN only for NaN and infinities.
        const double shift = load(q);
        double acc[kLanes] = {}, check[kLanes] = {}, dev[kLanes] = {}, dev2[kLanes] = {};
        double mn[kLanes], mx[kLanes];
        int64_t zeros[kLanes] = {};
        std::fill(mn, mn + kLanes, shift);
        std::fill(mx, mx + kLanes, shift);
        for (int64_t i = 0; i < whole; i += kLanes) {
            for (int64_t k = 0; k < kLanes; ++k) {
                const double v = load(q + (i + k) * item);
                acc[k] += v;
                check[k] += v - v;
                mn[k] = v < mn[k] ? v : mn[k];
                mx[k] = v > mx[k] ? v : mx[k];
                zeros[k] += v == 0;
                const double d = v - shift;
                dev[k] += d;
                dev2[k] += d * d;
            }
        }
        for (int64_t i = whole; i < len; ++i) {
            const double v = load(q + i * item);
            acc[i - whole] += v;
            check[i - whole] += v - v;
            mn[0] = v < mn[0] ? v : mn[0];
            mx[0] = v > mx[0] ? v : mx[0];
            zeros[0] += v == 0;
            const double d = v - shift;
            dev[i - whole] += d;
            dev2[i - whole] += d * d;
        }
        const double blockSum = total(acc);
        addCompensated(sum, comp, blockSum);
        bool special = false;
        for (double c : check)
            special |= c != 0;
        int64_t blockFinite = len;
        double blockFiniteSum = blockSum, blockMean, blockM2;
        if (!special) {
            for (int64_t k = 0; k < kLanes; ++k) {
                lo = std::min(lo, mn[k]);
                hi = std::max(hi, mx[k]);
                out.zeros += static_cast<uint64_t>(zeros[k]);
            }
            const double d = total(dev);
            blockMean = shift + d / static_cast<double>(len);
            blockM2 = std::max(0.0, total(dev2) - d * d / static_cast<double>(len));
        } else {
            // NaN or infinities in this block: classify element by element, then take the
            // finite values' mean and squared deviations in two passes.
            blockFinite = 0;
            blockFiniteSum = 0;
            for (int64_t i = 0; i < len; ++i) {
                const double v = load(q + i * item);
                if (!std::isfinite(v)) {
                    if (std::isnan(v))
                        ++out.nans;
                    else
                        ++(v > 0 ? out.posInfs : out.negInfs);
                    continue;
                }
                values[blockFinite++] = v;
                blockFiniteSum += v;
                out.zeros += v == 0;
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
            if (blockFinite == 0)
                continue;
            blockMean = blockFiniteSum / static_cast<double>(blockFinite);
            blockM2 = 0;
            for (int64_t i = 0; i < blockFinite; ++i)
                blockM2 += (values[i] - blockMean) * (values[i] - blockMean);
        }
        addCompensated(finiteSum, finiteComp, blockFiniteSum);
        const double count = static_cast<double>(finite + static_cast<uint64_t>(blockFinite));
        const double delta = blockMean - mean;
        mean += delta * static_cast<double>(blockFinite) / count;
        m2 += blockM2 + delta * delta * static_cast<double>(finite) * static_cast<double>(blockFinite) / count;
        finite += static_cast<uint64_t>(blockFinite);
    }
    if (progress)
        progress->fetch_add(static_cast<uint64_t>(n) & 0xFFFFF, std::memory_order_relaxed);
    out.sum = sum;
    out.comp = comp;
    out.finiteSum = finiteSum;
    out.finiteComp = finiteComp;
    out.mean = mean;
    out.m2 = m2;
    out.finite = finite;
    out.lo = lo;
    out.hi = hi;
    return true;
}

// Splits a long run over threads (each takes whole blocks) and merges their partials in
// order, so the result does not depend on the scheduling.
template <typename Load>
bool parallelStats(const uint8_t *p, int64_t n, int64_t item, Load load, TensorStats &st,
                   const std::atomic<bool> *cancel, std::atomic<uint64_t> *progress)
{
    constexpr int64_t kMinPerThread = int64_t(1) << 18;
    const int64_t hardware = std::max<int64_t>(1, std::thread::hardware_concurrency());
    const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(hardware, n / kMinPerThread));
    std::vector<Partial> partials(static_cast<size_t>(parts));
    std::vector<char> done(static_cast<size_t>(parts), 0);
    const int64_t per = (n / parts + 4095) / 4096 * 4096;
    auto work = [&](int64_t k) {
        const int64_t from = std::min(n, k * per), to = k + 1 == parts ? n : std::min(n, (k + 1) * per);
        done[static_cast<size_t>(k)] =
            linearStats(p + from * item, to - from, item, load, partials[static_cast<size_t>(k)], cancel, progress);
    };
    std::vector<std::thread> threads;
    try {
        for (int64_t k = 1; k < parts; ++k)
            threads.emplace_back(work, k);
    } catch (const std::system_error &) {
        // No threads to be had: the rest runs on this one.
        for (int64_t k = static_cast<int64_t>(threads.size()) + 1; k < parts; ++k)
            work(k);
    }
    work(0);
    for (auto &t : threads)
        t.join();
    Partial all;
    for (int64_t k = 0; k < parts; ++k) {
        if (!done[static_cast<size_t>(k)])
            return false;
        all.merge(partials[static_cast<size_t>(k)]);
    }
    all.finish(st, static_cast<uint64_t>(n));
    return true;
}

// A type per dtype (not a function pointer), so the load is inlined into the kernel.
template <typename T>
struct LoadAs {
    double operator()(const uint8_t *p) const
    {
        T v;
        std::memcpy(&v, p, sizeof v);
        return static_cast<double>(v);
    }
};

} // namespace

namespace {

TensorStats computeStatsUnchecked(const Document &doc, const TensorInfo &t, const std::atomic<bool> *cancel,
                                  std::atomic<uint64_t> *progress)
{
    TensorStats st;
    const uint8_t *base = tensorBase(doc, t, &st.error);
    if (!base)
        return st;
    if (t.isContiguous() && !dtypeIsComplex(t.dtype) && t.numel() > 0) {
        const uint8_t *p = base + t.storageOffset * dtypeItemSize(t.dtype);
        const int64_t n = t.numel();
        const int64_t item = dtypeItemSize(t.dtype);
        bool done = false;
        switch (t.dtype) {
        case DType::Float32: done = parallelStats(p, n, item, LoadAs<float>{}, st, cancel, progress); break;
        case DType::Float64: done = parallelStats(p, n, item, LoadAs<double>{}, st, cancel, progress); break;
        case DType::Int64: done = parallelStats(p, n, item, LoadAs<int64_t>{}, st, cancel, progress); break;
        case DType::Int32: done = parallelStats(p, n, item, LoadAs<int32_t>{}, st, cancel, progress); break;
        default: {
            const DType type = t.dtype;
            done = parallelStats(p, n, item, [type](const uint8_t *q) { return decodeElement(type, q); }, st, cancel,
                                 progress);
        }
        }
        if (!done)
            st.error = "cancelled";
        return st;
    }
    double mean = 0, m2 = 0, comp = 0, finiteComp = 0;
    uint64_t finite = 0;
    st.min = std::numeric_limits<double>::infinity();
    st.max = -std::numeric_limits<double>::infinity();
    bool cancelled = false;
    forEachElement(base, t, [&](const uint8_t *p) {
        double im = 0;
        double v = decodeElement(t.dtype, p, &im);
        ++st.count;
        if ((st.count & 0xFFFFF) == 0) {
            if (cancel && cancel->load()) {
                cancelled = true;
                return false;
            }
            if (progress)
                progress->fetch_add(0x100000, std::memory_order_relaxed);
        }
        st.sumImag += im;
        // Neumaier summation: the sums are compared with PyTorch's to many digits.
        double y = st.sum + v;
        comp += std::fabs(st.sum) >= std::fabs(v) ? (st.sum - y) + v : (v - y) + st.sum;
        st.sum = y;
        if (std::isnan(v)) {
            ++st.nans;
            return true;
        }
        if (std::isinf(v)) {
            ++(v > 0 ? st.posInfs : st.negInfs);
            return true;
        }
        if (v == 0)
            ++st.zeros;
        double fy = st.finiteSum + v;
        finiteComp += std::fabs(st.finiteSum) >= std::fabs(v) ? (st.finiteSum - fy) + v : (v - fy) + st.finiteSum;
        st.finiteSum = fy;
        ++finite;
        st.min = std::min(st.min, v);
        st.max = std::max(st.max, v);
        double delta = v - mean;
        mean += delta / static_cast<double>(finite);
        m2 += delta * (v - mean);
        return true;
    });
    if (cancelled) {
        st.error = "cancelled";
        return st;
    }
    if (progress)
        progress->fetch_add(st.count & 0xFFFFF, std::memory_order_relaxed);
    if (std::isfinite(st.sum + comp))
        st.sum += comp;
    st.finiteSum += finiteComp;
    if (finite == 0)
        st.min = st.max = std::numeric_limits<double>::quiet_NaN();
    st.mean = finite ? st.finiteSum / static_cast<double>(finite) : std::numeric_limits<double>::quiet_NaN();
    st.std = finite > 1 ? std::sqrt(m2 / static_cast<double>(finite - 1)) : std::numeric_limits<double>::quiet_NaN();
    st.ok = true;
    return st;
}

} // namespace

TensorStats computeStats(const Document &doc, const TensorInfo &t, const std::atomic<bool> *cancel,
                         std::atomic<uint64_t> *progress)
{
    TensorStats st = computeStatsUnchecked(doc, t, cancel, progress);
    std::string damage = tensorDamage(doc, t);
    if (!damage.empty()) {
        st = TensorStats();
        st.error = std::move(damage);
    }
    return st;
}

std::vector<TensorStats> computeStatsOfEntries(const Document &doc, size_t from, size_t to,
                                               const std::atomic<bool> *cancel)
{
    to = std::min(to, doc.entries.size());
    std::vector<TensorStats> out(to > from ? to - from : 0);
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < out.size();) {
            const TensorInfo &t = doc.tensors[static_cast<size_t>(doc.entries[from + i].tensor)];
            out[i] = computeStats(doc, t, cancel);
        }
    };
    const size_t hardware = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> threads;
    try {
        for (size_t k = 1; k < std::min(hardware, out.size()); ++k)
            threads.emplace_back(work);
    } catch (const std::system_error &) {
        // Fewer threads than asked for: the ones running share the work.
    }
    work();
    for (auto &t : threads)
        t.join();
    return out;
}

std::vector<uint64_t> computeHistogram(const Document &doc, const TensorInfo &t, double lo, double hi, int bins,
                                       const std::atomic<bool> *cancel)
{
    std::vector<uint64_t> counts(static_cast<size_t>(std::max(bins, 1)), 0);
    std::string err;
    const uint8_t *base = tensorBase(doc, t, &err);
    if (!base || !(hi >= lo))
        return counts;
    const double width = hi > lo ? (hi - lo) / static_cast<double>(counts.size()) : 1.0;
    uint64_t seen = 0;
    forEachElement(base, t, [&](const uint8_t *p) {
        if ((++seen & 0xFFFFF) == 0 && cancel && cancel->load())
            return false;
        double v = decodeElement(t.dtype, p);
        if (!std::isfinite(v))
            return true;
        // Clamped as a double first: a value far outside [lo, hi] does not fit an integer.
        const double pos = (v - lo) / width;
        const size_t bin = !(pos > 0) ? 0 : pos >= static_cast<double>(counts.size()) ? counts.size() - 1
                                                                                      : static_cast<size_t>(pos);
        ++counts[bin];
        return true;
    });
    if (!tensorDamage(doc, t).empty())
        std::fill(counts.begin(), counts.end(), 0);
    return counts;
}

std::vector<double> readValues(const Document &doc, const TensorInfo &t, size_t limit, std::vector<double> *imag,
                               std::string *error)
{
    std::vector<double> out;
    std::string err;
    const uint8_t *base = tensorBase(doc, t, &err);
    if (!base) {
        if (error)
            *error = err;
        return out;
    }
    forEachElement(base, t, [&](const uint8_t *p) {
        if (out.size() >= limit)
            return false;
        double im = 0;
        out.push_back(decodeElement(t.dtype, p, &im));
        if (imag)
            imag->push_back(im);
        return true;
    });
    std::string damage = tensorDamage(doc, t);
    if (!damage.empty()) {
        out.clear();
        if (imag)
            imag->clear();
        if (error)
            *error = std::move(damage);
    }
    return out;
}

} // namespace te
