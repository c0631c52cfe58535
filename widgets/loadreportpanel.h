#pragma once
// The Load report tab: what load_state_dict would do with the open checkpoint and the
// reference model, strict or not, in counts, rows and PyTorch's own words; the ranked
// fixes with one-click apply, an editor for renaming rules, and export of the renamed
// state dict. Reports are computed on a worker thread; the newest request wins.
#include "core/diagnose/loadcheck.h"
#include "widgets/loadreportmodel.h"

#include <QWidget>
#include <map>
#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTableView;
class QTableWidget;
class QTimer;

namespace te {

class LoadReportPanel : public QWidget {
    Q_OBJECT
public:
    explicit LoadReportPanel(QWidget *parent = nullptr);
    ~LoadReportPanel() override;

    // Either may be null; a report appears when both are set.
    void setInputs(std::shared_ptr<const Document> weights, std::shared_ptr<const Document> reference);
    void setRules(const std::vector<RemapRule> &rules);
    std::vector<RemapRule> rules() const;
    std::string stateDict() const;
    void applySuggestion(int index);
    bool isComputing() const { return m_computing; }
    const LoadReport *report() const { return m_report ? m_report.get() : nullptr; }
    LoadReportModel *model() const { return m_model; }
    // Writes the state dict with the rules applied (torch zip or safetensors).
    bool exportStateDict(const QString &path, bool safetensors, QString *error) const;

signals:
    void reportReady();
    // full document key -> "loaded", "cast", "unexpected", "shape_mismatch"
    void checkpointStatusChanged(const std::map<std::string, std::string> &status);

private:
    struct Result;
    void recompute();
    void show(const Result &r);
    void rebuildRulesTable();

    std::shared_ptr<const Document> m_weights, m_reference;
    std::vector<RemapRule> m_rules;
    std::unique_ptr<LoadReport> m_report;
    std::unique_ptr<ExpectedModel> m_expected;
    quint64 m_generation = 0;
    bool m_computing = false;
    bool m_updatingRules = false;

    QComboBox *m_stateDict;
    QCheckBox *m_strict;
    QLabel *m_summary;
    LoadReportModel *m_model;
    QTableView *m_table;
    QPlainTextEdit *m_message;
    QListWidget *m_suggestions;
    QTableWidget *m_rulesTable;
    QTimer *m_rulesTimer;
};

} // namespace te
