#include "widgets/heatmapplot.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace te {

HeatmapPlot::HeatmapPlot(QWidget *parent)
    : QCustomPlot(parent)
    , m_map(new QCPColorMap(xAxis, yAxis))
    , m_scale(new QCPColorScale(this))
{
    plotLayout()->addElement(0, 1, m_scale);
    m_scale->setType(QCPAxis::atRight);
    m_map->setColorScale(m_scale);
    m_map->setInterpolate(false);
    auto *margins = new QCPMarginGroup(this);
    axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    yAxis->setRangeReversed(true); // row 0 on top
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    setMouseTracking(true);
    clear();
}

void HeatmapPlot::setGrid(TensorGrid grid, const QString &rowLabel, const QString &columnLabel)
{
    m_grid = std::move(grid);
    yAxis->setLabel(rowLabel);
    xAxis->setLabel(columnLabel);
    redraw();
}

void HeatmapPlot::clear()
{
    m_grid = {};
    redraw();
}

void HeatmapPlot::setLogScale(bool on)
{
    m_log = on;
    redraw();
}

void HeatmapPlot::redraw()
{
    const TensorGrid &g = m_grid;
    if (!g.ok || g.cells.empty()) {
        m_map->data()->clear();
        m_map->setVisible(false);
        m_scale->setVisible(false);
        xAxis->setRange(0, 1);
        yAxis->setRange(0, 1);
        replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    m_map->setVisible(true);
    m_scale->setVisible(true);
    // Cells sit at the centre of the elements they cover, in element coordinates.
    const double bc = static_cast<double>(g.blockColumns), br = static_cast<double>(g.blockRows);
    // QCustomPlot sizes a cell by the distance to its neighbour, so a single row or column
    // (a bias, a 1-D difference) would have no height or width: it is drawn as two equal
    // half cells instead.
    const int dataColumns = std::max(2, g.cellColumns), dataRows = std::max(2, g.cellRows);
    auto span = [](int cells, double block) {
        const double centre = (block - 1) / 2;
        return cells > 1 ? QCPRange(centre, (cells - 1) * block + centre)
                         : QCPRange(centre - block / 4, centre + block / 4);
    };
    auto *data = new QCPColorMapData(dataColumns, dataRows, span(g.cellColumns, bc), span(g.cellRows, br));
    double lowest = 0, highest = 0; // of what is coloured
    bool any = false;
    for (int r = 0; r < g.cellRows; ++r) {
        for (int c = 0; c < g.cellColumns; ++c) {
            double v = g.cells[static_cast<size_t>(r) * static_cast<size_t>(g.cellColumns) + static_cast<size_t>(c)];
            if (m_log)
                v = std::fabs(v) > 0 ? std::fabs(v) : std::nan(""); // zero has no logarithm
            for (int dr = r; dr < (g.cellRows > 1 ? r + 1 : 2); ++dr)
                for (int dc = c; dc < (g.cellColumns > 1 ? c + 1 : 2); ++dc)
                    data->setCell(dc, dr, v);
            if (std::isfinite(v)) {
                lowest = any ? std::min(lowest, v) : v;
                highest = any ? std::max(highest, v) : v;
                any = true;
            }
        }
    }
    m_map->setData(data);
    QCPColorGradient gradient;
    const QColor middle = palette().color(QPalette::Base);
    if (!m_log && ((lowest < 0 && highest > 0) || (m_differences && (lowest < 0 || highest > 0)))) {
        // Signed: zero in the middle, in the background colour; the same reach both ways.
        const double reach = std::max(-lowest, highest);
        gradient.setColorStops({{0.0, QColor(33, 102, 172)}, {0.5, middle}, {1.0, QColor(178, 24, 43)}});
        m_map->setDataRange(QCPRange(-reach, reach));
    } else {
        gradient = QCPColorGradient(QCPColorGradient::gpThermal);
        m_map->setDataRange(QCPRange(lowest, highest > lowest ? highest : lowest + 1));
    }
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    m_map->setGradient(gradient);
    m_scale->setDataScaleType(m_log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (m_log)
        m_scale->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else
        m_scale->axis()->setTicker(QSharedPointer<QCPAxisTicker>::create());
    m_scale->axis()->setLabel(m_log                              ? tr("|value|")
                              : g.blockRows * g.blockColumns > 1 ? tr("value (per block)")
                                                                 : tr("value"));
    xAxis->setRange(-0.5, static_cast<double>(g.columns) - 0.5);
    yAxis->setRange(-0.5, static_cast<double>(g.rows) - 0.5);
    replot(QCustomPlot::rpQueuedReplot);
}

QString HeatmapPlot::describeAt(const QPointF &pixel) const
{
    const TensorGrid &g = m_grid;
    if (!g.ok || g.cells.empty() || !axisRect()->rect().contains(pixel.toPoint()))
        return {};
    const double x = xAxis->pixelToCoord(pixel.x()), y = yAxis->pixelToCoord(pixel.y());
    const auto column = static_cast<int64_t>(std::floor(x + 0.5)), row = static_cast<int64_t>(std::floor(y + 0.5));
    if (column < 0 || row < 0 || column >= g.columns || row >= g.rows)
        return {};
    const size_t cell = static_cast<size_t>(row / g.blockRows) * static_cast<size_t>(g.cellColumns) +
                        static_cast<size_t>(column / g.blockColumns);
    const double v = g.cells[cell];
    const QString value = std::isnan(v) ? tr("no finite value") : QString::number(v, 'g', 6);
    if (g.blockRows * g.blockColumns == 1)
        return m_indexOf ? tr("%1: %2").arg(m_indexOf(row, column), value)
                         : tr("row %1, column %2: %3").arg(row).arg(column).arg(value);
    const int64_t r0 = row / g.blockRows * g.blockRows, c0 = column / g.blockColumns * g.blockColumns;
    const int64_t r1 = std::min(r0 + g.blockRows, g.rows) - 1, c1 = std::min(c0 + g.blockColumns, g.columns) - 1;
    if (m_indexOf)
        return tr("%1 to %2: %3 %4")
            .arg(m_indexOf(r0, c0), m_indexOf(r1, c1), value,
                 tr("(one cell of %1 × %2 elements)").arg(g.blockRows).arg(g.blockColumns));
    return tr("rows %1–%2, columns %3–%4: %5 %6")
        .arg(r0)
        .arg(r1)
        .arg(c0)
        .arg(c1)
        .arg(value, tr("(one cell of %1 × %2 elements)").arg(g.blockRows).arg(g.blockColumns));
}

void HeatmapPlot::mouseMoveEvent(QMouseEvent *event)
{
    QCustomPlot::mouseMoveEvent(event);
    const QString text = describeAt(event->position());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

} // namespace te
