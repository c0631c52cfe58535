#include "widgets/layersview.h"

#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/runtime/runcomparison.h"
#include "core/stats/valuegrid.h"
#include "widgets/heatmapplot.h"
#include "widgets/histogramplot.h"
#include "widgets/plotlayout.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

namespace te {

namespace {

enum Column { Index, Layer, Type, Shape, Mean, Std, Min, Max, NaNs, Infs, Columns };

QColor alarmColor() { return QColor(220, 50, 47); }

const std::vector<LayerOutput> &noLayers()
{
    static const std::vector<LayerOutput> none;
    return none;
}

QTableWidgetItem *numberItem(double v)
{
    auto *item = new QTableWidgetItem;
    item->setData(Qt::DisplayRole, v); // sorts as a number
    item->setText(QString::number(v, 'g', 5));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

// "torch.nn.modules.conv.Conv2d" -> "Conv2d"
QString shortType(const std::string &type)
{
    const size_t dot = type.rfind('.');
    return QString::fromStdString(dot == std::string::npos ? type : type.substr(dot + 1));
}

} // namespace

LayersView::LayersView(QWidget *parent)
    : QWidget(parent)
    , m_layers(&noLayers())
    , m_summary(new QLabel(this))
    , m_log(new QCheckBox(tr("Log scale (magnitudes)"), this))
    , m_plot(new QCustomPlot(this))
    , m_table(new QTableWidget(0, Columns, this))
    , m_plotKind(new QComboBox(this))
    , m_detail(new QLabel(this))
    , m_plots(new QStackedWidget(this))
    , m_histogram(new HistogramPlot(this))
    , m_heatmap(new HeatmapPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *top = new QHBoxLayout;
    m_summary->setWordWrap(true);
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    top->addWidget(m_summary, 1);
    m_log->setToolTip(tr("Plot the largest magnitude and the standard deviation on a log scale, to see where "
                         "values explode or vanish"));
    top->addWidget(m_log);
    layout->addLayout(top);

    stylePlot(this, m_plot);
    stylePlot(this, m_histogram);
    stylePlot(this, m_heatmap);
    m_plot->xAxis->setLabel(tr("layer (in the order it finished)"));
    m_plot->setMinimumHeight(120);
    // The legend in a row of its own above the plot, so it hides no layer.
    m_plot->plotLayout()->insertRow(0);
    m_plot->plotLayout()->addElement(0, 0, m_plot->legend);
    m_plot->plotLayout()->setRowStretchFactor(0, 0.001);
    m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    m_plot->legend->setBorderPen(Qt::NoPen);
    m_plot->legend->setBrush(Qt::NoBrush);
    m_plot->legend->setTextColor(palette().color(QPalette::Text));
    m_plot->legend->setMargins(QMargins(0, 0, 0, 0));

    m_table->setHorizontalHeaderLabels({tr("#"), tr("Layer"), tr("Type"), tr("Shape"), tr("Mean"), tr("Std"), tr("Min"),
                                        tr("Max"), tr("NaN"), tr("Inf")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setTabKeyNavigation(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->setWordWrap(false);

    auto *detail = new QWidget(this);
    auto *detailLayout = new QVBoxLayout(detail);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    auto *detailRow = new QHBoxLayout;
    m_plotKind->addItems({tr("Histogram"), tr("Heatmap")});
    m_plotKind->setToolTip(tr("How the chosen layer's output is shown"));
    detailRow->addWidget(m_plotKind);
    m_detail->setWordWrap(true);
    m_detail->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    detailRow->addWidget(m_detail, 1);
    detailLayout->addLayout(detailRow);
    m_plots->addWidget(m_histogram);
    m_plots->addWidget(m_heatmap);
    detailLayout->addWidget(m_plots, 1);

    auto *lower = new QSplitter(Qt::Horizontal, this);
    lower->addWidget(m_table);
    lower->addWidget(detail);
    lower->setSizes({560, 440}); // in proportion, whatever the width
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_plot);
    split->addWidget(lower);
    split->setSizes({400, 600});
    layout->addWidget(split, 1);

    connect(m_log, &QCheckBox::toggled, this, &LayersView::plotAlongLayers);
    connect(m_plotKind, &QComboBox::currentIndexChanged, this, [this](int kind) {
        m_plots->setCurrentIndex(kind);
        showLayer(selectedLayer());
    });
    connect(m_table, &QTableWidget::itemSelectionChanged, this, [this] { showLayer(selectedLayer()); });
    connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent *event) {
        if (m_layers->empty())
            return;
        const double x = m_plot->xAxis->pixelToCoord(event->position().x());
        selectLayer(std::clamp(static_cast<int>(std::lround(x)), 0, static_cast<int>(m_layers->size()) - 1));
    });
    clear(tr("Tick <i>Every layer</i> and run to see each layer's output."));
}

void LayersView::clear(const QString &why)
{
    m_owner.reset();
    m_layers = &noLayers();
    m_firstNonFinite = -1;
    m_summary->setText(why);
    m_table->setRowCount(0);
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_plot->replot();
    m_histogram->clear();
    m_heatmap->clear();
    m_detail->clear();
}

void LayersView::setLayers(std::shared_ptr<const std::vector<LayerOutput>> layers, const QString &note)
{
    m_owner = std::move(layers);
    m_layers = m_owner ? m_owner.get() : &noLayers();
    m_firstNonFinite = firstNonFiniteLayer(*m_layers);
    QString summary = tr("%n layer output(s)", nullptr, static_cast<int>(m_layers->size()));
    if (m_firstNonFinite >= 0) {
        const LayerOutput &l = (*m_layers)[static_cast<size_t>(m_firstNonFinite)];
        summary += tr(" · <span style='color:%1'><b>first NaN or Inf: %2</b> (%3, #%4)</span>")
                       .arg(alarmColor().name(), QString::fromStdString(l.path).toHtmlEscaped(), shortType(l.type))
                       .arg(m_firstNonFinite);
    } else if (!m_layers->empty()) {
        summary += tr(" · no NaN or Inf in any of them");
    }
    if (!note.isEmpty())
        summary += QStringLiteral("<br>") + note.toHtmlEscaped();
    m_summary->setText(summary);

    m_table->setSortingEnabled(false);
    m_table->setRowCount(static_cast<int>(m_layers->size()));
    for (size_t i = 0; i < m_layers->size(); ++i) {
        const LayerOutput &l = (*m_layers)[i];
        const int r = static_cast<int>(i);
        m_table->setItem(r, Index, numberItem(static_cast<double>(i)));
        const bool first = r == m_firstNonFinite;
        auto *name = new QTableWidgetItem((first ? QStringLiteral("⚠ ") : QString()) + QString::fromStdString(l.path));
        name->setToolTip(QString::fromStdString(l.path));
        m_table->setItem(r, Layer, name);
        auto *type = new QTableWidgetItem(shortType(l.type));
        type->setToolTip(QString::fromStdString(l.type));
        m_table->setItem(r, Type, type);
        m_table->setItem(r, Shape, new QTableWidgetItem(QString::fromStdString(shapeText(l.shape) + " " + l.dtype)));
        // A layer of NaN and infinities only has no statistics: NaN, shown as such.
        const double none = std::nan("");
        const bool finite = l.nans + l.infs < l.numel;
        const double stats[] = {finite ? l.mean : none, finite ? l.std : none, finite ? l.min : none,
                                finite ? l.max : none};
        for (int c = Mean; c <= Max; ++c)
            m_table->setItem(r, c, numberItem(stats[c - Mean]));
        m_table->setItem(r, NaNs, numberItem(static_cast<double>(l.nans)));
        m_table->setItem(r, Infs, numberItem(static_cast<double>(l.infs)));
        if (l.nans || l.infs) {
            for (int c = 0; c < Columns; ++c) {
                m_table->item(r, c)->setForeground(alarmColor());
                if (first) {
                    QFont bold = m_table->item(r, c)->font();
                    bold.setBold(true);
                    m_table->item(r, c)->setFont(bold);
                }
            }
        }
    }
    m_table->resizeColumnsToContents();
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(Index, Qt::AscendingOrder);
    plotAlongLayers();
    if (!m_layers->empty())
        selectLayer(m_firstNonFinite >= 0 ? m_firstNonFinite : 0);
}

void LayersView::plotAlongLayers()
{
    m_plot->clearPlottables();
    m_plot->clearItems();
    if (m_layers->empty()) {
        m_plot->replot();
        return;
    }
    const bool log = m_log->isChecked();
    const QColor accent = palette().color(QPalette::Highlight);
    QVector<double> keys, mean, low, high, min, max, magnitude, spread;
    for (size_t i = 0; i < m_layers->size(); ++i) {
        const LayerOutput &l = (*m_layers)[i];
        keys << static_cast<double>(i);
        if (l.nans + l.infs >= l.numel) { // no finite value: a gap in every line
            const double gap = std::nan("");
            mean << gap;
            low << gap;
            high << gap;
            min << gap;
            max << gap;
            magnitude << gap;
            spread << gap;
            continue;
        }
        mean << l.mean;
        low << l.mean - l.std;
        high << l.mean + l.std;
        min << l.min;
        max << l.max;
        // Zero has no place on a log axis: the smallest positive double stands in.
        magnitude << std::max({std::abs(l.min), std::abs(l.max), 1e-30});
        spread << std::max(l.std, 1e-30);
    }
    auto addLine = [&](const QVector<double> &values, const QColor &colour, const QString &name, Qt::PenStyle style) {
        QCPGraph *g = m_plot->addGraph();
        g->setData(keys, values, true);
        g->setPen(QPen(colour, 1.5, style));
        g->setName(name);
        return g;
    };
    if (log) {
        m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
        addLine(magnitude, accent, tr("largest |value|"), Qt::SolidLine);
        addLine(spread, palette().color(QPalette::Text), tr("std"), Qt::DashLine);
        m_plot->yAxis->setLabel(tr("magnitude"));
    } else {
        m_plot->yAxis->setScaleType(QCPAxis::stLinear);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
        QCPGraph *lo = addLine(low, Qt::transparent, tr("mean − std"), Qt::SolidLine);
        QCPGraph *hi = addLine(high, Qt::transparent, tr("mean ± std"), Qt::SolidLine);
        QColor band = accent;
        band.setAlpha(60);
        hi->setBrush(band);
        hi->setChannelFillGraph(lo);
        lo->removeFromLegend();
        addLine(mean, accent, tr("mean"), Qt::SolidLine);
        addLine(min, palette().color(QPalette::Text), tr("min"), Qt::DotLine);
        addLine(max, palette().color(QPalette::Text), tr("max"), Qt::DashLine);
        m_plot->yAxis->setLabel(tr("value"));
    }
    for (int g = 0; g < m_plot->graphCount(); ++g)
        m_plot->graph(g)->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
    m_plot->rescaleAxes();
    m_plot->xAxis->setRange(-0.5, static_cast<double>(m_layers->size()) - 0.5);
    if (m_firstNonFinite >= 0) {
        auto *marker = new QCPItemStraightLine(m_plot);
        marker->point1->setCoords(m_firstNonFinite, 0);
        marker->point2->setCoords(m_firstNonFinite, 1);
        marker->point1->setTypeY(QCPItemPosition::ptAxisRectRatio);
        marker->point2->setTypeY(QCPItemPosition::ptAxisRectRatio);
        marker->setPen(QPen(alarmColor(), 2));
        auto *label = new QCPItemText(m_plot);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        label->position->setTypeY(QCPItemPosition::ptAxisRectRatio); // near the top, whatever the values
        label->position->setCoords(m_firstNonFinite + 0.1, 0.02);
        label->setText(tr("first NaN/Inf: %1")
                           .arg(QString::fromStdString((*m_layers)[static_cast<size_t>(m_firstNonFinite)].path)));
        label->setColor(alarmColor());
    }
    m_plot->legend->setVisible(true);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void LayersView::selectLayer(int index)
{
    for (int r = 0; r < m_table->rowCount(); ++r) {
        if (m_table->item(r, Index)->data(Qt::DisplayRole).toInt() == index) {
            m_table->selectRow(r);
            m_table->scrollToItem(m_table->item(r, Layer));
            return;
        }
    }
}

int LayersView::selectedLayer() const
{
    const auto rows = m_table->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return -1;
    return m_table->item(rows.front().row(), Index)->data(Qt::DisplayRole).toInt();
}

void LayersView::showLayer(int index)
{
    if (index < 0 || index >= static_cast<int>(m_layers->size())) {
        m_histogram->clear();
        m_heatmap->clear();
        m_detail->clear();
        return;
    }
    const LayerOutput &l = (*m_layers)[static_cast<size_t>(index)];
    QString text = tr("<b>%1</b> %2")
                       .arg(QString::fromStdString(l.path).toHtmlEscaped(), QString::fromStdString(shapeText(l.shape)));
    if (l.values.size() != l.numel) {
        m_detail->setText(text + tr(": its %1 values were not kept (the run keeps the first 64 MiB of outputs)")
                                     .arg(QString::fromStdString(formatCount(l.numel))));
        m_histogram->clear();
        m_heatmap->clear();
        return;
    }
    if (l.nans || l.infs)
        text += tr(" · <span style='color:%1'>%2 NaN and %3 Inf not drawn</span>")
                    .arg(alarmColor().name())
                    .arg(l.nans)
                    .arg(l.infs);
    if (m_plotKind->currentIndex() == 0) {
        const ValueHistogram h = histogramOfValues(l.values, 64);
        m_histogram->setCounts(h.counts, h.lo, h.hi);
        if (h.counts.empty())
            text += tr(": no finite value to count");
    } else {
        TensorGrid grid = gridOfValues(l.values, l.shape, 512, 512);
        if (grid.ok) {
            QStringList leading;
            for (size_t d = 0; d + 1 < l.shape.size(); ++d)
                leading << QString::number(l.shape[d]);
            m_heatmap->setGrid(std::move(grid),
                               leading.isEmpty() ? tr("row") : tr("row (%1 flattened)").arg(leading.join(QChar(0xd7))),
                               tr("last dimension"));
        } else {
            m_heatmap->clear();
            text += QStringLiteral(": ") + QString::fromStdString(grid.error);
        }
    }
    m_detail->setText(text);
}

} // namespace te
