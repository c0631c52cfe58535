#include "widgets/comparepanel.h"

#include "core/diagnose/keyalignment.h"
#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/stats/tensorgrid.h"
#include "core/stats/tensorstats.h"
#include "widgets/comparedetails.h"
#include "widgets/comparemodel.h"
#include "widgets/documentloader.h"
#include "widgets/heatmapplot.h"
#include "widgets/histogramplot.h"
#include "widgets/jobtracker.h"
#include "widgets/plotlayout.h"
#include "widgets/statusfilterproxy.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace te {

namespace {

constexpr uint64_t kSliceBytes = uint64_t(64) << 20; // values compared per job
constexpr size_t kSliceRows = 4096;

QString text(const std::string &s) { return QString::fromStdString(s); }

struct KeysResult {
    DocumentDiff diff;
    QString error;
};

struct ValuesResult {
    size_t first = 0;
    std::vector<TensorDiff> rows;
    uint64_t bytes = 0;
};

uint64_t bytesOf(const Document &doc, int tensor)
{
    return tensor >= 0 && static_cast<size_t>(tensor) < doc.tensors.size()
               ? doc.tensors[static_cast<size_t>(tensor)].nbytes()
               : 0;
}

int tensorOfKey(const Document &doc, const std::string &key)
{
    for (const TensorEntry &e : doc.entries)
        if (e.key == key)
            return e.tensor;
    return -1;
}

QString number(double v)
{
    if (std::isnan(v))
        return QStringLiteral("nan");
    if (std::isinf(v))
        return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return QString::number(v, 'g', 6);
}

} // namespace

ComparePanel::ComparePanel(QWidget *parent)
    : QWidget(parent)
    , m_loaderB(new DocumentLoader(this))
    , m_keysJob(new JobTracker(this))
    , m_valuesJob(new JobTracker(this))
    , m_detailJob(new JobTracker(this))
    , m_model(new CompareModel(this))
    , m_proxy(new StatusFilterProxy(this))
    , m_pages(new QStackedWidget(this))
{
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(CompareModel::SortRole);
    m_proxy->setRecursiveFilteringEnabled(true);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_pages);

    auto *empty = new QWidget(m_pages);
    auto *emptyLayout = new QVBoxLayout(empty);
    auto *hint = new QLabel(tr("Compare the open file with another one: two checkpoints of a training run, a "
                               "fine-tune and its base, a .bin and its safetensors. Keys are lined up first "
                               "(state dicts, wrapper prefixes such as 'module.'), then every tensor is compared."),
                            empty);
    hint->setWordWrap(true);
    auto *choose = new QPushButton(tr("Compare with…"), empty);
    connect(choose, &QPushButton::clicked, this, &ComparePanel::compareRequested);
    emptyLayout->addStretch();
    emptyLayout->addWidget(hint);
    emptyLayout->addWidget(choose, 0, Qt::AlignHCenter);
    emptyLayout->addStretch();
    m_pages->addWidget(empty);

    auto *page = new QWidget(m_pages);
    buildComparisonPage(page);
    m_pages->addWidget(page);

    connect(m_loaderB, &DocumentLoader::loaded, this, [this](std::shared_ptr<const Document> b) {
        m_b = std::move(b);
        startKeys();
    });
    connect(m_loaderB, &DocumentLoader::failed, this, [this](const QString &path, const QString &message) {
        m_summary->setText(tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), message));
        emit failed(message);
        emit valuesDone();
    });
}

ComparePanel::~ComparePanel() = default;

void ComparePanel::buildComparisonPage(QWidget *page)
{
    auto *layout = new QVBoxLayout(page);
    m_summary = new QLabel(page);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_mapping = new QLabel(page);
    m_mapping->setWordWrap(true);
    m_exactBox = new QCheckBox(tr("Compare keys exactly as they are"), page);
    m_exactBox->setToolTip(tr("Off: the keys are lined up first (state dicts, wrapper prefixes, tied weights)"));
    connect(m_exactBox, &QCheckBox::toggled, this, &ComparePanel::setExact);

    auto *controls = new QHBoxLayout;
    auto *show = new QLabel(tr("&Show:"), page);
    m_filterBox = new QComboBox(page);
    m_filterBox->addItems({tr("every key"), tr("changed"), tr("only in A"), tr("only in B"),
                           tr("shape or dtype changed"), tr("values differ"), tr("identical")});
    show->setBuddy(m_filterBox);
    connect(m_filterBox, &QComboBox::currentIndexChanged, this, [this](int i) { setFilter(static_cast<Filter>(i)); });
    m_progress = new QProgressBar(page);
    m_progress->setRange(0, 100);
    m_progress->setMaximumWidth(180);
    m_progress->hide();
    m_stop = new QPushButton(tr("Stop"), page);
    m_stop->setToolTip(tr("Stop comparing values; what was compared stays"));
    m_stop->hide();
    connect(m_stop, &QPushButton::clicked, this, &ComparePanel::stop);
    auto *exportButton = new QToolButton(page);
    exportButton->setText(tr("Export"));
    exportButton->setToolTip(tr("Save the comparison as JSON (the diff --json document) or Markdown"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto *exportMenu = new QMenu(exportButton);
    exportMenu->addAction(tr("As &JSON…"), this, [this] { exportDialog(false); });
    exportMenu->addAction(tr("As &Markdown…"), this, [this] { exportDialog(true); });
    exportButton->setMenu(exportMenu);
    auto *close = new QPushButton(tr("Close"), page);
    close->setToolTip(tr("End the comparison"));
    connect(close, &QPushButton::clicked, this, &ComparePanel::clear);
    controls->addWidget(show);
    controls->addWidget(m_filterBox);
    controls->addStretch();
    controls->addWidget(m_progress);
    controls->addWidget(m_stop);
    controls->addWidget(exportButton);
    controls->addWidget(close);

    auto *split = new QSplitter(Qt::Vertical, page);
    m_tree = new QTreeView(split);
    m_tree->setModel(m_proxy);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(-1, Qt::AscendingOrder); // the files' own order until a header is clicked
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setStretchLastSection(false);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &ComparePanel::showDetails);

    auto *detail = new QWidget(split);
    auto *detailLayout = new QVBoxLayout(detail);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    m_detailTitle = new QLabel(tr("Choose a key to see A, B and A − B."), detail);
    m_detailTitle->setWordWrap(true);
    // Statistics and pictures share one place: side by side they are too narrow to read
    // beside the tree.
    auto *views = new QTabWidget(detail);
    views->setDocumentMode(true);
    m_stats = new QTableWidget(9, 3, views);
    m_stats->setHorizontalHeaderLabels({tr("A"), tr("B"), tr("A − B")});
    m_stats->setVerticalHeaderLabels({tr("mean"), tr("std"), tr("min"), tr("max"), tr("NaN"), tr("±inf"),
                                      tr("max |A−B|"), tr("max rel."), tr("differing")});
    m_stats->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_stats->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_stats->verticalHeader()->setDefaultSectionSize(m_stats->fontMetrics().height() + 2);
    m_histogram = new HistogramPlot(views);
    m_heatmap = new HeatmapPlot(views);
    m_heatmap->setDifferences(true);
    stylePlot(this, m_histogram);
    stylePlot(this, m_heatmap);
    views->addTab(m_stats, tr("Statistics"));
    views->addTab(m_histogram, tr("Histograms of A and B"));
    views->addTab(m_heatmap, tr("A − B"));
    detailLayout->addWidget(m_detailTitle);
    detailLayout->addWidget(views, 1);
    split->addWidget(m_tree);
    split->addWidget(detail);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);

    layout->addWidget(m_summary);
    layout->addWidget(m_mapping);
    layout->addWidget(m_exactBox);
    layout->addLayout(controls);
    layout->addWidget(split, 1);
}

void ComparePanel::setDocumentA(std::shared_ptr<const Document> a)
{
    m_a = std::move(a);
    if (m_a && m_b)
        startKeys();
    else if (!m_a)
        clear();
}

void ComparePanel::compareWith(const QString &path)
{
    m_pathB = path;
    m_b.reset();
    m_pages->setCurrentIndex(1);
    m_summary->setText(tr("Opening %1…").arg(QFileInfo(path).fileName()));
    m_mapping->clear();
    m_model->clear();
    m_loaderB->load(path);
}

void ComparePanel::compareWithDocument(std::shared_ptr<const Document> b)
{
    m_pathB = b ? text(b->path) : QString();
    m_b = std::move(b);
    startKeys();
}

void ComparePanel::clear()
{
    m_loaderB->cancel();
    m_keysJob->discard();
    m_valuesJob->discard();
    m_detailJob->discard();
    m_valuesRunning = false;
    m_b.reset();
    m_pathB.clear();
    m_model->clear();
    m_progress->hide();
    m_stop->hide();
    m_pages->setCurrentIndex(0);
}

void ComparePanel::setExact(bool exact)
{
    if (m_exact == exact)
        return;
    m_exact = exact;
    m_exactBox->setChecked(exact);
    if (m_a && m_b)
        startKeys();
}

void ComparePanel::setFilter(Filter f)
{
    if (m_filterBox->currentIndex() != f)
        m_filterBox->setCurrentIndex(f);
    m_proxy->setFilter(f);
    if (f != EveryKey)
        m_tree->expandAll();
}

bool ComparePanel::isBusy() const
{
    return m_loaderB->isLoading() || m_keysJob->isRunning() || m_valuesRunning || m_detailJob->isRunning();
}

bool ComparePanel::hasComparison() const { return m_model->diff() != nullptr; }

void ComparePanel::startKeys()
{
    if (!m_a || !m_b)
        return;
    m_pages->setCurrentIndex(1);
    m_valuesJob->discard();
    m_detailJob->discard();
    m_valuesRunning = false;
    m_summary->setText(tr("Lining up the keys of %1 and %2…")
                           .arg(QFileInfo(text(m_a->path)).fileName(), QFileInfo(m_pathB).fileName()));
    auto a = m_a, b = m_b;
    const bool exact = m_exact;
    m_keysJob->start(
        [a, b, exact](const JobControl &) {
            KeysResult r;
            try {
                r.diff = diffKeys(*a, *b, exact ? KeyAlignment{} : alignKeys(*a, *b));
            } catch (const std::exception &e) {
                r.error = QString::fromUtf8(e.what());
            }
            return r;
        },
        [this](const KeysResult &r) {
            if (!r.error.isEmpty()) {
                m_summary->setText(tr("Could not compare: %1").arg(r.error));
                emit failed(r.error);
                emit valuesDone();
                return;
            }
            m_model->setDiff(r.diff);
            m_tree->expandToDepth(0);
            for (int c = 0; c < CompareModel::ColumnCount; ++c)
                m_tree->resizeColumnToContents(c);
            const KeyAlignment &al = r.diff.alignment;
            QStringList lines;
            for (const std::string &line : al.describe())
                lines << text(line);
            if (al.outsideA || al.outsideB)
                lines << tr("not compared: %1 tensors of A and %2 of B outside those state dicts")
                             .arg(al.outsideA)
                             .arg(al.outsideB);
            m_mapping->setText(lines.isEmpty() ? tr("Keys compared exactly as they are.")
                                               : tr("Lined up: %1.").arg(lines.join(QStringLiteral("; "))));
            m_bytesTotal = m_bytesDone = 0;
            for (const TensorDiff &d : r.diff.common)
                if (!d.valuesTried)
                    m_bytesTotal += bytesOf(*m_a, d.tensorA);
            updateSummary();
            emit comparisonReady();
            startValues(0);
        });
}

// One slice of the values at a time: each result fills in its rows, then the next starts.
void ComparePanel::startValues(size_t first)
{
    const DocumentDiff *diff = m_model->diff();
    if (!diff || first >= diff->common.size()) {
        m_valuesRunning = false;
        m_progress->hide();
        m_stop->hide();
        updateSummary();
        // Nothing chosen yet: the largest change, where one looks first.
        if (!m_tree->currentIndex().isValid()) {
            const QString largest = m_model->largestChange(nullptr);
            if (!largest.isEmpty())
                selectKey(largest);
        }
        emit valuesDone();
        return;
    }
    m_valuesRunning = true;
    m_progress->show();
    m_stop->show();
    std::vector<TensorDiff> rows;
    uint64_t bytes = 0;
    for (size_t i = first; i < diff->common.size() && rows.size() < kSliceRows && bytes < kSliceBytes; ++i) {
        rows.push_back(diff->common[i]);
        if (!rows.back().valuesTried)
            bytes += bytesOf(*m_a, rows.back().tensorA);
    }
    auto a = m_a, b = m_b;
    m_valuesJob->start(
        [a, b, first, rows = std::move(rows)](const JobControl &job) mutable {
            ValuesResult r;
            r.first = first;
            uint64_t walked = 0;
            for (TensorDiff &d : rows) {
                if (!d.valuesTried)
                    r.bytes += bytesOf(*a, d.tensorA);
                if (!compareTensorValues(*a, *b, d, job.cancelFlag(), &walked))
                    break;
            }
            r.rows = std::move(rows);
            return r;
        },
        [this](const ValuesResult &r) {
            m_model->setValues(r.first, r.rows);
            m_bytesDone += r.bytes;
            m_progress->setValue(m_bytesTotal ? static_cast<int>(100 * m_bytesDone / m_bytesTotal) : 100);
            const bool stopped =
                std::any_of(r.rows.begin(), r.rows.end(), [](const TensorDiff &d) { return !d.valuesTried; });
            updateSummary();
            if (stopped) {
                m_valuesRunning = false;
                m_progress->hide();
                m_stop->hide();
                emit valuesDone();
                return;
            }
            startValues(r.first + r.rows.size());
            showDetails(); // the chosen key's row may have just been compared
        });
}

void ComparePanel::stop()
{
    if (m_valuesRunning)
        m_valuesJob->cancel();
}

void ComparePanel::updateSummary()
{
    const DocumentDiff *d = m_model->diff();
    if (!d || !m_a)
        return;
    const auto &t = m_model->totals();
    auto count = [&t](DiffStatus s) { return t[static_cast<size_t>(s)]; };
    QStringList parts;
    parts << tr("%1 identical").arg(count(DiffStatus::Identical));
    const uint32_t changed = count(DiffStatus::ShapeChanged) + count(DiffStatus::DtypeChanged) +
                             count(DiffStatus::ValuesDiffer) + count(DiffStatus::Unreadable);
    parts << tr("%1 changed").arg(changed);
    parts << tr("%1 only in A").arg(count(DiffStatus::OnlyA)) << tr("%1 only in B").arg(count(DiffStatus::OnlyB));
    if (count(DiffStatus::Tied))
        parts << tr("%1 tied").arg(count(DiffStatus::Tied));
    if (count(DiffStatus::Pending))
        parts << tr("%1 not compared yet").arg(count(DiffStatus::Pending));
    QString line = tr("A: %1 · B: %2 — %3")
                       .arg(QFileInfo(text(m_a->path)).fileName(), QFileInfo(m_pathB).fileName(),
                            parts.join(QStringLiteral(" · ")));
    double largest = 0;
    const QString where = m_model->largestChange(&largest);
    if (!where.isEmpty())
        line += tr(". Largest change: %1 (max |A−B| %2)").arg(where, number(largest));
    else if (!count(DiffStatus::Pending) && d->same())
        line += tr(". The files hold the same tensors.");
    m_summary->setText(line);
}

bool ComparePanel::selectKey(const QString &key)
{
    const QModelIndex at = m_proxy->mapFromSource(m_model->indexForKey(key));
    if (!at.isValid())
        return false;
    m_tree->scrollTo(at);
    m_tree->setCurrentIndex(at);
    return true;
}

void ComparePanel::showDetails()
{
    const QModelIndex current = m_tree->currentIndex();
    const int status = current.data(CompareModel::StatusRole).toInt();
    if (!current.isValid() || status < 0 || !m_a || !m_b) {
        m_detailJob->discard();
        return;
    }
    const QString key = current.data(CompareModel::KeyRole).toString();
    const QString keyA = current.data(CompareModel::KeyARole).toString();
    if (!keyA.isEmpty())
        emit keySelected(keyA);
    const int row = current.data(CompareModel::RowRole).toInt();
    int ta = -1, tb = -1;
    if (row >= 0) {
        ta = m_model->diff()->common[static_cast<size_t>(row)].tensorA;
        tb = m_model->diff()->common[static_cast<size_t>(row)].tensorB;
    } else if (static_cast<DiffStatus>(status) == DiffStatus::OnlyA) {
        ta = tensorOfKey(*m_a, keyA.toStdString());
    } else {
        tb = tensorOfKey(*m_b, key.toStdString());
    }
    m_detailTitle->setText(
        tr("%1 — %2").arg(key, current.siblingAtColumn(CompareModel::StatusColumn).data().toString()));
    auto a = m_a, b = m_b;
    m_detailJob->start(
        [a, b, ta, tb, key](const JobControl &job) { return compareDetails(*a, *b, ta, tb, key, job.cancelFlag()); },
        [this, row](const DetailResult &r) {
            m_stats->clearContents();
            auto put = [this](int line, int column, const QString &value) {
                m_stats->setItem(line, column, new QTableWidgetItem(value));
            };
            for (int side = 0; side < 2; ++side) {
                const bool have = side == 0 ? r.haveA : r.haveB;
                const TensorStats &s = side == 0 ? r.a : r.b;
                if (!have)
                    continue;
                put(0, side, number(s.mean));
                put(1, side, number(s.std));
                put(2, side, number(s.min));
                put(3, side, number(s.max));
                put(4, side, QString::number(s.nans));
                put(5, side, QString::number(s.posInfs + s.negInfs));
            }
            if (r.haveA && r.haveB)
                put(0, 2, number(r.a.mean - r.b.mean));
            if (row >= 0 && static_cast<size_t>(row) < m_model->diff()->common.size()) {
                const TensorDiff &d = m_model->diff()->common[static_cast<size_t>(row)];
                if (d.valuesCompared && d.diffCount) { // the difference itself, element by element
                    put(0, 2, number(d.diffMean));
                    put(1, 2, number(d.diffStd));
                    put(2, 2, number(d.diffMin));
                    put(3, 2, number(d.diffMax));
                }
                if (d.valuesCompared) {
                    put(6, 2, number(d.maxAbs));
                    put(7, 2, number(d.maxRel));
                    put(8, 2, QString::fromStdString(formatCount(d.differing)));
                }
            }
            if (r.haveA && r.haveB)
                m_histogram->setPair(r.histA, r.histB, r.lo, r.hi, tr("A"), tr("B"));
            else if (r.haveA || r.haveB)
                m_histogram->setCounts(r.haveA ? r.histA : r.histB, r.lo, r.hi);
            else
                m_histogram->clear();
            if (r.difference.ok) {
                m_heatmap->setGrid(r.difference, tr("row (A − B, block means)"), tr("column"));
                m_heatmap->setToolTip({});
            } else {
                m_heatmap->clear();
                m_heatmap->setToolTip(r.gridNote);
                m_detailTitle->setText(m_detailTitle->text() + QStringLiteral(" — ") + r.gridNote);
            }
            emit detailsReady();
        });
}

bool ComparePanel::writeComparison(const QString &path, bool markdown, QString *error) const
{
    const DocumentDiff *d = m_model->diff();
    if (!d || !m_a) {
        *error = tr("Nothing is being compared");
        return false;
    }
    std::string body;
    if (markdown) {
        body = diffMarkdown(*d, m_a->path, m_pathB.toStdString());
    } else {
        nlohmann::ordered_json out{{"a", m_a->path}, {"b", m_pathB.toStdString()}};
        const nlohmann::ordered_json fields = diffJson(*d);
        for (const auto &[k, v] : fields.items())
            out[k] = v;
        body = jsonText(out, 2) + "\n";
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(body.data(), static_cast<qint64>(body.size())) < 0 ||
        !file.commit()) {
        *error = file.errorString();
        return false;
    }
    return true;
}

void ComparePanel::exportDialog(bool markdown)
{
    if (!hasComparison()) {
        QMessageBox::information(this, tr("Export"), tr("Compare two files first."));
        return;
    }
    const QString suffix = markdown ? QStringLiteral(".md") : QStringLiteral(".json");
    const QString path = QFileDialog::getSaveFileName(
        this, markdown ? tr("Export the comparison as Markdown") : tr("Export the comparison as JSON"),
        QFileInfo(m_pathB).completeBaseName() + QStringLiteral("-comparison") + suffix,
        markdown ? tr("Markdown (*.md)") : tr("JSON (*.json)"));
    QString error;
    if (!path.isEmpty() && !writeComparison(path, markdown, &error))
        QMessageBox::warning(this, tr("Export"), tr("Could not write %1: %2").arg(path, error));
}

} // namespace te
