// The Run tab runs a fixture model offscreen through the real runtime library and plots
// the output's points; a model error is shown, not thrown; a long run can be stopped.
#include "widgets/runpanel.h"

#include "core/formats/documentreader.h"

#include <QFile>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>
#include <qcustomplot.h>

using namespace te;

class TestRunPanel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        const QByteArray runtime = TE_BIN_DIR "/libtorchexplorer_runtime.so";
        if (!QFile::exists(QString::fromLatin1(runtime)))
            QSKIP("this build has no runtime library (TE_BUILD_RUNTIME=OFF)");
        qputenv("TORCH_EXPLORER_RUNTIME", runtime);
    }

    void runsAndPlots()
    {
        std::shared_ptr<const Document> model = readDocument(std::string(TE_FIXTURES_DIR) + "/scripted.pt");
        RunPanel panel;
        panel.setModel(model, nullptr, {}, {});
        auto *inputs = panel.findChild<QTableWidget *>();
        QVERIFY(inputs);
        QCOMPARE(inputs->rowCount(), 1);
        QCOMPARE(inputs->item(0, 0)->text(), QStringLiteral("x"));
        QCOMPARE(inputs->item(0, 1)->text(), QStringLiteral("1x3x224x224")); // guessed from the first conv
        inputs->item(0, 1)->setText(QStringLiteral("1x3x16x16"));
        QSignalSpy finished(&panel, &RunPanel::runFinished);
        panel.run();
        QVERIFY(panel.isRunning());
        QVERIFY(finished.wait(60000));
        QVERIFY(panel.lastResult());
        QVERIFY(panel.lastResult()->ok);
        QCOMPARE(panel.lastResult()->outputs.front().shape, (std::vector<int64_t>{1, 4}));
        // Four logits: a bar per class.
        auto *bars = qobject_cast<QCPBars *>(panel.plot()->plottable(0));
        QVERIFY(bars);
        QCOMPARE(bars->data()->size(), 4);
        QVERIFY(panel.valuesCsv().startsWith(QStringLiteral("output,index,value\n,0,")));
        // The scores as a list of class (from 0), value and softmax, most likely first.
        QTableWidget *values = panel.findChildren<QTableWidget *>().back();
        QVERIFY(values != inputs);
        QCOMPARE(values->columnCount(), 3);
        QCOMPARE(values->rowCount(), 4);
        QCOMPARE(values->horizontalHeaderItem(2)->text(), QStringLiteral("softmax"));
        const auto &logits = panel.lastResult()->outputs.front().values;
        const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
        QCOMPARE(values->item(0, 0)->data(Qt::DisplayRole).toDouble(), static_cast<double>(best));
        double total = 0;
        for (int r = 0; r < 4; ++r) {
            total += values->item(r, 2)->data(Qt::DisplayRole).toDouble();
            if (r > 0)
                QVERIFY(values->item(r, 2)->data(Qt::DisplayRole).toDouble() <=
                        values->item(r - 1, 2)->data(Qt::DisplayRole).toDouble());
        }
        QVERIFY(std::abs(total - 1.0) < 1e-9);
        // Once the run is over, nothing says it is still running.
        for (QLabel *l : panel.findChildren<QLabel *>())
            QVERIFY2(!l->text().contains(QStringLiteral("TorchScript code on ")) &&
                         !l->text().startsWith(QStringLiteral("Running on")),
                     qPrintable(l->text()));
    }

    // A long run shows how far it is and stops on the Stop button after the forward pass
    // under way, keeping the timings of the passes done.
    void stopKeepsTheRunsDone()
    {
        std::shared_ptr<const Document> model = readDocument(std::string(TE_FIXTURES_DIR) + "/scripted.pt");
        RunPanel panel;
        panel.setModel(model, nullptr, {}, {});
        panel.show();
        auto *inputs = panel.findChild<QTableWidget *>();
        inputs->item(0, 1)->setText(QStringLiteral("8x3x256x256"));
        panel.findChild<QSpinBox *>()->setValue(1000);
        QPushButton *stop = nullptr;
        for (QPushButton *b : panel.findChildren<QPushButton *>())
            if (b->text().startsWith(QStringLiteral("Stop")))
                stop = b;
        QVERIFY(stop);
        QVERIFY(!stop->isEnabled());
        auto *progress = panel.findChild<QProgressBar *>();
        QVERIFY(progress && !progress->isVisible());
        QSignalSpy finished(&panel, &RunPanel::runFinished);
        panel.run();
        QVERIFY(stop->isEnabled());
        QVERIFY(progress->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(progress->maximum() == 1001 && progress->value() >= 3, 60000);
        QTest::mouseClick(stop, Qt::LeftButton);
        QVERIFY(!stop->isEnabled());
        QVERIFY(finished.wait(60000));
        QVERIFY(panel.lastResult());
        QVERIFY(panel.lastResult()->ok);
        QVERIFY(panel.lastResult()->stopped);
        const size_t runs = panel.lastResult()->latenciesMs.size();
        QVERIFY2(runs >= 2 && runs < 1000, qPrintable(QString::number(runs)));
        QCOMPARE(panel.lastResult()->outputs.front().shape, (std::vector<int64_t>{8, 4}));
        bool said = false;
        for (QLabel *l : panel.findChildren<QLabel *>())
            said = said || l->text().contains(QStringLiteral("%1 of 1000 runs (stopped)").arg(runs));
        QVERIFY(said);
        QVERIFY(!progress->isVisible());
        QVERIFY(!stop->isEnabled());
    }

    void modelErrorIsShown()
    {
        std::shared_ptr<const Document> model = readDocument(std::string(TE_FIXTURES_DIR) + "/scripted.pt");
        RunPanel panel;
        panel.setModel(model, nullptr, {}, {});
        auto *inputs = panel.findChild<QTableWidget *>();
        inputs->item(0, 1)->setText(QStringLiteral("1x5x16x16"));
        QSignalSpy finished(&panel, &RunPanel::runFinished);
        panel.run();
        QVERIFY(finished.wait(60000));
        QVERIFY(!panel.lastResult());
        bool shown = false;
        for (QLabel *l : panel.findChildren<QLabel *>())
            shown = shown || l->text().contains(QStringLiteral("to have 3 channels"));
        QVERIFY(shown);
    }
};

QTEST_MAIN(TestRunPanel)
#include "tst_runpanel.moc"
