#pragma once
// The plot-over-values arrangement both the Tensor and the Run tabs use: the plot takes its
// colours from the palette (so dark schemes read), the table is read-only and compact.
class QCustomPlot;
class QSplitter;
class QTableWidget;
class QWidget;

namespace te {

QSplitter *plotAboveValues(QWidget *parent, QCustomPlot *plot, QTableWidget *values);

} // namespace te
