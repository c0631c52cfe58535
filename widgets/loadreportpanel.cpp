#include "widgets/loadreportpanel.h"

#include "core/diagnose/loaddiagnosis.h"
#include "core/export/statedictwriter.h"
#include "core/report/inspectreport.h"
#include "core/report/loadreportjson.h"
#include "widgets/columnfit.h"
#include "widgets/filetypes.h"
#include "widgets/jobtracker.h"
#include "widgets/keyalignmentview.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <regex>
#include <unordered_map>

namespace te {

struct LoadReportPanel::Result {
    std::shared_ptr<LoadReport> report;
    std::shared_ptr<ExpectedModel> expected;
    std::shared_ptr<WeightsSource> weights;
    std::shared_ptr<AlignmentLayout> alignment; // laid out here too: 100,000 keys take a while
    QString error;
};

LoadReportPanel::LoadReportPanel(QWidget *parent)
    : QWidget(parent)
    , m_jobs(new JobTracker(this))
    , m_stateDict(new QComboBox(this))
    , m_strict(new QCheckBox(tr("strict"), this))
    , m_summary(new QLabel(this))
    , m_referenceName(new QLabel(this))
    , m_clearReference(new QPushButton(tr("Clear"), this))
    , m_model(new LoadReportModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_table(new QTableView(this))
    , m_message(new QPlainTextEdit(this))
    , m_suggestions(new QListWidget(this))
    , m_noFixes(new QLabel(this))
    , m_apply(new QPushButton(tr("Apply"), this))
    , m_rulesTable(new QTableWidget(0, 3, this))
    , m_rulesTimer(new QTimer(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buildReferenceRow());
    layout->addLayout(buildChoiceRow());
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);
    // What the colours of the table and of the tree mean.
    auto *legend = new QLabel(this);
    QStringList swatches;
    for (LoadStatus s : {LoadStatus::Missing, LoadStatus::Unexpected, LoadStatus::ShapeMismatch})
        swatches << QStringLiteral("<span style='color:%1'>■</span> %2")
                        .arg(LoadReportModel::statusColor(s).name(), LoadReportModel::statusName(s));
    legend->setText(swatches.join(QStringLiteral("&nbsp;&nbsp;&nbsp;")));
    legend->setObjectName(QStringLiteral("statusLegend"));
    layout->addWidget(legend);
    setUpTable();

    QWidget *messagePage = buildMessagePage();
    QWidget *fixesPage = buildFixesPage();
    QWidget *rulesPage = buildRulesPage();
    auto *tabs = new QTabWidget(this);
    tabs->addTab(messagePage, tr("PyTorch says"));
    tabs->addTab(fixesPage, tr("Fixes"));
    tabs->addTab(rulesPage, tr("Rules"));
    // The table and the key alignment: two views of one report.
    auto *views = new QTabWidget(this);
    views->setDocumentMode(true);
    m_table->setObjectName(QStringLiteral("reportTable"));
    views->addTab(m_table, tr("Table"));
    m_alignment = new KeyAlignmentView(views);
    views->addTab(m_alignment, tr("Key alignment"));
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(views);
    split->addWidget(tabs);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    layout->addLayout(buildExportRow());
    setInputs(nullptr, nullptr);
}

// The model the checkpoint is checked against, and a way to stop checking.
QLayout *LoadReportPanel::buildReferenceRow()
{
    auto *row = new QHBoxLayout;
    m_referenceName->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row->addWidget(m_referenceName, 1);
    m_clearReference->setToolTip(tr("Stop checking against this model"));
    row->addWidget(m_clearReference);
    connect(m_clearReference, &QPushButton::clicked, this, &LoadReportPanel::clearReferenceRequested);
    setReferenceName({});
    return row;
}

void LoadReportPanel::setReferenceName(const QString &name)
{
    m_referenceName->setText(name.isEmpty() ? tr("No model to check against yet.")
                                            : tr("Checked against: %1").arg(name));
    m_clearReference->setVisible(!name.isEmpty());
}

// Which state dict of the checkpoint, and strict or not: either change checks anew.
QLayout *LoadReportPanel::buildChoiceRow()
{
    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("State dict:"), this));
    top->addWidget(m_stateDict, 1);
    m_strict->setChecked(true);
    m_strict->setToolTip(tr("load_state_dict(strict=True): missing and unexpected keys are errors"));
    top->addWidget(m_strict);
    connect(m_strict, &QCheckBox::toggled, this, &LoadReportPanel::recompute);
    connect(m_stateDict, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_updatingRules)
            recompute();
    });
    return top;
}

// The rows, in report order until the user sorts; numbers sort as numbers.
void LoadReportPanel::setUpTable()
{
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(LoadReportModel::SortRole);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 4);
    m_table->horizontalHeader()->setStretchLastSection(false); // the Key column takes what is spare
    m_table->setWordWrap(false);                               // one line a key, elided in the middle:
    m_table->setTextElideMode(Qt::ElideMiddle);                // its start and its end stay in view
    m_table->viewport()->installEventFilter(this);             // the columns fit again when it resizes
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setTabKeyNavigation(false); // Tab leaves the table; arrows walk it
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &row) {
        const QString key = m_proxy->data(row, LoadReportModel::CheckpointKeyRole).toString();
        if (!key.isEmpty())
            emit checkpointKeySelected(keyPrefix() + key);
    });
}

// What the checkpoint's keys are under in the document: its state dict's path and a dot.
QString LoadReportPanel::keyPrefix() const
{
    return !m_report || m_report->stateDict.empty() ? QString()
                                                    : QString::fromStdString(m_report->stateDict) + QLatin1Char('.');
}

void LoadReportPanel::selectCheckpointKey(const QString &documentKey)
{
    const QString prefix = keyPrefix();
    if (!m_report || !documentKey.startsWith(prefix))
        return;
    const QModelIndex i =
        m_proxy->mapFromSource(m_model->index(m_model->rowOfCheckpointKey(documentKey.mid(prefix.size())), 0));
    if (!i.isValid())
        return;
    if (m_table->currentIndex().row() != i.row())
        m_table->setCurrentIndex(i);
    m_table->scrollTo(i);
}

// PyTorch's own message, to read and to copy.
QWidget *LoadReportPanel::buildMessagePage()
{
    m_message->setReadOnly(true);
    m_message->setTabStopDistance(m_message->fontMetrics().horizontalAdvance(QStringLiteral("    ")));
    m_message->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_message);
    auto *copy = new QPushButton(tr("Copy PyTorch's message"), page);
    layout->addWidget(copy, 0, Qt::AlignRight);
    connect(copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_message->toPlainText()); });
    return page;
}

// The ranked fixes, applied with a click.
QWidget *LoadReportPanel::buildFixesPage()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 0, 0, 0);
    m_noFixes->setWordWrap(true);
    m_noFixes->hide();
    layout->addWidget(m_noFixes);
    layout->addWidget(m_suggestions);
    m_apply->setEnabled(false);
    layout->addWidget(m_apply, 0, Qt::AlignRight);
    connect(m_apply, &QPushButton::clicked, this, [this] { applySuggestion(m_suggestions->currentRow()); });
    connect(m_suggestions, &QListWidget::currentRowChanged, this, [this](int row) { m_apply->setEnabled(row >= 0); });
    connect(m_suggestions, &QListWidget::itemActivated, this, [this] { applySuggestion(m_suggestions->currentRow()); });
    return page;
}

// The ranked fixes, or why there are none.
void LoadReportPanel::showFixes(const LoadReport &rep, bool loads)
{
    m_suggestions->clear();
    for (const auto &s : rep.suggestions)
        m_suggestions->addItem(tr("+%1 keys: %2").arg(s.fixes).arg(QString::fromStdString(s.description)));
    if (!rep.suggestions.empty())
        m_suggestions->setCurrentRow(0);
    m_apply->setEnabled(!rep.suggestions.empty());
    QString why;
    if (rep.suggestions.empty()) {
        if (loads)
            why = tr("Nothing to fix: the checkpoint loads.");
        else {
            QStringList reasons;
            if (!rep.shapeMismatch.empty())
                reasons << tr("%n key(s) have other shapes in the model, so its architecture differs from the "
                              "one the checkpoint was saved from (another width or number of classes)",
                              nullptr, static_cast<int>(rep.shapeMismatch.size()));
            if (!rep.missing.empty() || !rep.unexpected.empty())
                reasons << tr("the missing and unexpected keys differ by more than a prefix or a rename");
            why = tr("No renaming fixes this: %1.").arg(reasons.join(QStringLiteral("; ")));
        }
    }
    m_noFixes->setText(why);
    m_noFixes->setVisible(!why.isEmpty());
    m_suggestions->setVisible(why.isEmpty());
}

// The renaming rules: added, removed and edited in place.
QWidget *LoadReportPanel::buildRulesPage()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 0, 0, 0);
    m_rulesTable->setHorizontalHeaderLabels({tr("Kind"), tr("From"), tr("To")});
    m_rulesTable->horizontalHeader()->setStretchLastSection(true);
    m_rulesTable->verticalHeader()->hide();
    layout->addWidget(m_rulesTable);
    auto *buttons = new QHBoxLayout;
    auto *addPrefix = new QPushButton(tr("Add prefix rule"), page);
    auto *addRegex = new QPushButton(tr("Add regex rule"), page);
    auto *remove = new QPushButton(tr("Remove"), page);
    buttons->addWidget(addPrefix);
    buttons->addWidget(addRegex);
    buttons->addStretch(1);
    buttons->addWidget(remove);
    layout->addLayout(buttons);
    connect(addPrefix, &QPushButton::clicked, this, [this] { addRule({RemapRule::Kind::Prefix, "module.", ""}); });
    connect(addRegex, &QPushButton::clicked, this, [this] {
        addRule({RemapRule::Kind::Regex, "\\.gamma$", ".weight"});
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        const int row = m_rulesTable->currentRow();
        if (row >= 0 && row < static_cast<int>(m_rules.size())) {
            m_rules.erase(m_rules.begin() + row);
            rebuildRulesTable();
            recompute();
        }
    });
    watchRuleEdits();
    return page;
}

// Edits in the rules table update the report live, debounced while typing.
void LoadReportPanel::watchRuleEdits()
{
    m_rulesTimer->setSingleShot(true);
    m_rulesTimer->setInterval(300);
    connect(m_rulesTimer, &QTimer::timeout, this, &LoadReportPanel::recompute);
    connect(m_rulesTable, &QTableWidget::itemChanged, this, [this](QTableWidgetItem *item) {
        if (m_updatingRules)
            return;
        const size_t row = static_cast<size_t>(item->row());
        if (row >= m_rules.size())
            return;
        const std::string text = item->text().toStdString();
        if (item->column() == 1)
            m_rules[row].from = text;
        else if (item->column() == 2)
            m_rules[row].to = text;
        m_rulesTimer->start();
    });
}

QLayout *LoadReportPanel::buildExportRow()
{
    auto *row = new QHBoxLayout;
    auto *exportTorch = new QPushButton(tr("Export renamed state dict…"), this);
    auto *exportSafetensors = new QPushButton(tr("…as safetensors"), this);
    row->addStretch(1);
    row->addWidget(exportTorch);
    row->addWidget(exportSafetensors);
    connect(exportTorch, &QPushButton::clicked, this, [this] { exportWithDialog(false); });
    connect(exportSafetensors, &QPushButton::clicked, this, [this] { exportWithDialog(true); });
    return row;
}

// A name beside the checkpoint ("<name>_renamed.pt"), a warning first when the renamed
// dict still does not load, and a word when it is written.
void LoadReportPanel::exportWithDialog(bool safetensors)
{
    if (!m_weights)
        return;
    const bool strict = m_strict->isChecked();
    if (m_report && !(strict ? m_report->strictOk : m_report->nonStrictOk)) {
        const auto answer = QMessageBox::warning(
            this, tr("Export state dict"),
            tr("With the current rules this state dict still does not load into the model (%1 missing, %2 "
               "unexpected, %3 shape mismatch). Export it anyway?")
                .arg(m_report->missing.size())
                .arg(m_report->unexpected.size())
                .arg(m_report->shapeMismatch.size()),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Yes)
            return;
    }
    const QFileInfo source(QString::fromStdString(m_weights->path));
    const QString suggested =
        source.dir().filePath(source.completeBaseName() +
                              (safetensors ? QStringLiteral("_renamed.safetensors") : QStringLiteral("_renamed.pt")));
    const QString filter = safetensors ? FileTypes::saveFilter(tr("safetensors"), FileTypes::safetensorsMimeType())
                                       : FileTypes::saveFilter(tr("PyTorch"), FileTypes::pytorchMimeType());
    const QString path = QFileDialog::getSaveFileName(this, tr("Export state dict"), suggested, filter);
    if (path.isEmpty())
        return;
    QString error;
    if (exportStateDict(path, safetensors, &error))
        m_summary->setText(m_summary->text() + QStringLiteral("<br>") +
                           tr("Exported the renamed state dict to %1.").arg(path.toHtmlEscaped()));
    else
        m_summary->setText(tr("Export failed: %1").arg(error.toHtmlEscaped()));
}

void LoadReportPanel::addRule(const RemapRule &rule)
{
    m_rules.push_back(rule);
    rebuildRulesTable();
    recompute();
}

// The tracker, a child, drops the check still running.
LoadReportPanel::~LoadReportPanel() = default;

bool LoadReportPanel::isComputing() const { return m_jobs->isRunning(); }

void LoadReportPanel::setInputs(std::shared_ptr<const Document> weights, std::shared_ptr<const Document> reference)
{
    m_weights = std::move(weights);
    m_reference = std::move(reference);
    m_updatingRules = true;
    m_stateDict->clear();
    if (m_weights)
        for (const auto &s : candidateStateDicts(*m_weights))
            m_stateDict->addItem(s.empty() ? tr("(the whole file)") : QString::fromStdString(s),
                                 QString::fromStdString(s));
    m_updatingRules = false;
    recompute();
}

void LoadReportPanel::setRules(const std::vector<RemapRule> &rules)
{
    m_rules = rules;
    rebuildRulesTable();
    recompute();
}

std::vector<RemapRule> LoadReportPanel::rules() const { return m_rules; }

std::string LoadReportPanel::stateDict() const { return m_stateDict->currentData().toString().toStdString(); }

void LoadReportPanel::applySuggestion(int index)
{
    if (!m_report || index < 0 || index >= static_cast<int>(m_report->suggestions.size()))
        return;
    const Suggestion s = m_report->suggestions[static_cast<size_t>(index)];
    if (s.kind == "state_dict") {
        const int i = m_stateDict->findData(QString::fromStdString(s.to));
        if (i >= 0)
            m_stateDict->setCurrentIndex(i);
        return;
    }
    addRule(s.rule);
}

void LoadReportPanel::rebuildRulesTable()
{
    m_updatingRules = true;
    m_rulesTable->setRowCount(static_cast<int>(m_rules.size()));
    for (size_t i = 0; i < m_rules.size(); ++i) {
        const RemapRule &r = m_rules[i];
        auto *kind = new QTableWidgetItem(r.kind == RemapRule::Kind::Prefix ? tr("prefix") : tr("regex"));
        kind->setFlags(kind->flags() & ~Qt::ItemIsEditable);
        m_rulesTable->setItem(static_cast<int>(i), 0, kind);
        m_rulesTable->setItem(static_cast<int>(i), 1, new QTableWidgetItem(QString::fromStdString(r.from)));
        m_rulesTable->setItem(static_cast<int>(i), 2, new QTableWidgetItem(QString::fromStdString(r.to)));
    }
    m_updatingRules = false;
}

void LoadReportPanel::recompute()
{
    m_jobs->discard();
    if (!m_weights || !m_reference) {
        m_report.reset();
        m_model->clear();
        m_alignment->clear();
        emit checkpointStatusChanged({}); // the tree drops the colours of a report that is gone
        m_summary->setText(tr("Choose a model with “Check against…” to see whether this checkpoint loads into it."));
        m_message->clear();
        m_suggestions->clear();
        m_noFixes->hide();
        m_suggestions->show();
        return;
    }
    m_summary->setText(tr("Checking…"));
    auto weights = m_weights;
    auto reference = m_reference;
    const std::string stateDict = m_stateDict->currentData().toString().toStdString();
    const std::vector<RemapRule> rules = m_rules;
    m_jobs->start(
        [weights, reference, stateDict, rules](const JobControl &) {
            Result r;
            try {
                r.expected = std::make_shared<ExpectedModel>(expectedModelFrom(*reference));
                r.report = std::make_shared<LoadReport>(diagnoseLoad(*weights, stateDict, *r.expected, rules));
                r.weights = std::make_shared<WeightsSource>(weightsFrom(*weights, stateDict));
                r.alignment =
                    std::make_shared<AlignmentLayout>(layoutAlignment(*r.report, *r.expected, *r.weights, rules));
            } catch (const std::exception &e) {
                r.error = QString::fromStdString(e.what());
            }
            return r;
        },
        [this](const Result &r) {
            showReport(r);
            emit reportReady();
        });
}

void LoadReportPanel::showReport(const Result &r)
{
    if (!r.report) {
        m_report.reset();
        m_model->clear();
        m_alignment->clear();
        m_summary->setText(tr("Cannot check: %1").arg(r.error));
        return;
    }
    m_report = std::make_unique<LoadReport>(*r.report);
    m_expected = std::make_unique<ExpectedModel>(*r.expected);
    const LoadReport &rep = *m_report;
    m_model->setReport(rep, *r.expected, *r.weights);
    m_alignment->setReport(r.report, r.expected, r.weights, m_rules, r.alignment);
    const bool strict = m_strict->isChecked();
    const bool ok = strict ? rep.strictOk : rep.nonStrictOk;
    QString summary = tr("<b>%1</b> into %2: %3 of %4 keys load; %5 missing, %6 unexpected, %7 shape mismatch, "
                         "%8 cast to another dtype.")
                          .arg(ok ? tr("Loads") : tr("Does not load"),
                               QString::fromStdString(r.expected->originalClass.empty() ? r.expected->className
                                                                                        : r.expected->originalClass))
                          .arg(rep.loaded.size())
                          .arg(r.expected->keys.size())
                          .arg(rep.missing.size())
                          .arg(rep.unexpected.size())
                          .arg(rep.shapeMismatch.size())
                          .arg(rep.dtypeMismatch.size());
    if (!strict && rep.expectedElements && rep.loadedElements < rep.expectedElements)
        summary += tr(" %1% of the model's elements keep their initial values.")
                       .arg(100.0 * static_cast<double>(rep.expectedElements - rep.loadedElements) /
                                static_cast<double>(rep.expectedElements),
                            0, 'f', 1);
    // strict=False "succeeds" even when nothing loads: say it loudly, above everything.
    const std::string warning = partialLoadWarning(rep, *r.expected);
    if (!warning.empty())
        summary = QStringLiteral("<b style='color:#dc322f'>%1</b> %2<br>")
                      .arg(tr("Warning:"), QString::fromStdString(warning).toHtmlEscaped()) +
                  summary;
    if (!ok && !rep.suggestions.empty())
        summary += tr(" A fix exists: see Fixes (+%n keys).", nullptr, rep.suggestions.front().fixes);
    m_summary->setText(summary);
    const std::string &message = strict ? rep.strictError : rep.nonStrictError;
    m_message->setPlainText(message.empty()
                                ? tr("load_state_dict(strict=%1) succeeds.").arg(strict ? tr("True") : tr("False"))
                                : QString::fromStdString(message));
    showFixes(rep, ok);
    m_table->setColumnHidden(LoadReportModel::SourceColumn, !m_model->hasRenamedKeys());
    fitTableColumns();

    std::map<std::string, std::string> status;
    const std::string prefix = rep.stateDict.empty() ? std::string() : rep.stateDict + ".";
    for (const auto &[key, s] : rep.checkpointStatus)
        status[prefix + key] = s;
    emit checkpointStatusChanged(status);
}

// Every column in view: the keys (and renamed sources) give up width, elided in the middle.
void LoadReportPanel::fitTableColumns()
{
    fitColumnsToView(m_table, {{LoadReportModel::KeyColumn}, {LoadReportModel::SourceColumn}},
                     LoadReportModel::KeyColumn);
}

bool LoadReportPanel::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_table->viewport() && event->type() == QEvent::Resize && m_model->rowCount() > 0)
        fitTableColumns();
    return QWidget::eventFilter(watched, event);
}

bool LoadReportPanel::exportStateDict(const QString &path, bool safetensors, QString *error) const
{
    if (!m_weights) {
        *error = tr("no checkpoint is open");
        return false;
    }
    const std::string stateDict = m_stateDict->currentData().toString().toStdString();
    const std::string prefix = stateDict.empty() ? std::string() : stateDict + ".";
    // As {rename(k): v for k, v in state_dict.items()} would: later duplicates win.
    std::vector<NamedTensor> tensors;
    std::unordered_map<std::string, size_t> seen;
    for (const auto &e : m_weights->entries) {
        if (e.key.compare(0, prefix.size(), prefix) != 0 || e.key.size() == prefix.size())
            continue;
        const std::string key = applyRules(e.key.substr(prefix.size()), m_rules);
        auto it = seen.find(key);
        if (it != seen.end()) {
            tensors[it->second].tensor = e.tensor;
            continue;
        }
        seen.emplace(key, tensors.size());
        tensors.push_back({key, m_weights.get(), e.tensor});
    }
    try {
        if (safetensors)
            writeSafetensors(path.toStdString(), tensors);
        else
            writeTorchStateDict(path.toStdString(), tensors);
    } catch (const std::exception &e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

} // namespace te
