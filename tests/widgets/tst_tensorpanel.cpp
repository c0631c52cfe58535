// The tensor panel computes statistics off the GUI thread and shows PyTorch's numbers.
#include "widgets/tensorpanel.h"

#include "core/formats/documentreader.h"

#include <QLabel>
#include <QSignalSpy>
#include <QTableWidget>
#include <QtTest>

using namespace te;

class TestTensorPanel : public QObject {
    Q_OBJECT
private slots:
    void showsStatistics()
    {
        std::shared_ptr<const Document> doc = readDocument(std::string(TE_FIXTURES_DIR) + "/dtypes.pt");
        int tensor = -1;
        for (const auto &e : doc->entries)
            if (e.key == "transposed")
                tensor = e.tensor;
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
            found = found || l->text().contains(QStringLiteral("sum 66"));
        QVERIFY(found);
        auto *table = panel.findChild<QTableWidget *>();
        QVERIFY(table);
        QCOMPARE(table->columnCount(), 3);
        QCOMPARE(table->item(0, 1)->text(), QStringLiteral("4"));
        QCOMPARE(table->item(1, 0)->text(), QStringLiteral("1"));
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
