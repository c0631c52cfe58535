#pragma once
// The Tensor tab: what one tensor is (shape, strides, dtype, storage and who shares it,
// saved device), its statistics, a histogram of its values and a table of the first
// values. Statistics are computed on a worker thread; a newer selection wins (JobTracker).
#include "core/document/document.h"

#include <QWidget>
#include <atomic>
#include <memory>

class QLabel;
class QTimer;
class QTableWidget;
class QFormLayout;

namespace te {

class HistogramPlot;
class JobTracker;

struct TensorStats;

class TensorPanel : public QWidget {
    Q_OBJECT
public:
    explicit TensorPanel(QWidget *parent = nullptr);
    ~TensorPanel() override;

    void setDocument(std::shared_ptr<const Document> doc);
    // Shows the tensor behind `key`; tensor < 0 clears the panel.
    void showTensor(const QString &key, int tensor);
    bool isComputing() const;

signals:
    void statsReady(); // for tests and screenshots

private:
    struct Computed;
    QString describe(const QString &key, const TensorInfo &t) const;
    void startStats(int tensor);
    void showComputed(const Computed &c);
    void fillValues(const Computed &c);
    static QString valueText(const Computed &c, size_t i);
    void clearStats(const QString &message);
    void showProgress();

    std::shared_ptr<const Document> m_doc;
    JobTracker *m_jobs;
    // Elements read so far by the running computation, shown on long ones.
    std::shared_ptr<std::atomic<uint64_t>> m_progress;
    uint64_t m_progressTotal = 0;
    QTimer *m_progressTimer;
    QLabel *m_title;
    QLabel *m_info;
    QLabel *m_stats;
    HistogramPlot *m_histogram;
    QTableWidget *m_values;
};

} // namespace te
