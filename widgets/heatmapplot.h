#pragma once
// A tensor as a picture: the cells of a TensorGrid as a colour map, row 0 at the top as in
// a printed matrix, with a colour scale beside it. Signed data gets a symmetric scale
// around zero (blue below, red above); the log option colours the magnitude on a log
// scale. Drag to pan, wheel to zoom; hovering a cell says its indices and value.
#include "core/stats/tensorgrid.h"

#include <qcustomplot.h>

#include <functional>

namespace te {

class HeatmapPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit HeatmapPlot(QWidget *parent = nullptr);
    void setGrid(TensorGrid grid, const QString &rowLabel, const QString &columnLabel);
    void clear();
    void setLogScale(bool on);
    bool logScale() const { return m_log; }
    // Differences: zero is always the middle of the scale, even when all are one sign.
    void setDifferences(bool on) { m_differences = on; }
    const TensorGrid &grid() const { return m_grid; }
    // What the cell under a point of the widget holds ("row 3, column 7: 0.25"); empty
    // outside the picture.
    QString describeAt(const QPointF &pixel) const;
    QCPColorScale *colorScale() const { return m_scale; }
    // Names an element of the tensor by its row and column in the grid ("[3, 0, 1, 2]"), so
    // that hovering says the element's whole index; without one, rows and columns are said.
    void setIndexNamer(std::function<QString(int64_t row, int64_t column)> namer) { m_indexOf = std::move(namer); }

protected:
    void mouseMoveEvent(QMouseEvent *event) override;

private:
    void redraw();

    TensorGrid m_grid;
    std::function<QString(int64_t, int64_t)> m_indexOf;
    bool m_log = false;
    bool m_differences = false;
    QCPColorMap *m_map;
    QCPColorScale *m_scale;
};

} // namespace te
