#pragma once
// The Compare tab: the open file (A) against another (B). The keys are lined up and
// compared on a worker at once; the values follow a slice of tensors at a time, so that
// two large state dicts show their keys at once and fill in. A summary, how the keys were
// lined up (with a switch to compare them exactly as they are), a filter by status, the
// union tree, and for the chosen key A, B and A−B: statistics, both histograms, and the
// heatmap of the difference. Exports as JSON (the diff --json document) and Markdown.
#include "core/diagnose/documentdiff.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTableWidget;
class QTreeView;

namespace te {

class CompareModel;
class DocumentLoader;
class HeatmapPlot;
class HistogramPlot;
class JobTracker;
class StatusFilterProxy;

class ComparePanel : public QWidget {
    Q_OBJECT
public:
    // What the status filter offers, in its order.
    enum Filter { EveryKey, Changed, OnlyInA, OnlyInB, ShapeOrDtype, ValuesDiffer, Identical };

    explicit ComparePanel(QWidget *parent = nullptr);
    ~ComparePanel() override;

    // The open file; a comparison under way starts again with it.
    void setDocumentA(std::shared_ptr<const Document> a);
    // Reads B on a worker and compares once both are there.
    void compareWith(const QString &path);
    void compareWithDocument(std::shared_ptr<const Document> b);
    void clear();
    void setExact(bool exact);
    void setFilter(Filter f);
    void stop(); // stops comparing values; what was compared stays

    bool isBusy() const;
    bool hasComparison() const;
    QString pathB() const { return m_pathB; }
    CompareModel *model() const { return m_model; }
    QTreeView *tree() const { return m_tree; }
    QLabel *summary() const { return m_summary; }
    QLabel *mapping() const { return m_mapping; }
    QTableWidget *statsTable() const { return m_stats; }
    HistogramPlot *histogram() const { return m_histogram; }
    HeatmapPlot *differenceMap() const { return m_heatmap; }
    // Selects a key of the union tree (B's naming); false when it is not there or filtered out.
    bool selectKey(const QString &key);
    // The diff --json document (with both paths) or its Markdown form; false with *error set.
    bool writeComparison(const QString &path, bool markdown, QString *error) const;

signals:
    void compareRequested();               // the empty page's button: the window asks for B
    void keySelected(const QString &keyA); // A's key of the chosen row
    void comparisonReady();                // the keys are shown; values may still come
    void valuesDone();                     // every value compared, or stopped
    void detailsReady();                   // the chosen key's statistics and pictures
    void failed(const QString &message);

private:
    void buildComparisonPage(QWidget *page);
    void startKeys();
    void startValues(size_t first);
    void updateSummary();
    void showDetails();
    void exportDialog(bool markdown);

    std::shared_ptr<const Document> m_a, m_b;
    QString m_pathB;
    bool m_exact = false;
    bool m_valuesRunning = false;
    uint64_t m_bytesTotal = 0, m_bytesDone = 0;

    DocumentLoader *m_loaderB;
    JobTracker *m_keysJob, *m_valuesJob, *m_detailJob;
    CompareModel *m_model;
    StatusFilterProxy *m_proxy;
    QStackedWidget *m_pages;
    QLabel *m_summary;
    QLabel *m_mapping;
    QCheckBox *m_exactBox;
    QComboBox *m_filterBox;
    QProgressBar *m_progress;
    QPushButton *m_stop;
    QTreeView *m_tree;
    QLabel *m_detailTitle;
    QTableWidget *m_stats;
    HistogramPlot *m_histogram;
    HeatmapPlot *m_heatmap;
};

} // namespace te
