#pragma once
// The Load report tab: what load_state_dict would do with the open checkpoint and the
// reference model, strict or not, in counts, rows and PyTorch's own words; the ranked
// fixes with one-click apply, an editor for renaming rules, and export of the renamed
// state dict. Reports are computed on a worker thread; the newest request wins (JobTracker).
#include "core/diagnose/loadcheck.h"
#include "widgets/loadreportmodel.h"

#include <QWidget>
#include <map>
#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QLayout;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTableWidget;
class QTimer;

namespace te {

class JobTracker;
class KeyAlignmentView;

class LoadReportPanel : public QWidget {
    Q_OBJECT
public:
    explicit LoadReportPanel(QWidget *parent = nullptr);
    ~LoadReportPanel() override;

    // Either may be null; a report appears when both are set.
    void setInputs(std::shared_ptr<const Document> weights, std::shared_ptr<const Document> reference);
    void setRules(const std::vector<RemapRule> &rules);
    // Selects the row of this document key of the checkpoint (the state dict's prefix
    // included), if the report has one.
    void selectCheckpointKey(const QString &documentKey);
    // The model's file name, shown above the report with a Clear button (empty: none).
    void setReferenceName(const QString &name);
    std::vector<RemapRule> rules() const;
    std::string stateDict() const;
    void applySuggestion(int index);
    bool isComputing() const;
    const LoadReport *report() const { return m_report ? m_report.get() : nullptr; }
    LoadReportModel *model() const { return m_model; }
    KeyAlignmentView *alignmentView() const { return m_alignment; }
    // What the table shows: the model behind a proxy that sorts numbers as numbers.
    QSortFilterProxyModel *proxyModel() const { return m_proxy; }
    // Writes the state dict with the rules applied (torch zip or safetensors).
    bool exportStateDict(const QString &path, bool safetensors, QString *error) const;

signals:
    void reportReady();
    void clearReferenceRequested();
    // The user selected a row whose key is in the checkpoint (document key, prefix included).
    void checkpointKeySelected(const QString &documentKey);
    // full document key -> "loaded", "cast", "unexpected", "shape_mismatch"
    void checkpointStatusChanged(const std::map<std::string, std::string> &status);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void fitTableColumns();
    struct Result;
    QLayout *buildReferenceRow();
    QString keyPrefix() const;
    QLayout *buildChoiceRow();
    void setUpTable();
    QWidget *buildMessagePage();
    QWidget *buildFixesPage();
    QWidget *buildRulesPage();
    void watchRuleEdits();
    QLayout *buildExportRow();
    void exportWithDialog(bool safetensors);
    void addRule(const RemapRule &rule);
    void recompute();
    void showReport(const Result &r);
    void rebuildRulesTable();
    void showFixes(const LoadReport &rep, bool loads);

    std::shared_ptr<const Document> m_weights, m_reference;
    std::vector<RemapRule> m_rules;
    std::unique_ptr<LoadReport> m_report;
    std::unique_ptr<ExpectedModel> m_expected;
    bool m_updatingRules = false;

    JobTracker *m_jobs;
    QComboBox *m_stateDict;
    QCheckBox *m_strict;
    QLabel *m_summary;
    QLabel *m_referenceName;
    QPushButton *m_clearReference;
    LoadReportModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_table;
    KeyAlignmentView *m_alignment;
    QPlainTextEdit *m_message;
    QListWidget *m_suggestions;
    QLabel *m_noFixes;
    QPushButton *m_apply;
    QTableWidget *m_rulesTable;
    QTimer *m_rulesTimer;
};

} // namespace te
