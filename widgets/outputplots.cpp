#include "widgets/outputplots.h"

#include <QCoreApplication>
#include <QHeaderView>
#include <QTableWidget>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <qcustomplot.h>

namespace te {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("te::RunPanel", text); }

std::vector<double> softmax(const std::vector<double> &v)
{
    const double top = *std::max_element(v.begin(), v.end());
    std::vector<double> p(v.size());
    double z = 0;
    for (size_t i = 0; i < v.size(); ++i)
        z += (p[i] = std::exp(v[i] - top));
    for (double &x : p)
        x /= z;
    return p;
}

// The other run's output when it can be drawn beside this one: same shape, all values.
const OutputValue *comparable(const OutputValue &a, const OutputValue *b)
{
    return b && b->isTensor && b->shape == a.shape && b->values.size() == a.values.size() ? b : nullptr;
}

QCPBars *addBars(QCustomPlot *plot, const QVector<double> &keys, const QVector<double> &values, const QColor &colour,
                 const QString &name)
{
    auto *bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setData(keys, values, true);
    bars->setBrush(colour);
    bars->setPen(Qt::NoPen);
    bars->setName(name);
    return bars;
}

QColor secondColour(const QCustomPlot *plot)
{
    return plot->palette().color(QPalette::Text).lightness() > 128 ? QColor(255, 160, 60) : QColor(200, 90, 0);
}

void plotHeatmap(QCustomPlot *plot, const std::vector<double> &v, int64_t rows, int64_t columns)
{
    auto *map = new QCPColorMap(plot->xAxis, plot->yAxis);
    map->data()->setSize(static_cast<int>(columns), static_cast<int>(rows));
    map->data()->setRange(QCPRange(0, static_cast<double>(columns - 1)), QCPRange(0, static_cast<double>(rows - 1)));
    for (int64_t y = 0; y < rows; ++y)
        for (int64_t x = 0; x < columns; ++x)
            map->data()->setCell(static_cast<int>(x), static_cast<int>(y), v[static_cast<size_t>(y * columns + x)]);
    map->setGradient(QCPColorGradient::gpThermal);
    map->rescaleDataRange();
    plot->rescaleAxes();
}

// The five most likely classes (of A) as horizontal softmax bars, the best on top, each
// named on the axis ("circle (0)") with its probability at the end of the bar; with B, its
// probabilities of the same classes beside them. The whole distribution is in the table.
void plotClasses(QCustomPlot *plot, const std::vector<double> &a, const std::vector<double> *b, const Labels &labels,
                 const QString &nameA, const QString &nameB)
{
    const std::vector<double> p = softmax(a);
    std::vector<size_t> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return p[x] > p[y]; });
    order.resize(std::min<size_t>(5, order.size()));
    const std::vector<double> pb = b ? softmax(*b) : std::vector<double>();
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    QVector<double> keys, probs, probsB;
    for (size_t k = 0; k < order.size(); ++k) {
        const double key = static_cast<double>(order.size() - k); // the best on top
        const std::string &name = labels.name(static_cast<int64_t>(order[k]));
        ticker->addTick(key, name.empty() ? tr("class %1").arg(order[k])
                                          : QStringLiteral("%1 (%2)").arg(QString::fromStdString(name)).arg(order[k]));
        keys << key;
        probs << p[order[k]];
        if (b)
            probsB << pb[order[k]];
    }
    plot->yAxis->setTicker(ticker);
    plot->yAxis->setLabel(QString());
    plot->xAxis->setLabel(tr("probability (softmax)"));
    auto *barsA = new QCPBars(plot->yAxis, plot->xAxis); // keys up the side, values across
    barsA->setData(keys, probs, true);
    barsA->setBrush(plot->palette().color(QPalette::Highlight));
    barsA->setPen(Qt::NoPen);
    barsA->setName(nameA);
    barsA->setWidth(b ? 0.4 : 0.7);
    if (b) {
        auto *barsB = new QCPBars(plot->yAxis, plot->xAxis);
        barsB->setData(keys, probsB, true);
        barsB->setBrush(secondColour(plot));
        barsB->setPen(Qt::NoPen);
        barsB->setName(nameB);
        barsB->setWidth(0.4);
        auto *group = new QCPBarsGroup(plot);
        barsA->setBarsGroup(group);
        barsB->setBarsGroup(group);
        plot->legend->setVisible(true);
        plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    }
    for (size_t k = 0; k < order.size(); ++k) {
        auto *label = new QCPItemText(plot);
        label->position->setAxes(plot->xAxis, plot->yAxis);
        label->position->setCoords(probs[static_cast<int>(k)], keys[static_cast<int>(k)] - (b ? 0.2 : 0.0));
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        label->setPadding(QMargins(4, 0, 0, 0));
        label->setText(QStringLiteral("%1%").arg(100.0 * probs[static_cast<int>(k)], 0, 'f', 1));
        label->setColor(plot->palette().color(QPalette::Text));
    }
    plot->xAxis->setRange(0, 1.18); // room for the percentages
    plot->yAxis->setRange(0.4, static_cast<double>(order.size()) + 0.6);
}

// Bars for a few values, a line for many.
void plotSeries(QCustomPlot *plot, const std::vector<double> &v, const std::vector<double> *b, const QString &nameA,
                const QString &nameB)
{
    QVector<double> keys, values, valuesB;
    for (size_t i = 0; i < v.size(); ++i) {
        keys << static_cast<double>(i);
        values << v[i];
        if (b)
            valuesB << (*b)[i];
    }
    const QColor accent = plot->palette().color(QPalette::Highlight);
    if (v.size() <= 64) {
        QCPBars *barsA = addBars(plot, keys, values, accent, nameA);
        if (b) {
            auto *group = new QCPBarsGroup(plot);
            QCPBars *barsB = addBars(plot, keys, valuesB, secondColour(plot), nameB);
            barsA->setWidth(0.4);
            barsB->setWidth(0.4);
            barsA->setBarsGroup(group);
            barsB->setBarsGroup(group);
        }
    } else {
        QCPGraph *g = plot->addGraph();
        g->setData(keys, values, true);
        g->setPen(QPen(accent));
        g->setName(nameA);
        g->setAdaptiveSampling(true);
        if (b) {
            QCPGraph *gb = plot->addGraph();
            gb->setData(keys, valuesB, true);
            gb->setPen(QPen(secondColour(plot), 1, Qt::DashLine));
            gb->setName(nameB);
            gb->setAdaptiveSampling(true);
        }
    }
    plot->legend->setVisible(b != nullptr);
    plot->yAxis->setLabel(tr("value"));
    plot->xAxis->setLabel(tr("index"));
    plot->rescaleAxes();
}

QTableWidgetItem *numberItem(double v)
{
    auto *item = new QTableWidgetItem;
    item->setData(Qt::DisplayRole, v); // sorts as a number
    return item;
}

} // namespace

bool isClassScores(const OutputValue &o)
{
    std::vector<int64_t> dims;
    for (int64_t d : o.shape)
        if (d != 1)
            dims.push_back(d);
    return o.isTensor && dims.size() == 1 && dims[0] <= 100000 && dims[0] >= 2 && o.dtype.rfind("float", 0) == 0 &&
           static_cast<size_t>(dims[0]) == o.values.size();
}

void plotOutput(QCustomPlot *plot, const OutputValue &a, const OutputValue *b, const Labels &labels,
                const QString &nameA, const QString &nameB)
{
    b = comparable(a, b);
    std::vector<int64_t> dims;
    for (int64_t d : a.shape)
        if (d != 1)
            dims.push_back(d);
    const auto &v = a.values;
    plot->legend->setVisible(false);
    plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create()); // class names replace it
    if (dims.size() == 2 && v.size() == static_cast<size_t>(dims[0] * dims[1])) {
        if (b) { // an image, attention, a mask: what changed between the two
            std::vector<double> diff(v.size());
            for (size_t i = 0; i < v.size(); ++i)
                diff[i] = v[i] - b->values[i];
            plotHeatmap(plot, diff, dims[0], dims[1]);
            plot->xAxis->setLabel(tr("%1 − %2").arg(nameA, nameB));
        } else {
            plotHeatmap(plot, v, dims[0], dims[1]);
        }
    } else if (isClassScores(a)) {
        plotClasses(plot, v, b ? &b->values : nullptr, labels, nameA, nameB);
    } else {
        plotSeries(plot, v, b ? &b->values : nullptr, nameA, nameB);
    }
}

// A classifier's scores as a sortable list of class, name, value and softmax (of both
// runs); anything else as rows by leading index and columns by the last one, or, with a
// second run, a row per value with both and their difference.
void fillOutputValues(QTableWidget *table, const OutputValue &a, const OutputValue *b, const Labels &labels)
{
    b = comparable(a, b);
    const auto &v = a.values;
    table->setSortingEnabled(false);
    if (isClassScores(a)) {
        const std::vector<double> p = softmax(v);
        std::vector<double> pb;
        QStringList headers{tr("class"), tr("name"), tr("value"), tr("softmax")};
        if (b) {
            pb = softmax(b->values);
            headers << tr("value B") << tr("softmax B") << tr("softmax − B");
        }
        table->setColumnCount(static_cast<int>(headers.size()));
        table->setRowCount(static_cast<int>(v.size()));
        table->setHorizontalHeaderLabels(headers);
        table->verticalHeader()->hide();
        for (size_t i = 0; i < v.size(); ++i) {
            const int r = static_cast<int>(i);
            table->setItem(r, 0, numberItem(static_cast<double>(i)));
            table->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(labels.name(static_cast<int64_t>(i)))));
            table->setItem(r, 2, numberItem(v[i]));
            table->setItem(r, 3, numberItem(p[i]));
            if (b) {
                table->setItem(r, 4, numberItem(b->values[i]));
                table->setItem(r, 5, numberItem(pb[i]));
                table->setItem(r, 6, numberItem(p[i] - pb[i]));
            }
        }
        table->setColumnHidden(1, labels.names.empty());
        table->setSortingEnabled(true);
        table->sortByColumn(3, Qt::DescendingOrder);
        return;
    }
    table->setColumnHidden(1, false);
    if (b) {
        table->verticalHeader()->hide();
        table->setColumnCount(4);
        table->setRowCount(static_cast<int>(v.size()));
        table->setHorizontalHeaderLabels({tr("index"), tr("A"), tr("B"), tr("A − B")});
        for (size_t i = 0; i < v.size(); ++i) {
            const int r = static_cast<int>(i);
            table->setItem(r, 0, numberItem(static_cast<double>(i)));
            table->setItem(r, 1, numberItem(v[i]));
            table->setItem(r, 2, numberItem(b->values[i]));
            table->setItem(r, 3, numberItem(v[i] - b->values[i]));
        }
        table->setSortingEnabled(true);
        return;
    }
    table->verticalHeader()->show();
    const int cols = a.shape.empty() ? 1 : static_cast<int>(std::clamp<int64_t>(a.shape.back(), 1, 32));
    const int rows = static_cast<int>((v.size() + static_cast<size_t>(cols) - 1) / static_cast<size_t>(cols));
    table->setColumnCount(cols);
    table->setRowCount(rows);
    QStringList columnNames, rowNames;
    for (int c = 0; c < cols; ++c)
        columnNames << QString::number(c);
    // A row per index of the leading dimensions (flattened), or, when the last dimension is
    // cut in rows, the index of the row's first element.
    const bool byLastDim = a.shape.size() >= 2 && a.shape.back() == cols;
    for (int r = 0; r < rows; ++r)
        rowNames << QString::number(byLastDim ? r : static_cast<int64_t>(r) * cols);
    table->setHorizontalHeaderLabels(columnNames);
    table->setVerticalHeaderLabels(rowNames);
    for (size_t i = 0; i < v.size(); ++i)
        table->setItem(static_cast<int>(i) / cols, static_cast<int>(i) % cols,
                       new QTableWidgetItem(QString::number(v[i], 'g', 6)));
}

} // namespace te
