#pragma once
// A histogram of a tensor's values: equal bins over [lo, hi] drawn as bars in the
// palette's highlight colour, the value axis padded by a bin on each side.
#include <qcustomplot.h>

#include <cstdint>
#include <vector>

namespace te {

class HistogramPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit HistogramPlot(QWidget *parent = nullptr);
    // counts[i] is the number of values in bin i of `counts.size()` equal bins over [lo, hi].
    void setCounts(const std::vector<uint64_t> &counts, double lo, double hi);
    // Two histograms over the same bins: the first as bars, the second as an outline over
    // them, with a legend naming both.
    void setPair(const std::vector<uint64_t> &first, const std::vector<uint64_t> &second, double lo, double hi,
                 const QString &firstName, const QString &secondName);
    void clear();
};

} // namespace te
