#include "widgets/tensorpanel.h"

#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/stats/tensorgrid.h"
#include "core/stats/tensorstats.h"
#include "widgets/heatmapplot.h"
#include "widgets/histogramplot.h"
#include "widgets/jobtracker.h"
#include "widgets/plotlayout.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <climits>
#include <cmath>

namespace te {

// The values the table shows: of the whole tensor, or of its slice at `leading`.
struct SliceValues {
    std::vector<int64_t> leading;
    std::vector<int64_t> shape; // of what is shown
    std::vector<double> values, imag;
    std::string error;
    int columns = 1;
};

struct TensorPanel::Computed {
    TensorStats stats;
    std::vector<uint64_t> histogram;
    double lo = 0, hi = 0;
    SliceValues values;
};

namespace {

constexpr size_t kShownValues = 4096;

// `order`: the dimensions of t as the slice is read (empty: as they are).
SliceValues readSlice(const Document &doc, const TensorInfo &whole, const std::vector<size_t> &order,
                      std::vector<int64_t> leading)
{
    SliceValues v;
    const TensorInfo t = order.empty() ? whole : permuteDims(whole, order);
    const TensorInfo view = leading.empty() ? t : indexLeading(t, leading);
    v.leading = std::move(leading);
    v.shape = view.shape;
    v.values = readValues(doc, view, kShownValues, dtypeIsComplex(t.dtype) ? &v.imag : nullptr, &v.error);
    v.columns = view.shape.empty() ? 1 : static_cast<int>(std::clamp<int64_t>(view.shape.back(), 1, 64));
    return v;
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

TensorPanel::TensorPanel(QWidget *parent)
    : QWidget(parent)
    , m_jobs(new JobTracker(this))
    , m_progressTimer(new QTimer(this))
    , m_title(new QLabel(this))
    , m_info(new QLabel(this))
    , m_stats(new QLabel(this))
    , m_histogram(new HistogramPlot(this))
    , m_heatmapJobs(new JobTracker(this))
    , m_heatmap(new HeatmapPlot(this))
    , m_plotKind(new QComboBox(this))
    , m_reduction(new QComboBox(this))
    , m_layout(new QComboBox(this))
    , m_log(new QCheckBox(tr("log |value|"), this))
    , m_plots(new QStackedWidget(this))
    , m_slice(new QWidget(this))
    , m_values(new QTableWidget(this))
{
    m_progressTimer->setInterval(100);
    connect(m_progressTimer, &QTimer::timeout, this, &TensorPanel::showProgress);
    auto *layout = new QVBoxLayout(this);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    m_title->setFont(titleFont);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setWordWrap(true); // a long key wraps instead of widening the pane
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_info->setWordWrap(true);
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stats->setWordWrap(true);
    layout->addWidget(m_title);
    layout->addWidget(m_info);
    layout->addWidget(m_stats);

    m_values->setTabKeyNavigation(false); // Tab moves on; the arrows walk the cells
    m_values->setEditTriggers(QAbstractItemView::NoEditTriggers);
    new QHBoxLayout(m_slice);
    m_slice->layout()->setContentsMargins(0, 0, 0, 0);
    m_slice->hide();
    // Above the plot: which plot, and for a heatmap how its cells sum up their blocks.
    auto *plotArea = new QWidget(this);
    auto *plotColumn = new QVBoxLayout(plotArea);
    plotColumn->setContentsMargins(0, 0, 0, 0);
    auto *plotRow = new QHBoxLayout;
    m_plotKind->addItems({tr("Histogram"), tr("Heatmap")});
    m_plotKind->setToolTip(tr("The values' histogram, or the tensor (or its slice) as a picture"));
    m_reduction->addItems({tr("block mean"), tr("block max |x|")});
    m_reduction->setToolTip(tr("A cell of a large tensor's heatmap stands for a block of elements: their mean, or the "
                               "one of largest magnitude"));
    m_log->setToolTip(tr("Colour the magnitude on a logarithmic scale (zeros are left blank)"));
    plotRow->addWidget(m_plotKind);
    m_layout->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_reduction->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    plotRow->addWidget(m_layout);
    plotRow->addWidget(m_reduction);
    plotRow->addWidget(m_log);
    plotRow->addStretch(1);
    plotColumn->addLayout(plotRow);
    stylePlot(this, m_heatmap);
    m_heatmap->setMinimumHeight(160);
    m_plots->addWidget(m_histogram);
    m_plots->addWidget(m_heatmap);
    plotColumn->addWidget(m_plots, 1);
    layout->addWidget(plotAboveValues(this, m_histogram, m_values, m_slice, plotArea), 1);
    connect(m_plotKind, &QComboBox::currentIndexChanged, this, [this](int i) { showHeatmap(i == 1); });
    connect(m_reduction, &QComboBox::currentIndexChanged, this, &TensorPanel::startHeatmap);
    connect(m_layout, &QComboBox::currentIndexChanged, this, &TensorPanel::startHeatmap);
    connect(m_log, &QCheckBox::toggled, m_heatmap, &HeatmapPlot::setLogScale);
    showHeatmap(false);
    showTensor({}, -1);
}

// The tracker, a child, cancels the computation still running.
TensorPanel::~TensorPanel() = default;

bool TensorPanel::isComputing() const { return m_jobs->isRunning(); }

void TensorPanel::setDocument(std::shared_ptr<const Document> doc)
{
    m_doc = std::move(doc);
    showTensor({}, -1);
}

void TensorPanel::showProgress()
{
    if (!isComputing() || !m_progress || m_progressTotal == 0) {
        m_progressTimer->stop();
        return;
    }
    const uint64_t done = std::min(m_progress->load(), m_progressTotal);
    m_stats->setText(done >= m_progressTotal ? tr("Computing the histogram…")
                                             : tr("Computing statistics… %1% of %2 elements read")
                                                   .arg(static_cast<int>(100.0 * static_cast<double>(done) /
                                                                         static_cast<double>(m_progressTotal)))
                                                   .arg(QString::fromStdString(formatCount(m_progressTotal))));
}

void TensorPanel::clearStats(const QString &message)
{
    m_stats->setText(message);
    m_histogram->clear();
    m_values->clear();
    m_values->setRowCount(0);
    m_values->setColumnCount(0);
}

void TensorPanel::showTensor(const QString &key, int tensor)
{
    m_jobs->discard();
    m_heatmapJobs->discard();
    m_heatmap->clear();
    m_progressTimer->stop();
    m_tensor = -1;
    m_slice->hide();
    if (!m_doc || tensor < 0 || static_cast<size_t>(tensor) >= m_doc->tensors.size()) {
        m_title->setText(tr("No tensor selected"));
        m_info->setText(tr("Select a parameter, buffer or tensor in the tree to see its values."));
        clearStats({});
        return;
    }
    const TensorInfo &t = m_doc->tensors[static_cast<size_t>(tensor)];
    m_title->setText(key);
    m_info->setText(describe(key, t));
    if (!t.error.empty()) {
        clearStats(tr("Values cannot be read: %1").arg(QString::fromStdString(t.error)));
        return;
    }
    clearStats(tr("Computing statistics…"));
    m_tensor = tensor;
    m_rowDim = m_columnDim = -1; // the last two at first
    setUpSlice(t);
    startStats(tensor);
    startHeatmap();
}

void TensorPanel::showHeatmap(bool on)
{
    if (m_plotKind->currentIndex() != (on ? 1 : 0)) {
        m_plotKind->setCurrentIndex(on ? 1 : 0); // comes back here through the signal
        return;
    }
    m_plots->setCurrentWidget(on ? static_cast<QWidget *>(m_heatmap) : m_histogram);
    m_reduction->setVisible(on);
    m_layout->setVisible(on && m_layout->count() > 0);
    m_log->setVisible(on);
    startHeatmap();
}

// The shown tensor, or its chosen slice, reduced on a worker to about a cell per pixel.
void TensorPanel::startHeatmap()
{
    m_heatmapJobs->discard();
    if (!m_doc || m_tensor < 0 || m_plots->currentWidget() != m_heatmap)
        return;
    const TensorInfo &t = m_doc->tensors[static_cast<size_t>(m_tensor)];
    if (!t.error.empty()) {
        m_heatmap->clear();
        return;
    }
    const bool all = m_layout->currentIndex() == 1, tiled = all && t.shape.size() == 4;
    const std::vector<int64_t> leading = all ? std::vector<int64_t>{} : sliceIndices();
    const std::vector<size_t> order = all ? std::vector<size_t>{} : viewOrder();
    const int rows = std::clamp(m_heatmap->height(), 64, 1024), columns = std::clamp(m_heatmap->width(), 64, 1024);
    const GridReduction how = m_reduction->currentIndex() == 1 ? GridReduction::MaxAbs : GridReduction::Mean;
    // Across: the columns' dimension. Down: the rows' (a slice), or all before the last.
    const size_t dims = t.shape.size();
    const int down = m_rowDim >= 0 ? m_rowDim : static_cast<int>(dims) - 2,
              across = m_columnDim >= 0 ? m_columnDim : static_cast<int>(dims) - 1;
    const QString rowLabel = tiled      ? tr("output channel × kh")
                             : dims < 2 ? QString()
                             : all      ? tr("index 0…%1").arg(dims - 2)
                                        : tr("index %1").arg(down);
    const QString columnLabel = tiled ? tr("input channel × kw") : tr("index %1").arg(dims >= 1 ? across : 0);
    // Hovering names the element by its whole index, in the tensor's own order.
    const std::vector<int64_t> shape = t.shape;
    if (tiled) { // the view [out, kh, in, kw]
        m_heatmap->setIndexNamer([this, shape](int64_t r, int64_t c) {
            return elementIndex({r / shape[2], c / shape[3], r % shape[2], c % shape[3]});
        });
    } else if (all) { // rows: every dimension but the last, flattened
        m_heatmap->setIndexNamer([this, shape](int64_t r, int64_t c) {
            std::vector<int64_t> at(shape.size(), 0);
            if (!at.empty())
                at.back() = c;
            for (size_t d = shape.size() - 1; d-- > 0;) {
                at[d] = r % std::max<int64_t>(shape[d], 1);
                r /= std::max<int64_t>(shape[d], 1);
            }
            return elementIndex(at);
        });
    } else {
        m_heatmap->setIndexNamer([this, shape, leading, down, across](int64_t r, int64_t c) {
            std::vector<int64_t> at(shape.size(), 0);
            size_t next = 0;
            for (size_t d = 0; d < shape.size(); ++d)
                at[d] = static_cast<int>(d) == down     ? r
                        : static_cast<int>(d) == across ? c
                        : next < leading.size()         ? leading[next++]
                                                        : 0;
            if (shape.size() == 1)
                at[0] = c;
            return elementIndex(at);
        });
    }
    auto doc = m_doc;
    const int tensor = m_tensor;
    m_heatmapJobs->start(
        [doc, tensor, leading, order, rows, columns, how, tiled](const JobControl &job) {
            const TensorInfo &whole = doc->tensors[static_cast<size_t>(tensor)];
            const TensorInfo ordered = order.empty() ? whole : permuteDims(whole, order);
            const TensorInfo view = tiled             ? filtersTiled(whole)
                                    : leading.empty() ? ordered
                                                      : indexLeading(ordered, leading);
            return reduceToGrid(*doc, view, rows, columns, how, job.cancelFlag(), tiled ? 2 : 1);
        },
        [this, rowLabel, columnLabel](const TensorGrid &grid) {
            m_heatmap->setGrid(grid, rowLabel, columnLabel);
            emit heatmapReady();
        });
}

std::vector<int64_t> TensorPanel::sliceIndices() const
{
    std::vector<int64_t> at;
    for (const QSpinBox *box : m_sliceIndices)
        at.push_back(box->value());
    return at;
}

// The dimensions of the view the slice is read from: every other dimension in order, then
// the rows', then the columns'. Identity while they are the last two.
std::vector<size_t> TensorPanel::viewOrder() const
{
    if (!m_doc || m_tensor < 0 || m_rowDim < 0)
        return {};
    const size_t dims = m_doc->tensors[static_cast<size_t>(m_tensor)].shape.size();
    std::vector<size_t> order;
    for (size_t d = 0; d < dims; ++d)
        if (static_cast<int>(d) != m_rowDim && static_cast<int>(d) != m_columnDim)
            order.push_back(d);
    order.push_back(static_cast<size_t>(m_rowDim));
    order.push_back(static_cast<size_t>(m_columnDim));
    return order;
}

QString TensorPanel::elementIndex(const std::vector<int64_t> &at) const
{
    QStringList parts;
    for (int64_t i : at)
        parts << QString::number(i);
    return QStringLiteral("[%1]").arg(parts.join(QStringLiteral(", ")));
}

void TensorPanel::setSliceAxes(int rowDim, int columnDim)
{
    if (!m_doc || m_tensor < 0)
        return;
    const TensorInfo &t = m_doc->tensors[static_cast<size_t>(m_tensor)];
    const int dims = static_cast<int>(t.shape.size());
    if (dims < 3 || rowDim < 0 || columnDim < 0 || rowDim >= dims || columnDim >= dims)
        return;
    if (rowDim == columnDim) // the other one takes the place given up
        (rowDim == m_rowDim ? rowDim : columnDim) = rowDim == m_rowDim ? m_columnDim : m_rowDim;
    m_rowDim = rowDim;
    m_columnDim = columnDim;
    setUpSlice(t);
    showSlice();
}

// For a tensor of three or more dimensions: "values of [0, :, 1, :]", a spin box per index
// and a ":" for the rows' and the columns' dimensions, which two pickers choose.
void TensorPanel::setUpSlice(const TensorInfo &t)
{
    m_sliceIndices.clear(); // deleted with the layout's widgets
    const int dims = static_cast<int>(t.shape.size());
    if (dims < 3) {
        m_rowDim = m_columnDim = -1;
    } else if (m_rowDim < 0 || m_rowDim >= dims || m_columnDim >= dims) {
        m_rowDim = dims - 2;
        m_columnDim = dims - 1;
    }
    m_layout->blockSignals(true);
    m_layout->clear();
    if (t.shape.size() >= 3)
        m_layout->addItems({tr("the slice"), t.shape.size() == 4 ? tr("every filter, tiled") : tr("all, stacked")});
    m_layout->setToolTip(t.shape.size() == 4 ? tr("One slice, or every kh × kw filter as a tile: a row of tiles per "
                                                  "output channel, a column per input channel")
                                             : tr("One slice, or every slice one under the other"));
    m_layout->setVisible(m_plots->currentWidget() == m_heatmap && m_layout->count() > 0);
    m_layout->blockSignals(false);
    while (QLayoutItem *item = m_slice->layout()->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    if (dims < 3)
        return;
    auto *row = static_cast<QHBoxLayout *>(m_slice->layout());
    row->addWidget(new QLabel(tr("Values of ["), m_slice));
    for (int d = 0; d < dims; ++d) {
        if (d == m_rowDim || d == m_columnDim) {
            row->addWidget(new QLabel(QStringLiteral(":"), m_slice));
        } else {
            auto *box = new QSpinBox(m_slice);
            box->setRange(0, static_cast<int>(std::clamp<int64_t>(t.shape[size_t(d)] - 1, 0, INT_MAX)));
            box->setToolTip(tr("Index into dimension %1 (size %2)").arg(d).arg(t.shape[size_t(d)]));
            box->setAccessibleName(tr("Index into dimension %1").arg(d));
            box->setKeyboardTracking(false); // typing "12" reads one slice, not "1" then "12"
            connect(box, &QSpinBox::valueChanged, this, &TensorPanel::showSlice);
            m_sliceIndices.push_back(box);
            row->addWidget(box);
        }
        row->addWidget(new QLabel(d + 1 < dims ? QStringLiteral(",") : QStringLiteral("]"), m_slice));
    }
    // The two dimensions shown: rows and columns.
    for (int which = 0; which < 2; ++which) {
        row->addSpacing(8);
        row->addWidget(new QLabel(which == 0 ? tr("rows:") : tr("columns:"), m_slice));
        auto *axis = new QComboBox(m_slice);
        for (int d = 0; d < dims; ++d)
            axis->addItem(tr("dim %1 (%2)").arg(d).arg(t.shape[size_t(d)]));
        axis->setCurrentIndex(which == 0 ? m_rowDim : m_columnDim);
        axis->setAccessibleName(which == 0 ? tr("Dimension down the rows") : tr("Dimension across the columns"));
        axis->setToolTip(t.shape.size() == 4
                             ? tr("Which dimension the slice shows %1; for a conv weight, rows "
                                  "dim 0 and columns dim 1 show out × in at one kernel position")
                                   .arg(which == 0 ? tr("down") : tr("across"))
                             : tr("Which dimension the slice shows %1").arg(which == 0 ? tr("down") : tr("across")));
        connect(axis, &QComboBox::activated, this, [this, which](int d) {
            // Queued: the picker is deleted when the slice row is built again.
            QMetaObject::invokeMethod(
                this, [this, which, d] { setSliceAxes(which == 0 ? d : m_rowDim, which == 0 ? m_columnDim : d); },
                Qt::QueuedConnection);
        });
        row->addWidget(axis);
    }
    row->addStretch(1);
    m_slice->show();
}

// Reads the chosen slice (at most a few thousand values) and shows it.
void TensorPanel::showSlice()
{
    if (!m_doc || m_tensor < 0)
        return;
    SliceValues v = readSlice(*m_doc, m_doc->tensors[static_cast<size_t>(m_tensor)], viewOrder(), sliceIndices());
    fillValues(v);
    startHeatmap();
}

// Shape, strides, storage and who shares it, saved device, parameter or not.
QString TensorPanel::describe(const QString &key, const TensorInfo &t) const
{
    QStringList info;
    info << tr("%1 %2, %3, %4")
                .arg(QString::fromLatin1(dtypeName(t.dtype)), QString::fromStdString(shapeText(t.shape)))
                .arg(t.numel() == 1 ? tr("1 element") : tr("%1 elements").arg(t.numel()))
                .arg(QString::fromStdString(formatBytes(t.nbytes())));
    info << tr("strides %1, storage offset %2%3")
                .arg(QString::fromStdString(shapeText(t.strides)))
                .arg(t.storageOffset)
                .arg(t.layout == "strided" ? QString() : tr(", layout %1").arg(QString::fromStdString(t.layout)));
    if (t.storage >= 0) {
        const StorageInfo &s = m_doc->storages[static_cast<size_t>(t.storage)];
        QStringList sharing;
        for (const auto &e : m_doc->entries)
            if (e.key != key.toStdString() && m_doc->tensors[static_cast<size_t>(e.tensor)].storage == t.storage)
                sharing << QString::fromStdString(e.key);
        info << tr("saved on %1, bytes in %2 (%3)")
                    .arg(QString::fromStdString(s.location.str()), QString::fromStdString(m_doc->storageMember(s)),
                         QString::fromStdString(formatBytes(s.nbytes)));
        if (!sharing.isEmpty())
            info << tr("shares its storage with: %1").arg(sharing.join(QStringLiteral(", ")));
    }
    // torch.save of a module records which tensors are parameters; a state dict holds
    // plain tensors, so there it is simply not known.
    const QString kind = t.isParameter            ? tr("parameter")
                         : m_doc->modules.empty() ? tr("a plain tensor (a state dict does not record whether it was "
                                                       "a parameter or a buffer)")
                                                  : tr("not a parameter (a buffer or a plain tensor)");
    info << kind + (t.requiresGrad ? tr(", requires grad") : QString());
    return info.join(QLatin1Char('\n'));
}

void TensorPanel::startStats(int tensor)
{
    const TensorInfo &t = m_doc->tensors[static_cast<size_t>(tensor)];
    auto progress = std::make_shared<std::atomic<uint64_t>>(0);
    m_progress = progress;
    m_progressTotal = static_cast<uint64_t>(std::max<int64_t>(t.numel(), 0));
    auto doc = m_doc;
    const std::vector<int64_t> leading = sliceIndices();
    const std::vector<size_t> order = viewOrder();
    m_jobs->start(
        [doc, tensor, progress, leading, order](const JobControl &job) {
            Computed c;
            const TensorInfo &t = doc->tensors[static_cast<size_t>(tensor)];
            c.stats = computeStats(*doc, t, job.cancelFlag(), progress.get());
            if (c.stats.ok && std::isfinite(c.stats.min) && std::isfinite(c.stats.max)) {
                c.lo = c.stats.min;
                c.hi = c.stats.max > c.stats.min ? c.stats.max : c.stats.min + 1;
                c.histogram = computeHistogram(*doc, t, c.lo, c.hi, 64, job.cancelFlag());
            }
            c.values = readSlice(*doc, t, order, leading);
            return c;
        },
        [this](const Computed &c) {
            m_progressTimer->stop();
            showComputed(c);
            emit statsReady();
        },
        [this](int, const QString &label) {
            // Only fetches from the Hub report here: the tensor's bytes arrive first.
            m_progressTimer->stop();
            m_stats->setText(label.isEmpty() ? tr("Fetching the values…") : label + QStringLiteral("…"));
        });
    if (m_progressTotal >= (uint64_t(1) << 24))
        m_progressTimer->start(); // a big tensor: say how far the reading is
}

void TensorPanel::showComputed(const Computed &c)
{
    const TensorStats &s = c.stats;
    if (!s.ok) {
        clearStats(tr("Values cannot be read: %1").arg(QString::fromStdString(s.error)));
        return;
    }
    if (s.count == 1) {
        // One value: it is the whole story (no spread, no histogram of one bar).
        m_stats->setText(tr("value %1").arg(c.values.imag.empty() ? number(s.min) : valueText(c.values, 0)));
        m_histogram->clear();
        showValues(c.values);
        return;
    }
    // A name and its number never part at a line break (U+00A0 between them).
    QString text = tr("min\u00a0%1   max\u00a0%2   mean\u00a0%3   std\u00a0%4   sum\u00a0%5\n"
                      "zeros\u00a0%6   NaN\u00a0%7   +Inf\u00a0%8   -Inf\u00a0%9")
                       .arg(number(s.min), number(s.max), number(s.mean), number(s.std), number(s.sum))
                       .arg(s.zeros)
                       .arg(s.nans)
                       .arg(s.posInfs)
                       .arg(s.negInfs);
    m_stats->setText(text);

    m_histogram->setCounts(c.histogram, c.lo, c.hi);

    showValues(c.values);
}

// The values computed with the statistics, unless another slice was chosen meanwhile.
void TensorPanel::showValues(const SliceValues &v)
{
    if (v.leading == sliceIndices())
        fillValues(v);
    else
        showSlice();
}

QString TensorPanel::valueText(const SliceValues &v, size_t i)
{
    QString text = number(v.values[i]);
    if (!v.imag.empty())
        text += (v.imag[i] < 0 ? QStringLiteral(" - ") : QStringLiteral(" + ")) + number(std::fabs(v.imag[i])) +
                QStringLiteral("j");
    return text;
}

// The first values, a row per index of the leading dimensions and a column per index of
// the last, counted from 0 as in PyTorch; rows of a slice carry the slice's indices too.
// A 1-D tensor, or a last dimension too wide for the table, is cut in rows named by the
// index of their first element.
void TensorPanel::fillValues(const SliceValues &v)
{
    const int cols = v.columns;
    const int rows = static_cast<int>((v.values.size() + static_cast<size_t>(cols) - 1) / static_cast<size_t>(cols));
    m_values->clear();
    m_values->setColumnCount(cols);
    m_values->setRowCount(rows);
    const bool byLastDim = v.shape.size() >= 2 && v.shape.back() == cols;
    QStringList columnNames, rowNames;
    for (int col = 0; col < cols; ++col)
        columnNames << (byLastDim ? QString::number(col) : QStringLiteral("+%1").arg(col));
    const std::vector<size_t> order = viewOrder();
    const bool reordered =
        byLastDim && !order.empty() &&
        (m_rowDim != static_cast<int>(order.size()) - 2 || m_columnDim != static_cast<int>(order.size()) - 1);
    for (int row = 0; reordered && row < rows; ++row) {
        // The whole index in the tensor's order, ":" across the columns' dimension.
        QStringList parts;
        size_t next = 0;
        for (size_t d = 0; d < order.size(); ++d)
            parts << (static_cast<int>(d) == m_columnDim ? QStringLiteral(":")
                      : static_cast<int>(d) == m_rowDim  ? QString::number(row)
                                                         : QString::number(v.leading[next++]));
        rowNames << parts.join(QLatin1Char(','));
    }
    for (int row = 0; !reordered && row < rows; ++row) {
        // The index of the row's first element, in every dimension.
        std::vector<int64_t> at(v.shape.size(), 0);
        int64_t flat = static_cast<int64_t>(row) * cols;
        for (size_t d = v.shape.size(); d-- > 0;) {
            const int64_t size = std::max<int64_t>(v.shape[d], 1);
            at[d] = flat % size;
            flat /= size;
        }
        if (byLastDim)
            at.pop_back();
        at.insert(at.begin(), v.leading.begin(), v.leading.end());
        QStringList parts;
        for (int64_t i : at)
            parts << QString::number(i);
        rowNames << (parts.isEmpty() ? QStringLiteral("0") : parts.join(QLatin1Char(',')));
    }
    m_values->setHorizontalHeaderLabels(columnNames);
    m_values->setVerticalHeaderLabels(rowNames);
    for (size_t i = 0; i < v.values.size(); ++i)
        m_values->setItem(static_cast<int>(i) / cols, static_cast<int>(i) % cols,
                          new QTableWidgetItem(valueText(v, i)));
    m_values->resizeColumnsToContents();
    if (!v.error.empty())
        m_values->setToolTip(tr("Values cannot be read: %1").arg(QString::fromStdString(v.error)));
    else
        m_values->setToolTip({});
}

} // namespace te
