#include "widgets/plotlayout.h"

#include <QHeaderView>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

namespace te {

void stylePlot(const QWidget *parent, QCustomPlot *plot)
{
    const QPalette pal = parent->palette();
    plot->setBackground(pal.brush(QPalette::Base));
    for (QCPAxis *axis : {plot->xAxis, plot->yAxis}) {
        axis->setBasePen(QPen(pal.color(QPalette::Text)));
        axis->setTickPen(QPen(pal.color(QPalette::Text)));
        axis->setSubTickPen(QPen(pal.color(QPalette::Text)));
        axis->setTickLabelColor(pal.color(QPalette::Text));
        axis->setLabelColor(pal.color(QPalette::Text));
    }
}

QSplitter *plotAboveValues(QWidget *parent, QCustomPlot *plot, QTableWidget *values, QWidget *overValues,
                           QWidget *plotArea)
{
    stylePlot(parent, plot);
    plot->setMinimumHeight(160);
    plot->setNoAntialiasingOnDrag(true);
    values->setEditTriggers(QAbstractItemView::NoEditTriggers);
    values->verticalHeader()->setDefaultSectionSize(values->fontMetrics().height() + 4);
    auto *split = new QSplitter(Qt::Vertical, parent);
    split->addWidget(plotArea ? plotArea : plot);
    if (overValues) {
        auto *pane = new QWidget(split);
        auto *column = new QVBoxLayout(pane);
        column->setContentsMargins(0, 0, 0, 0);
        column->addWidget(overValues);
        column->addWidget(values, 1);
        split->addWidget(pane);
    } else {
        split->addWidget(values);
    }
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    return split;
}

} // namespace te
