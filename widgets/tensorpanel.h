#pragma once
// The Tensor tab: what one tensor is (shape, strides, dtype, storage and who shares it,
// saved device), its statistics, a histogram of its values or the tensor as a heatmap,
// and a table of its values: a tensor of three or more dimensions shows one 2-D slice
// (table and heatmap): two dimensions chosen as rows and columns (the last two at first;
// for a conv weight, out x in is one choice), an index for each of the others. Hovering
// the heatmap says the element's whole index. Statistics and heatmaps
// are computed on worker threads; a newer selection wins (JobTracker).
#include "core/document/document.h"

#include <QWidget>
#include <atomic>
#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QStackedWidget;
class QSpinBox;
class QTimer;
class QTableWidget;
class QFormLayout;

namespace te {

class HeatmapPlot;
class HistogramPlot;
class JobTracker;

struct TensorStats;
struct SliceValues;

class TensorPanel : public QWidget {
    Q_OBJECT
public:
    explicit TensorPanel(QWidget *parent = nullptr);
    ~TensorPanel() override;

    void setDocument(std::shared_ptr<const Document> doc);
    // Shows the tensor behind `key`; tensor < 0 clears the panel.
    void showTensor(const QString &key, int tensor);
    bool isComputing() const;
    // The indices of the dimensions that are not the slice's rows and columns, in order
    // (at first the leading ones; empty for tensors of fewer than three dimensions).
    std::vector<int64_t> sliceIndices() const;
    // The dimensions shown as the slice's rows and columns (-1 below three dimensions);
    // choosing one that is the other's swaps them.
    void setSliceAxes(int rowDim, int columnDim);
    int sliceRowDim() const { return m_rowDim; }
    int sliceColumnDim() const { return m_columnDim; }
    // Histogram (false) or heatmap (true) above the values.
    void showHeatmap(bool on);
    HeatmapPlot *heatmap() const { return m_heatmap; }

signals:
    void statsReady();   // for tests and screenshots
    void heatmapReady(); // likewise

private:
    struct Computed;
    QString describe(const QString &key, const TensorInfo &t) const;
    void startStats(int tensor);
    void showComputed(const Computed &c);
    void showValues(const SliceValues &v);
    void fillValues(const SliceValues &v);
    static QString valueText(const SliceValues &v, size_t i);
    void setUpSlice(const TensorInfo &t);
    std::vector<size_t> viewOrder() const;                      // the other dimensions, then rows, then columns
    QString elementIndex(const std::vector<int64_t> &at) const; // "[2, 0, 1]", in t's order
    void showSlice();
    void startHeatmap();
    void clearStats(const QString &message);
    void showProgress();

    std::shared_ptr<const Document> m_doc;
    int m_tensor = -1; // shown
    JobTracker *m_jobs;
    // Elements read so far by the running computation, shown on long ones.
    std::shared_ptr<std::atomic<uint64_t>> m_progress;
    uint64_t m_progressTotal = 0;
    QTimer *m_progressTimer;
    QLabel *m_title;
    QLabel *m_info;
    QLabel *m_stats;
    HistogramPlot *m_histogram;
    JobTracker *m_heatmapJobs;
    HeatmapPlot *m_heatmap;
    QComboBox *m_plotKind;  // Histogram, Heatmap
    QComboBox *m_reduction; // how a heatmap cell sums up its block
    QComboBox *m_layout;    // a tensor of 3+ dimensions: the slice, or all of it
    QCheckBox *m_log;
    QStackedWidget *m_plots;
    QWidget *m_slice;                       // "values of [i, j, :, :]" with a spin box per index
    std::vector<QSpinBox *> m_sliceIndices; // children of m_slice
    int m_rowDim = -1, m_columnDim = -1;    // of the slice, in the tensor's dimensions
    QTableWidget *m_values;
};

} // namespace te
