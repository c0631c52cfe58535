#pragma once
// The plot-over-values arrangement both the Tensor and the Run tabs use: the plot takes its
// colours from the palette (so dark schemes read), the table is read-only and compact.
class QCustomPlot;
class QSplitter;
class QTableWidget;
class QWidget;

namespace te {

// Colours from the parent's palette on the plot's axes and background.
void stylePlot(const QWidget *parent, QCustomPlot *plot);
// `overValues`, when given, sits right above the table, in the table's pane; `plotArea`,
// when given, takes the plot's pane instead of the plot (it holds the plot).
QSplitter *plotAboveValues(QWidget *parent, QCustomPlot *plot, QTableWidget *values, QWidget *overValues = nullptr,
                           QWidget *plotArea = nullptr);

} // namespace te
