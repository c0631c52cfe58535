#include "widgets/histogramplot.h"

#include <algorithm>

namespace te {

HistogramPlot::HistogramPlot(QWidget *parent)
    : QCustomPlot(parent)
{
    xAxis->setLabel(tr("value"));
    yAxis->setLabel(tr("count"));
    // Counts are whole numbers: ticks at integer multiples only.
    auto counts = QSharedPointer<QCPAxisTickerFixed>::create();
    counts->setTickStep(1.0);
    counts->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    yAxis->setTicker(counts);
}

void HistogramPlot::setCounts(const std::vector<uint64_t> &counts, double lo, double hi)
{
    clearPlottables();
    legend->setVisible(false);
    if (!counts.empty()) {
        auto *bars = new QCPBars(xAxis, yAxis);
        QVector<double> keys, heights;
        const double width = (hi - lo) / static_cast<double>(counts.size());
        double top = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
            keys << lo + (static_cast<double>(i) + 0.5) * width;
            heights << static_cast<double>(counts[i]);
            top = std::max(top, static_cast<double>(counts[i]));
        }
        bars->setWidth(width);
        bars->setData(keys, heights, true);
        bars->setPen(Qt::NoPen);
        bars->setBrush(palette().color(QPalette::Highlight));
        xAxis->setRange(lo - width, hi + width);
        yAxis->setRange(0, top * 1.08 + 1);
    }
    replot(QCustomPlot::rpQueuedReplot);
}

void HistogramPlot::setPair(const std::vector<uint64_t> &first, const std::vector<uint64_t> &second, double lo,
                            double hi, const QString &firstName, const QString &secondName)
{
    setCounts(first, lo, hi);
    if (plottableCount() == 0 || second.size() != first.size())
        return;
    plottable(0)->setName(firstName);
    auto *outline = new QCPGraph(xAxis, yAxis);
    outline->setName(secondName);
    outline->setLineStyle(QCPGraph::lsStepCenter);
    QColor color = palette().color(QPalette::Text);
    outline->setPen(QPen(color, 1.6));
    QVector<double> keys, heights;
    const double width = (hi - lo) / static_cast<double>(second.size());
    double top = yAxis->range().upper;
    for (size_t i = 0; i < second.size(); ++i) {
        keys << lo + (static_cast<double>(i) + 0.5) * width;
        heights << static_cast<double>(second[i]);
        top = std::max(top, static_cast<double>(second[i]) * 1.08 + 1);
    }
    outline->setData(keys, heights, true);
    yAxis->setRange(0, top);
    legend->setVisible(true);
    legend->setBrush(palette().color(QPalette::Base));
    legend->setTextColor(palette().color(QPalette::Text));
    legend->setBorderPen(QPen(palette().color(QPalette::Mid)));
    replot(QCustomPlot::rpQueuedReplot);
}

void HistogramPlot::clear()
{
    clearPlottables();
    legend->setVisible(false);
    // No axes left over from the tensor before.
    xAxis->setRange(0, 1);
    yAxis->setRange(0, 1);
    replot(QCustomPlot::rpQueuedReplot);
}

} // namespace te
