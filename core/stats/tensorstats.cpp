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
typedef double Lanes __attribute__((vector_size(kLanes * sizeof(double))));
typedef int64_t LaneCounts __attribute__((vector_size(kLanes * sizeof(int64_t))));

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
        st.std =
            finite > 1 ? std::sqrt(m2 / static_cast<double>(finite - 1)) : std::numeric_limits<double>::quiet_NaN();
        st.ok = true;
    }
};

// A block with NaN or infinities: counted element by element, its finite values copied to
// `values` (for a second pass over their deviations) and summed; returns how many.
template <typename Load>
inline __attribute__((always_inline)) int64_t specialBlock(const uint8_t *q, int64_t len, int64_t item, Load load,
                                                           double *values, Partial &out, double &lo, double &hi,
                                                           double &finiteSum)
{
    int64_t finite = 0;
    finiteSum = 0;
    for (int64_t i = 0; i < len; ++i) {
        const double v = load(q + i * item);
        if (!std::isfinite(v)) {
            if (std::isnan(v))
                ++out.nans;
            else
                ++(v > 0 ? out.posInfs : out.negInfs);
            continue;
        }
        values[finite++] = v;
        finiteSum += v;
        out.zeros += v == 0;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    return finite;
}

template <typename Load>
inline __attribute__((always_inline)) bool linearStatsBody(const uint8_t *p, int64_t n, int64_t item, Load load,
                                                           Partial &out, const std::atomic<bool> *cancel,
                                                           std::atomic<uint64_t> *progress)
{
    constexpr int64_t kBlock = 4096;
    double values[kBlock];
    double sum = 0, comp = 0, finiteSum = 0, finiteComp = 0, mean = 0, m2 = 0;
    uint64_t finite = 0;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    auto total = [](const double *lanes) { return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]); };
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
        // keeps the squares accurate). v - v is NaN only for NaN and infinities. The lanes
        // are vectors of the compiler's vector extension, lane k taking elements k, k + 4...
        const double shift = load(q);
        Lanes accV = {}, checkV = {}, devV = {}, dev2V = {};
        Lanes mnV = {shift, shift, shift, shift}, mxV = mnV;
        const Lanes shiftV = mnV;
        LaneCounts zerosV = {};
        const int64_t step = Load::kItem ? Load::kItem : item; // a constant for plain types
        for (int64_t i = 0; i < whole; i += kLanes) {
            const uint8_t *e = q + i * step;
            const Lanes v = {load(e), load(e + step), load(e + 2 * step), load(e + 3 * step)};
            accV += v;
            checkV += v - v;
            mnV = v < mnV ? v : mnV;
            mxV = v > mxV ? v : mxV;
            zerosV -= v == 0; // a true comparison is -1 in every bit
            const Lanes d = v - shiftV;
            devV += d;
            dev2V += d * d;
        }
        double acc[kLanes], check[kLanes], dev[kLanes], dev2[kLanes], mn[kLanes], mx[kLanes];
        int64_t zeros[kLanes];
        for (int64_t k = 0; k < kLanes; ++k) {
            acc[k] = accV[k];
            check[k] = checkV[k];
            dev[k] = devV[k];
            dev2[k] = dev2V[k];
            mn[k] = mnV[k];
            mx[k] = mxV[k];
            zeros[k] = zerosV[k];
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
            blockFinite = specialBlock(q, len, item, load, values, out, lo, hi, blockFiniteSum);
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

// The kernel as the build compiles it, and on x86-64 also for AVX2 (chosen at run time): the
// four lanes of each running quantity fill one register instead of two. The same additions
// in the same order, so the results are the same to the last bit.
template <typename Load>
bool linearStatsPortable(const uint8_t *p, int64_t n, int64_t item, Load load, Partial &out,
                         const std::atomic<bool> *cancel, std::atomic<uint64_t> *progress)
{
    return linearStatsBody(p, n, item, load, out, cancel, progress);
}

#if defined(__x86_64__) && defined(__GNUC__)
template <typename Load>
__attribute__((target("avx2"))) bool linearStatsAvx2(const uint8_t *p, int64_t n, int64_t item, Load load, Partial &out,
                                                     const std::atomic<bool> *cancel, std::atomic<uint64_t> *progress)
{
    return linearStatsBody(p, n, item, load, out, cancel, progress);
}

bool haveAvx2()
{
    static const bool have = __builtin_cpu_supports("avx2");
    return have;
}
#endif

template <typename Load>
bool linearStats(const uint8_t *p, int64_t n, int64_t item, Load load, Partial &out, const std::atomic<bool> *cancel,
                 std::atomic<uint64_t> *progress)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (haveAvx2())
        return linearStatsAvx2(p, n, item, load, out, cancel, progress);
#endif
    return linearStatsPortable(p, n, item, load, out, cancel, progress);
}

// A type per dtype (not a function pointer), so the load is inlined into the kernel.
template <typename T> struct LoadAs {
    static constexpr int64_t kItem = sizeof(T);
    double operator()(const uint8_t *p) const
    {
        T v;
        std::memcpy(&v, p, sizeof v);
        return static_cast<double>(v);
    }
};

// Any other real dtype, decoded element by element.
struct Decode {
    static constexpr int64_t kItem = 0; // known only at run time
    DType type;
    double operator()(const uint8_t *p) const { return decodeElement(type, p); }
};

// A contiguous tensor of a real dtype: the fast path, in parts that threads take whole
// blocks of. The parts depend only on the length (and the machine's cores), and partials
// are merged in order, so the result does not depend on the scheduling.
struct Run {
    const uint8_t *p = nullptr;
    int64_t n = 0;
    int64_t item = 0;
    DType dtype = DType::Unknown;
    int64_t parts = 1;
    int64_t per = 0; // elements per part, whole blocks

    int64_t from(int64_t k) const { return std::min(n, k * per); }
    int64_t to(int64_t k) const { return k + 1 == parts ? n : std::min(n, (k + 1) * per); }
};

// False when the tensor is not a contiguous run of a real dtype (or has no elements).
bool contiguousRun(const TensorInfo &t, const uint8_t *base, Run *run)
{
    if (!t.isContiguous() || dtypeIsComplex(t.dtype) || t.numel() <= 0)
        return false;
    constexpr int64_t kMinPerThread = int64_t(1) << 18;
    const int64_t hardware = std::max<int64_t>(1, std::thread::hardware_concurrency());
    run->item = dtypeItemSize(t.dtype);
    run->p = base + t.storageOffset * run->item;
    run->n = t.numel();
    run->dtype = t.dtype;
    run->parts = std::max<int64_t>(1, std::min<int64_t>(hardware, run->n / kMinPerThread));
    run->per = (run->n / run->parts + 4095) / 4096 * 4096;
    return true;
}

bool runPart(const Run &r, int64_t k, Partial &out, const std::atomic<bool> *cancel, std::atomic<uint64_t> *progress)
{
    const uint8_t *p = r.p + r.from(k) * r.item;
    const int64_t n = r.to(k) - r.from(k);
    switch (r.dtype) {
    case DType::Float32: return linearStats(p, n, r.item, LoadAs<float>{}, out, cancel, progress);
    case DType::Float64: return linearStats(p, n, r.item, LoadAs<double>{}, out, cancel, progress);
    case DType::Int64: return linearStats(p, n, r.item, LoadAs<int64_t>{}, out, cancel, progress);
    case DType::Int32: return linearStats(p, n, r.item, LoadAs<int32_t>{}, out, cancel, progress);
    default: return linearStats(p, n, r.item, Decode{r.dtype}, out, cancel, progress);
    }
}

// The parts' partials merged in order; false when a part was cancelled.
bool finishRun(const Run &r, const std::vector<Partial> &partials, const std::vector<char> &done, TensorStats &st)
{
    Partial all;
    for (int64_t k = 0; k < r.parts; ++k) {
        if (!done[static_cast<size_t>(k)])
            return false;
        all.merge(partials[static_cast<size_t>(k)]);
    }
    all.finish(st, static_cast<uint64_t>(r.n));
    return true;
}

// Runs work(0..count) on this thread and up to `threads` - 1 more, each taking the next.
template <typename Work> void onThreads(size_t count, size_t threads, Work work)
{
    std::atomic<size_t> next{0};
    auto loop = [&] {
        for (size_t i; (i = next.fetch_add(1)) < count;)
            work(i);
    };
    std::vector<std::thread> started;
    try {
        for (size_t k = 1; k < std::min(threads, count); ++k)
            started.emplace_back(loop);
    } catch (const std::system_error &) {
        // Fewer threads than asked for: the ones running share the work.
    }
    loop();
    for (auto &t : started)
        t.join();
}

size_t hardwareThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

// A long run split over threads.
bool parallelStats(const Run &r, TensorStats &st, const std::atomic<bool> *cancel, std::atomic<uint64_t> *progress)
{
    std::vector<Partial> partials(static_cast<size_t>(r.parts));
    std::vector<char> done(static_cast<size_t>(r.parts), 0);
    onThreads(static_cast<size_t>(r.parts), static_cast<size_t>(r.parts),
              [&](size_t k) { done[k] = runPart(r, static_cast<int64_t>(k), partials[k], cancel, progress); });
    return finishRun(r, partials, done, st);
}

} // namespace

namespace {

TensorStats computeStatsUnchecked(const Document &doc, const TensorInfo &t, const std::atomic<bool> *cancel,
                                  std::atomic<uint64_t> *progress)
{
    TensorStats st;
    const uint8_t *base = tensorBase(doc, t, &st.error);
    if (!base)
        return st;
    Run run;
    if (contiguousRun(t, base, &run)) {
        if (!parallelStats(run, st, cancel, progress))
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
    // One list of tasks for the cores: every part of every contiguous tensor (the same
    // parts computeStats takes, so the same results), and each other tensor whole. No
    // thread starts another.
    to = std::min(to, doc.entries.size());
    std::vector<TensorStats> out(to > from ? to - from : 0);
    struct Task {
        size_t entry;
        int64_t part; // -1: the whole tensor by computeStats
    };
    std::vector<Task> tasks;
    std::vector<Run> runs(out.size());
    std::vector<size_t> firstPartial(out.size(), 0);
    size_t partialCount = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        const TensorInfo &t = doc.tensors[static_cast<size_t>(doc.entries[from + i].tensor)];
        std::string error;
        const uint8_t *base = tensorBase(doc, t, &error);
        if (base && contiguousRun(t, base, &runs[i])) {
            firstPartial[i] = partialCount;
            partialCount += static_cast<size_t>(runs[i].parts);
            for (int64_t k = 0; k < runs[i].parts; ++k)
                tasks.push_back({i, k});
        } else {
            runs[i].parts = 0;
            tasks.push_back({i, -1});
        }
    }
    std::vector<Partial> partials(partialCount);
    std::vector<char> done(partialCount, 0);
    onThreads(tasks.size(), hardwareThreads(), [&](size_t k) {
        const Task &task = tasks[k];
        if (task.part < 0) {
            out[task.entry] =
                computeStats(doc, doc.tensors[static_cast<size_t>(doc.entries[from + task.entry].tensor)], cancel);
            return;
        }
        const size_t at = firstPartial[task.entry] + static_cast<size_t>(task.part);
        done[at] = runPart(runs[task.entry], task.part, partials[at], cancel, nullptr);
    });
    for (size_t i = 0; i < out.size(); ++i) {
        if (runs[i].parts == 0)
            continue;
        const Run &r = runs[i];
        const auto first = static_cast<std::ptrdiff_t>(firstPartial[i]);
        const std::vector<Partial> mine(partials.begin() + first, partials.begin() + first + r.parts);
        const std::vector<char> finished(done.begin() + first, done.begin() + first + r.parts);
        TensorStats st;
        if (!finishRun(r, mine, finished, st))
            st.error = "cancelled";
        // As computeStats: a file cut short while it was read gives no statistics.
        std::string damage = tensorDamage(doc, doc.tensors[static_cast<size_t>(doc.entries[from + i].tensor)]);
        if (!damage.empty()) {
            st = TensorStats();
            st.error = std::move(damage);
        }
        out[i] = std::move(st);
    }
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
        const size_t bin = !(pos > 0)                                  ? 0
                           : pos >= static_cast<double>(counts.size()) ? counts.size() - 1
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
