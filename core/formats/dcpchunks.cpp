#include "core/formats/dcpchunks.h"

#include "core/io/readerror.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace te {
namespace {

std::string dims(const std::vector<int64_t> &v)
{
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

std::string describe(const DcpChunk &c) { return "the chunk at " + dims(c.offsets) + " of size " + dims(c.sizes); }

bool empty(const DcpChunk &c)
{
    return std::any_of(c.sizes.begin(), c.sizes.end(), [](int64_t s) { return s == 0; });
}

bool overlap(const DcpChunk &a, const DcpChunk &b)
{
    for (size_t d = 0; d < a.offsets.size(); ++d)
        if (a.offsets[d] >= b.offsets[d] + b.sizes[d] || b.offsets[d] >= a.offsets[d] + a.sizes[d])
            return false;
    return true;
}

// Copies, for one chunk, the part of the global tensor's bytes [begin, end) it holds.
class ChunkCopier {
public:
    ChunkCopier(const DcpChunk &c, const std::vector<int64_t> &shape, int64_t item)
        : m_c(c)
        , m_item(item)
        , m_global(contiguousStrides(shape))
    {
        // The trailing dimensions the chunk spans whole are one run with the one before.
        const size_t n = shape.size();
        m_split = n == 0 ? 0 : n - 1;
        while (m_split > 0 && c.sizes[m_split] == shape[m_split])
            --m_split;
        m_run = n == 0 ? 1 : c.sizes[m_split] * (m_split + 1 < n ? m_global[m_split] : 1);
        const std::vector<int64_t> own = contiguousStrides(c.sizes);
        m_contiguous = true;
        for (size_t d = 0; d < n; ++d)
            if (c.sizes[d] > 1 && c.strides[d] != own[d])
                m_contiguous = false;
    }

    void copy(uint64_t begin, uint64_t end, uint8_t *out) const
    {
        if (m_contiguous)
            copyRuns(begin, end, out);
        else
            copyElements(begin, end, out);
    }

private:
    int64_t globalIndex(const std::vector<int64_t> &index) const
    {
        int64_t g = 0;
        for (size_t d = 0; d < index.size(); ++d)
            g += (m_c.offsets[d] + index[d]) * m_global[d];
        return g;
    }

    void copyRuns(uint64_t begin, uint64_t end, uint8_t *out) const
    {
        // Outer indices over the dimensions before the run's, in row-major order, which
        // is also the order of the runs' places in the global tensor.
        std::vector<int64_t> index(m_c.sizes.size(), 0);
        int64_t source = 0; // the run's first element in the chunk
        const uint64_t runBytes = static_cast<uint64_t>(m_run * m_item);
        while (true) {
            const uint64_t at = static_cast<uint64_t>(globalIndex(index) * m_item);
            if (at >= end)
                return;
            if (at + runBytes > begin) {
                const uint64_t from = std::max(at, begin), to = std::min(at + runBytes, end);
                const uint64_t src =
                    m_c.storageOffset + static_cast<uint64_t>((m_c.elementOffset + source) * m_item) + (from - at);
                m_c.file->copyOut(src, to - from, out + (from - begin));
            }
            source += m_run;
            size_t d = m_split;
            while (d > 0) {
                --d;
                if (++index[d] < m_c.sizes[d])
                    break;
                index[d] = 0;
                if (d == 0)
                    return;
            }
            if (m_split == 0)
                return;
        }
    }

    void copyElements(uint64_t begin, uint64_t end, uint8_t *out) const
    {
        const int64_t numel =
            std::accumulate(m_c.sizes.begin(), m_c.sizes.end(), int64_t(1), std::multiplies<int64_t>());
        std::vector<int64_t> index(m_c.sizes.size(), 0);
        for (int64_t n = 0; n < numel; ++n) {
            const uint64_t at = static_cast<uint64_t>(globalIndex(index) * m_item);
            if (at >= begin && at < end) {
                int64_t source = m_c.elementOffset;
                for (size_t d = 0; d < index.size(); ++d)
                    source += index[d] * m_c.strides[d];
                m_c.file->copyOut(m_c.storageOffset + static_cast<uint64_t>(source * m_item),
                                  static_cast<uint64_t>(m_item), out + (at - begin));
            }
            for (size_t d = index.size(); d-- > 0;) {
                if (++index[d] < m_c.sizes[d])
                    break;
                index[d] = 0;
            }
        }
    }

    const DcpChunk &m_c;
    int64_t m_item;
    std::vector<int64_t> m_global;
    size_t m_split = 0;
    int64_t m_run = 1;
    bool m_contiguous = true;
};

class AssemblyFetcher : public ByteFetcher {
public:
    AssemblyFetcher(std::vector<int64_t> shape, DType dtype, std::vector<DcpChunk> chunks)
        : m_shape(std::move(shape))
        , m_item(dtypeItemSize(dtype))
        , m_chunks(std::move(chunks))
    { }

    void fetch(uint64_t offset, uint64_t n, uint8_t *out) override
    {
        std::memset(out, 0, static_cast<size_t>(n));
        for (const DcpChunk &c : m_chunks) {
            if (empty(c))
                continue;
            try {
                ChunkCopier(c, m_shape, m_item).copy(offset, offset + n, out);
            } catch (const ReadError &e) {
                throw ReadError(describe(c) + " (" + c.where + "): " + e.message(), e.member(), e.offset());
            }
        }
    }

private:
    std::vector<int64_t> m_shape;
    int64_t m_item;
    std::vector<DcpChunk> m_chunks;
};

} // namespace

std::string checkDcpCoverage(const std::vector<int64_t> &shape, const std::vector<DcpChunk> &chunks)
{
    int64_t numel = 1;
    for (int64_t s : shape)
        if (s < 0 || __builtin_mul_overflow(numel, s, &numel))
            return "the shape " + dims(shape) + " is invalid";
    int64_t covered = 0;
    for (const DcpChunk &c : chunks) {
        if (c.offsets.size() != shape.size() || c.sizes.size() != shape.size())
            return describe(c) + " has " + std::to_string(c.sizes.size()) + " dimensions, the tensor " +
                   std::to_string(shape.size());
        int64_t volume = 1;
        for (size_t d = 0; d < shape.size(); ++d) {
            int64_t last = 0;
            if (c.offsets[d] < 0 || c.sizes[d] < 0 || __builtin_add_overflow(c.offsets[d], c.sizes[d], &last) ||
                last > shape[d])
                return describe(c) + " lies outside the tensor of shape " + dims(shape);
            volume *= c.sizes[d];
        }
        covered += volume;
    }
    // Overlaps: sorted by the first offset, a chunk can only meet those starting before
    // its end in that dimension.
    std::vector<size_t> order(chunks.size());
    std::iota(order.begin(), order.end(), size_t(0));
    const bool scalar = shape.empty();
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return scalar ? a < b : chunks[a].offsets[0] < chunks[b].offsets[0]; });
    for (size_t i = 0; i < order.size(); ++i) {
        const DcpChunk &a = chunks[order[i]];
        if (empty(a))
            continue;
        for (size_t j = i + 1; j < order.size(); ++j) {
            const DcpChunk &b = chunks[order[j]];
            if (!scalar && b.offsets[0] >= a.offsets[0] + a.sizes[0])
                break;
            if (!empty(b) && overlap(a, b))
                return describe(a) + " (" + a.where + ") overlaps " + describe(b) + " (" + b.where + ")";
        }
    }
    if (covered < numel)
        return "the chunks leave " + std::to_string(numel - covered) + " of its " + std::to_string(numel) +
               " elements uncovered (a hole: a rank's data is missing)";
    return {};
}

std::shared_ptr<const MappedFile> assembleDcpTensor(std::string name, const std::vector<int64_t> &shape, DType dtype,
                                                    std::vector<DcpChunk> chunks)
{
    int64_t numel = 1;
    for (int64_t s : shape)
        numel *= s;
    const uint64_t bytes = static_cast<uint64_t>(numel) * static_cast<uint64_t>(dtypeItemSize(dtype));
    return MappedFile::openRemote(std::move(name), bytes,
                                  std::make_unique<AssemblyFetcher>(shape, dtype, std::move(chunks)));
}

} // namespace te
