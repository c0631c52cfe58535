// The tensor panel computes statistics off the GUI thread and shows PyTorch's numbers.
#include "widgets/tensorpanel.h"

#include "core/formats/documentreader.h"
#include "core/stats/tensorstats.h"
#include "widgets/heatmapplot.h"
#include "widgets/histogramplot.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>
#include <qcustomplot.h>

using namespace te;

namespace {

// The tensor behind a document key, or -1.
int tensorOf(const Document &doc, const char *key)
{
    for (const auto &e : doc.entries)
        if (e.key == key)
            return e.tensor;
    return -1;
}

} // namespace

class TestTensorPanel : public QObject {
    Q_OBJECT
private slots:
    void showsStatistics()
    {
        std::shared_ptr<const Document> doc = readDocument(std::string(TE_FIXTURES_DIR) + "/dtypes.pt");
        const int tensor = tensorOf(*doc, "transposed");
        QVERIFY(tensor >= 0);
        TensorPanel panel;
        panel.setDocument(doc);
        QSignalSpy ready(&panel, &TensorPanel::statsReady);
        panel.showTensor(QStringLiteral("transposed"), tensor);
        QVERIFY(panel.isComputing());
        QVERIFY(ready.wait(10000));
        QVERIFY(!panel.isComputing());
        // arange(12) viewed transposed: sum 66, the table walks the strides (0, 4, 8 first)
        bool found = false;
        for (QLabel *l : panel.findChildren<QLabel *>())
            found = found || l->text().contains(QStringLiteral("sum\u00a066"));
        QVERIFY(found);
        auto *table = panel.findChild<QTableWidget *>();
        QVERIFY(table);
        QCOMPARE(table->columnCount(), 3);
        QCOMPARE(table->item(0, 1)->text(), QStringLiteral("4"));
        QCOMPARE(table->item(1, 0)->text(), QStringLiteral("1"));
        // Rows and columns are indices counted from 0, as in PyTorch: [3, 4] viewed as [4, 3].
        QCOMPARE(table->horizontalHeaderItem(0)->text(), QStringLiteral("0"));
        QCOMPARE(table->horizontalHeaderItem(2)->text(), QStringLiteral("2"));
        QCOMPARE(table->verticalHeaderItem(0)->text(), QStringLiteral("0"));
        QCOMPARE(table->verticalHeaderItem(3)->text(), QStringLiteral("3"));
    }

    // A 0-d tensor is one value: shown as such, with no spread and no one-bar histogram;
    // choosing something that is not a tensor leaves no plot behind.
    void scalarTensorIsOneValue()
    {
        std::shared_ptr<const Document> doc = readDocument(std::string(TE_FIXTURES_DIR) + "/state_dict.pt");
        const int scalar = tensorOf(*doc, "bn.num_batches_tracked"), weight = tensorOf(*doc, "conv.weight");
        QVERIFY(scalar >= 0 && weight >= 0);
        TensorPanel panel;
        panel.setDocument(doc);
        QSignalSpy ready(&panel, &TensorPanel::statsReady);
        auto shows = [&panel](const QString &text) {
            for (QLabel *l : panel.findChildren<QLabel *>())
                if (l->text().contains(text))
                    return true;
            return false;
        };
        auto *plot = panel.findChild<HistogramPlot *>();
        QVERIFY(plot);
        panel.showTensor(QStringLiteral("conv.weight"), weight);
        QVERIFY(ready.wait(10000));
        QCOMPARE(plot->plottableCount(), 1);
        QCOMPARE(panel.findChild<QTableWidget *>()->verticalHeaderItem(1)->text(), QStringLiteral("0,0,1"));
        panel.showTensor(QStringLiteral("bn.num_batches_tracked"), scalar);
        QVERIFY(ready.wait(10000));
        QVERIFY(shows(QStringLiteral("value ")));
        QVERIFY(!shows(QStringLiteral("std")));
        QCOMPARE(plot->plottableCount(), 0);
        panel.showTensor(QStringLiteral("conv.weight"), weight);
        QVERIFY(ready.wait(10000));
        panel.showTensor(QStringLiteral("conv"), -1); // a group
        QCOMPARE(plot->plottableCount(), 0);
        QCOMPARE(plot->yAxis->range().upper, 1.0);
    }

    // A 4-D weight shows one 3x3 slice at a time, chosen with a spin box per leading
    // dimension driven by the keyboard; its rows carry the whole index. A 2-D tensor has
    // no slice to choose.
    void sliceOfLeadingDimensions()
    {
        std::shared_ptr<const Document> doc = readDocument(std::string(TE_FIXTURES_DIR) + "/state_dict.pt");
        const int weight = tensorOf(*doc, "conv.weight"), matrix = tensorOf(*doc, "fc.weight");
        QVERIFY(weight >= 0 && matrix >= 0);
        const std::vector<double> whole = readValues(*doc, doc->tensors[static_cast<size_t>(weight)], 1000);
        QCOMPARE(whole.size(), size_t(8 * 3 * 3 * 3));
        TensorPanel panel;
        panel.setDocument(doc);
        panel.show();
        QSignalSpy ready(&panel, &TensorPanel::statsReady);
        panel.showTensor(QStringLiteral("conv.weight"), weight);
        QVERIFY(ready.wait(10000));
        const QList<QSpinBox *> boxes = panel.findChildren<QSpinBox *>();
        QCOMPARE(boxes.size(), 2);
        QVERIFY(boxes[0]->isVisible());
        QCOMPARE(boxes[0]->maximum(), 7);
        QCOMPARE(boxes[1]->maximum(), 2);
        auto *table = panel.findChild<QTableWidget *>();
        auto shows = [&](int out, int in) {
            QCOMPARE(table->rowCount(), 3);
            QCOMPARE(table->columnCount(), 3);
            QCOMPARE(table->verticalHeaderItem(2)->text(), QStringLiteral("%1,%2,2").arg(out).arg(in));
            for (int r = 0; r < 3; ++r)
                for (int c = 0; c < 3; ++c)
                    QCOMPARE(table->item(r, c)->text(),
                             QString::number(whole[static_cast<size_t>(((out * 3 + in) * 3 + r) * 3 + c)], 'g', 6));
        };
        shows(0, 0);
        boxes[0]->setFocus();
        QTest::keyClick(boxes[0], Qt::Key_Up);
        QTest::keyClick(boxes[0], Qt::Key_Up);
        QCOMPARE(panel.sliceIndices(), (std::vector<int64_t>{2, 0}));
        shows(2, 0);
        QTest::keyClick(boxes[1], Qt::Key_Up);
        QTest::keyClick(boxes[1], Qt::Key_Up);
        QTest::keyClick(boxes[1], Qt::Key_Up); // stays at the last index
        shows(2, 2);
        panel.showTensor(QStringLiteral("fc.weight"), matrix);
        QVERIFY(ready.wait(10000));
        QVERIFY(panel.findChildren<QSpinBox *>().isEmpty());
        QVERIFY(panel.sliceIndices().empty());
    }

    // The heatmap shows the slice the spin boxes choose, chosen from the keyboard; hovering
    // a cell names it; the log option colours magnitudes on a log scale.
    void heatmapOfTheSlice()
    {
        std::shared_ptr<const Document> doc = readDocument(std::string(TE_FIXTURES_DIR) + "/state_dict.pt");
        const int weight = tensorOf(*doc, "conv.weight");
        QVERIFY(weight >= 0);
        const std::vector<double> whole = readValues(*doc, doc->tensors[static_cast<size_t>(weight)], 1000);
        TensorPanel panel;
        panel.resize(600, 700);
        panel.setDocument(doc);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QSignalSpy heat(&panel, &TensorPanel::heatmapReady);
        panel.showTensor(QStringLiteral("conv.weight"), weight);
        QVERIFY(!heat.wait(300)); // the histogram is shown: no heatmap is computed
        QComboBox *kind = nullptr;
        for (QComboBox *c : panel.findChildren<QComboBox *>())
            if (c->findText(QStringLiteral("Heatmap")) >= 0)
                kind = c;
        QVERIFY(kind && kind->currentText() == QStringLiteral("Histogram"));
        kind->setFocus();
        QTest::keyClick(kind, Qt::Key_Down);
        QCOMPARE(kind->currentText(), QStringLiteral("Heatmap"));
        QVERIFY(heat.wait(10000));
        HeatmapPlot *map = panel.heatmap();
        QVERIFY(map->isVisible());
        auto slice = [&](int out, int in) {
            return std::vector<double>(whole.begin() + (out * 3 + in) * 9, whole.begin() + (out * 3 + in + 1) * 9);
        };
        QCOMPARE(map->grid().rows, int64_t(3));
        QCOMPARE(map->grid().columns, int64_t(3));
        QCOMPARE(map->grid().cells, slice(0, 0));
        QSpinBox *first = panel.findChildren<QSpinBox *>().front();
        QTest::keyClick(first, Qt::Key_Up);
        QVERIFY(heat.wait(10000));
        QCOMPARE(map->grid().cells, slice(1, 0));
        // The centre of the picture is row 1, column 1 of the slice: element [1, 0, 1, 1].
        map->replot();
        const QPointF centre(map->xAxis->coordToPixel(1.0), map->yAxis->coordToPixel(1.0));
        QCOMPARE(map->describeAt(centre), QStringLiteral("[1, 0, 1, 1]: %1").arg(slice(1, 0)[4], 0, 'g', 6));
        QVERIFY(map->describeAt(QPointF(-5, -5)).isEmpty());
        // Every filter tiled: a row of 3x3 tiles per output channel, a column per input channel.
        QComboBox *layout = nullptr;
        for (QComboBox *c : panel.findChildren<QComboBox *>())
            if (c->findText(QStringLiteral("every filter, tiled")) >= 0)
                layout = c;
        QVERIFY(layout && layout->isVisible());
        layout->setFocus();
        QTest::keyClick(layout, Qt::Key_Down);
        QVERIFY(heat.wait(10000));
        QCOMPARE(map->grid().rows, int64_t(8 * 3));
        QCOMPARE(map->grid().columns, int64_t(3 * 3));
        for (int o : {0, 5, 7})
            for (int i = 0; i < 3; ++i)
                for (int h = 0; h < 3; ++h)
                    for (int w = 0; w < 3; ++w)
                        QCOMPARE(map->grid().cells[static_cast<size_t>((o * 3 + h) * 9 + i * 3 + w)],
                                 whole[static_cast<size_t>(((o * 3 + i) * 3 + h) * 3 + w)]);
        QCOMPARE(map->xAxis->label(), QStringLiteral("input channel × kw"));
        // Hovering a tile names the filter's element: row 5*3+1, column 2*3+0 is [5, 2, 1, 0].
        map->replot();
        QCOMPARE(map->describeAt(QPointF(map->xAxis->coordToPixel(6.0), map->yAxis->coordToPixel(16.0))),
                 QStringLiteral("[5, 2, 1, 0]: %1").arg(whole[((5 * 3 + 2) * 3 + 1) * 3 + 0], 0, 'g', 6));
        QCOMPARE(map->colorScale()->dataScaleType(), QCPAxis::stLinear);
        QTest::mouseClick(panel.findChild<QCheckBox *>(), Qt::LeftButton);
        QCOMPARE(map->colorScale()->dataScaleType(), QCPAxis::stLogarithmic);

        // Out × in at one kernel position: rows dim 0, columns dim 1, indices for kh and kw.
        QTest::keyClick(layout, Qt::Key_Up); // back to the slice
        QVERIFY(heat.wait(10000));
        panel.setSliceAxes(0, 1);
        QVERIFY(heat.wait(10000));
        QCOMPARE(panel.sliceIndices(), (std::vector<int64_t>{0, 0}));
        QSpinBox *kh = panel.findChildren<QSpinBox *>().front();
        QTest::keyClick(kh, Qt::Key_Up);
        QVERIFY(heat.wait(10000));
        QCOMPARE(panel.sliceIndices(), (std::vector<int64_t>{1, 0}));
        QCOMPARE(map->grid().rows, int64_t(8));
        QCOMPARE(map->grid().columns, int64_t(3));
        for (int o = 0; o < 8; ++o)
            for (int i = 0; i < 3; ++i)
                QCOMPARE(map->grid().cells[static_cast<size_t>(o * 3 + i)],
                         whole[static_cast<size_t>(((o * 3 + i) * 3 + 1) * 3 + 0)]);
        QCOMPARE(map->yAxis->label(), QStringLiteral("index 0"));
        map->replot();
        QCOMPARE(map->describeAt(QPointF(map->xAxis->coordToPixel(2.0), map->yAxis->coordToPixel(6.0))),
                 QStringLiteral("[6, 2, 1, 0]: %1").arg(whole[((6 * 3 + 2) * 3 + 1) * 3 + 0], 0, 'g', 6));
        // The table shows the same slice, each row named by its whole index.
        QTableWidget *values = panel.findChild<QTableWidget *>();
        QCOMPARE(values->rowCount(), 8);
        QCOMPARE(values->verticalHeaderItem(6)->text(), QStringLiteral("6,:,1,0"));
        QCOMPARE(values->item(6, 2)->text(), QString::number(whole[((6 * 3 + 2) * 3 + 1) * 3 + 0], 'g', 6));
        // Choosing for the columns the rows' dimension swaps the two.
        panel.setSliceAxes(1, 1);
        QCOMPARE(panel.sliceRowDim(), 1);
        QCOMPARE(panel.sliceColumnDim(), 0);
    }

    void newerSelectionWins()
    {
        std::shared_ptr<const Document> doc = readDocument(std::string(TE_FIXTURES_DIR) + "/dtypes.pt");
        TensorPanel panel;
        panel.setDocument(doc);
        QSignalSpy ready(&panel, &TensorPanel::statsReady);
        panel.showTensor(QStringLiteral("a"), doc->entries.front().tensor);
        panel.showTensor(QStringLiteral("none"), -1);
        QVERIFY(!panel.isComputing());
        QTest::qWait(300);
        QCOMPARE(ready.count(), 0); // the stale result was dropped
    }
};

QTEST_MAIN(TestTensorPanel)
#include "tst_tensorpanel.moc"
