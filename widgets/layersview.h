#pragma once
// Every layer's output of one run, in the order the layers finished: a plot along the
// layers (mean with a band of one standard deviation, min and max; a log option for
// magnitudes that explode), a table of shape, statistics and NaN/Inf counts per layer with
// the first layer that holds a NaN or an infinity marked, and the chosen layer's values as
// a histogram or a heatmap (the plots of the Tensor tab). A click on the plot or the table
// chooses the layer.
#include "core/runtime/runtimeapi.h"

#include <QWidget>
#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QStackedWidget;
class QTableWidget;

namespace te {

class HeatmapPlot;
class HistogramPlot;

class LayersView : public QWidget {
    Q_OBJECT
public:
    explicit LayersView(QWidget *parent = nullptr);

    // Kept, not copied: a run's layers may hold 64 MiB of values.
    void setLayers(std::shared_ptr<const std::vector<LayerOutput>> layers, const QString &note);
    // No layers, and why ("Tick Every layer and run again").
    void clear(const QString &why);
    const std::vector<LayerOutput> &layers() const { return *m_layers; }
    int firstNonFinite() const { return m_firstNonFinite; }
    void selectLayer(int index);
    int selectedLayer() const;

    QTableWidget *table() const { return m_table; }
    QCustomPlot *plot() const { return m_plot; }
    HistogramPlot *histogram() const { return m_histogram; }
    HeatmapPlot *heatmap() const { return m_heatmap; }
    QComboBox *plotKind() const { return m_plotKind; }
    QLabel *summary() const { return m_summary; }

private:
    void plotAlongLayers();
    void showLayer(int index);

    std::shared_ptr<const std::vector<LayerOutput>> m_owner;
    const std::vector<LayerOutput> *m_layers; // m_owner's, or an empty list
    int m_firstNonFinite = -1;
    QLabel *m_summary;
    QCheckBox *m_log;
    QCustomPlot *m_plot;
    QTableWidget *m_table;
    QComboBox *m_plotKind;
    QLabel *m_detail;
    QStackedWidget *m_plots;
    HistogramPlot *m_histogram;
    HeatmapPlot *m_heatmap;
};

} // namespace te
