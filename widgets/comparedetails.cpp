#include "widgets/comparedetails.h"

#include <QObject>
#include <algorithm>
#include <cmath>

namespace te {
namespace {

constexpr int kBins = 64;
constexpr int kGridCells = 256;

QString text(const std::string &s) { return QString::fromStdString(s); }

const TensorInfo *tensorAt(const Document &doc, int tensor)
{
    return tensor >= 0 && static_cast<size_t>(tensor) < doc.tensors.size() ? &doc.tensors[static_cast<size_t>(tensor)]
                                                                           : nullptr;
}

} // namespace

// Statistics, histograms over one range, and the block means of A minus those of B
// (equal blocks: the mean of the differences).
DetailResult compareDetails(const Document &a, const Document &b, int ta, int tb, const QString &key,
                            const std::atomic<bool> *cancel)
{
    DetailResult r;
    r.key = key;
    const TensorInfo *x = tensorAt(a, ta), *y = tensorAt(b, tb);
    if (x)
        r.a = computeStats(a, *x, cancel), r.haveA = r.a.ok;
    if (y)
        r.b = computeStats(b, *y, cancel), r.haveB = r.b.ok;
    bool any = false;
    for (const TensorStats *s : {r.haveA ? &r.a : nullptr, r.haveB ? &r.b : nullptr}) {
        if (!s || s->count == s->nans + s->posInfs + s->negInfs)
            continue;
        r.lo = any ? std::min(r.lo, s->min) : s->min;
        r.hi = any ? std::max(r.hi, s->max) : s->max;
        any = true;
    }
    if (!any || r.lo == r.hi)
        r.lo -= 0.5, r.hi += 0.5;
    if (r.haveA)
        r.histA = computeHistogram(a, *x, r.lo, r.hi, kBins, cancel);
    if (r.haveB)
        r.histB = computeHistogram(b, *y, r.lo, r.hi, kBins, cancel);
    if (!x || !y) {
        r.gridNote = QObject::tr("Only one file has this key: no difference to show.");
        return r;
    }
    if (x->shape != y->shape) {
        r.gridNote = QObject::tr("The shapes differ: no element-wise difference.");
        return r;
    }
    TensorGrid ga = reduceToGrid(a, *x, kGridCells, kGridCells, GridReduction::Mean, cancel);
    TensorGrid gb = reduceToGrid(b, *y, kGridCells, kGridCells, GridReduction::Mean, cancel);
    if (!ga.ok || !gb.ok || ga.cells.size() != gb.cells.size()) {
        r.gridNote = text(!ga.ok ? ga.error : gb.error);
        return r;
    }
    r.difference = std::move(ga);
    bool first = true;
    for (size_t i = 0; i < gb.cells.size(); ++i) {
        double &c = r.difference.cells[i];
        c -= gb.cells[i];
        if (std::isfinite(c)) {
            r.difference.min = first ? c : std::min(r.difference.min, c);
            r.difference.max = first ? c : std::max(r.difference.max, c);
            first = false;
        }
    }
    if (first)
        r.difference.min = r.difference.max = 0;
    return r;
}

} // namespace te
