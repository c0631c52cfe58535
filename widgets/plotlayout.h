#pragma once
// The plot-over-values arrangement both the Tensor and the Run tabs use: the plot takes its
// colours from the palette (so dark schemes read), the table is read-only and compact.
class QCustomPlot;
class QSplitter;
class QTableWidget;
class QWidget;

namespace te {

// `overValues`, when given, sits right above the table, in the table's pane.
QSplitter *plotAboveValues(QWidget *parent, QCustomPlot *plot, QTableWidget *values, QWidget *overValues = nullptr);

} // namespace te
