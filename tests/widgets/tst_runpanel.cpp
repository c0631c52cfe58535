// The Run tab runs a fixture model offscreen through the real runtime library and plots
// the output's points; a model error is shown, not thrown; a long run can be stopped. A
// picture dropped on the tab is classified as PyTorch does, with class names; a second
// weight set is drawn beside the first; every layer's output is listed with the first NaN
// marked. Expected values come from tests/fixtures/run/expected.json (make_run_fixtures.py).
#include "widgets/runpanel.h"

#include "core/formats/documentreader.h"
#include "tests/support/fixtureexpectations.h"
#include "widgets/heatmapplot.h"
#include "widgets/histogramplot.h"
#include "widgets/layersview.h"

#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>
#include <qcustomplot.h>

using namespace te;
using nlohmann::json;

namespace {

std::string root() { return te::testing::repoPath(""); }
using te::testing::runExpected;

bool close(double a, double b) { return std::abs(a - b) <= 1e-4 * std::max(1.0, std::abs(b)); }

// The texts the plot writes above its bars.
QStringList plotTexts(QCustomPlot *plot)
{
    QStringList texts;
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto *text = qobject_cast<QCPItemText *>(plot->item(i)))
            texts << text->text();
    return texts;
}

} // namespace

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
        // The scores as a list of class (from 0), name (hidden without class names), value
        // and softmax, most likely first.
        QTableWidget *values = panel.values();
        QVERIFY(values != inputs);
        QCOMPARE(values->columnCount(), 4);
        QVERIFY(values->isColumnHidden(1));
        QCOMPARE(values->rowCount(), 4);
        QCOMPARE(values->horizontalHeaderItem(3)->text(), QStringLiteral("softmax"));
        const auto &logits = panel.lastResult()->outputs.front().values;
        const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
        QCOMPARE(values->item(0, 0)->data(Qt::DisplayRole).toDouble(), static_cast<double>(best));
        double total = 0;
        for (int r = 0; r < 4; ++r) {
            total += values->item(r, 3)->data(Qt::DisplayRole).toDouble();
            if (r > 0)
                QVERIFY(values->item(r, 3)->data(Qt::DisplayRole).toDouble() <=
                        values->item(r - 1, 3)->data(Qt::DisplayRole).toDouble());
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

    // A picture dropped on the input's row is read with the chosen preset and classified
    // as torchvision and PyTorch do; the top class is named from the labels file.
    void classifiesADroppedImage()
    {
        const json &c = runExpected()["classify"][0];
        std::shared_ptr<const Document> model = readDocument(root() + c["model"].get<std::string>());
        RunPanel panel;
        panel.resize(900, 700);
        panel.show();
        panel.setModel(model, nullptr, {}, {});
        QTableWidget *inputs = panel.inputs();
        inputs->item(0, 1)->setText(QStringLiteral("1x%1x%2").arg(3).arg(
            QString::number(c["h"].get<int>()) + QLatin1Char('x') + QString::number(c["w"].get<int>())));
        QCOMPARE(c["options"].get<std::string>(), std::string("imagenet")); // the preset chosen by default
        QMimeData mime;
        const QString image = QString::fromStdString(root() + c["image"].get<std::string>());
        mime.setUrls({QUrl::fromLocalFile(image)});
        const QPoint onRow = inputs->viewport()->mapTo(&panel, inputs->visualItemRect(inputs->item(0, 1)).center());
        QDragEnterEvent enter(onRow, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&panel, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(onRow), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&panel, &drop);
        QCOMPARE(inputs->item(0, 3)->text(), QStringLiteral("image:") + image + QStringLiteral(":imagenet"));

        QString error;
        QVERIFY(!panel.setLabels(QString::fromStdString(root() + "tests/fixtures/run/inputs/u8_4.npy"), &error));
        QVERIFY2(error.contains(QStringLiteral("u8_4.npy")), qPrintable(error));
        QVERIFY2(panel.setLabels(
                     QString::fromStdString(root() + runExpected()["label_files"]["txt"].get<std::string>()), &error),
                 qPrintable(error));
        QSignalSpy finished(&panel, &RunPanel::runFinished);
        panel.run();
        QVERIFY(finished.wait(60000));
        QVERIFY(panel.lastResult());
        const auto &got = panel.lastResult()->outputs.front().values;
        QCOMPARE(got.size(), c["logits"].size());
        for (size_t i = 0; i < got.size(); ++i)
            QVERIFY2(close(got[i], c["logits"][i].get<double>()), qPrintable(QString::number(i)));
        // The top 5 as bars named on the axis, the best on top.
        auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(panel.plot()->yAxis->ticker());
        QVERIFY(ticker);
        QCOMPARE(ticker->ticks().size(), 5);
        QCOMPARE(ticker->ticks().last(), QStringLiteral("%1 (%2)")
                                             .arg(QString::fromStdString(c["top5"][0]["label"].get<std::string>()))
                                             .arg(c["top5"][0]["index"].get<int>()));
        QTableWidget *values = panel.values();
        QVERIFY(!values->isColumnHidden(1));
        for (int k = 0; k < 5; ++k) // the table sorted by softmax: the top-5 in order, named
            QCOMPARE(values->item(k, 1)->text(),
                     QString::fromStdString(c["top5"][static_cast<size_t>(k)]["label"].get<std::string>()));

        // A picture that cannot be read: said, nothing kept from before.
        inputs->item(0, 3)->setText(QStringLiteral("image:") + QString::fromStdString(root()) +
                                    QStringLiteral("tests/fixtures/run/shapes_labels.txt"));
        panel.run();
        QVERIFY(finished.wait(60000));
        QVERIFY(!panel.lastResult());
        bool said = false;
        for (QLabel *l : panel.findChildren<QLabel *>())
            said = said || l->text().contains(QStringLiteral("shapes_labels.txt"));
        QVERIFY(said);
    }

    // The same picture with the fine-tuned weights: both runs' logits equal PyTorch's, the
    // bars stand side by side, and the comparison says whether the top classes agree.
    void comparesTwoWeightSets()
    {
        const json &c = runExpected()["classify"][0];
        std::shared_ptr<const Document> model = readDocument(root() + c["model"].get<std::string>());
        RunPanel panel;
        panel.setModel(model, nullptr, {}, {});
        panel.inputs()->item(0, 1)->setText(QStringLiteral("1x3x%1x%2").arg(c["h"].get<int>()).arg(c["w"].get<int>()));
        panel.setInputFile(0, QString::fromStdString(root() + c["image"].get<std::string>()));
        panel.setWeightsB(QString::fromStdString(root() + c["weights_b"].get<std::string>()));
        QSignalSpy finished(&panel, &RunPanel::runFinished);
        panel.run();
        QVERIFY(finished.wait(60000));
        QVERIFY(panel.lastResult() && panel.lastResultB());
        const auto &b = panel.lastResultB()->outputs.front().values;
        for (size_t i = 0; i < b.size(); ++i)
            QVERIFY(close(b[i], c["logits_b"][i].get<double>()));
        QCOMPARE(panel.plot()->plottableCount(), 2);
        QCOMPARE(panel.values()->columnCount(), 7);
        const bool agree = c["top5"][0]["index"] == c["top5_b"][0]["index"];
        QVERIFY2(panel.comparison()->text().contains(agree ? QStringLiteral("top-1 agrees")
                                                           : QStringLiteral("top-1 differs")),
                 qPrintable(panel.comparison()->text()));
        double largest = 0;
        for (size_t i = 0; i < b.size(); ++i)
            largest = std::max(largest, std::abs(c["logits"][i].get<double>() - c["logits_b"][i].get<double>()));
        QVERIFY2(panel.comparison()->text().contains(QString::number(largest, 'g', 3).left(4)),
                 qPrintable(panel.comparison()->text()));
    }

    // A DataParallel checkpoint applied with the fix (strip "module."), compared with itself
    // without the fix: B loads none of the checkpoint's tensors (said beside the run) and
    // gives the model's own output; the choice goes once the fix is removed. (This
    // checkpoint holds the scripted model's own values, so A and B agree here.)
    void comparesWithoutTheFix()
    {
        std::shared_ptr<const Document> model = readDocument(std::string(TE_FIXTURES_DIR) + "/scripted.pt");
        std::shared_ptr<const Document> weights =
            readDocument(std::string(TE_FIXTURES_DIR) + "/dataparallel_state_dict.pt");
        RunPanel panel;
        panel.setModel(model, weights, {}, {});
        QVERIFY(!panel.setWeightsBUnfixed()); // no fix applied: nothing to compare without
        const RemapRule strip{RemapRule::Kind::Prefix, "module.", ""};
        panel.setModel(model, weights, {}, {strip});
        QVERIFY(panel.setWeightsBUnfixed());
        panel.inputs()->item(0, 1)->setText(QStringLiteral("1x3x16x16"));
        QSignalSpy finished(&panel, &RunPanel::runFinished);
        panel.run();
        QVERIFY(finished.wait(60000));
        QVERIFY(panel.lastResult() && panel.lastResultB());
        QVERIFY2(panel.comparison()->text().contains(QStringLiteral("without the fix")),
                 qPrintable(panel.comparison()->text()));
        QString said;
        for (QLabel *l : panel.findChildren<QLabel *>())
            if (l->text().contains(QStringLiteral("tensors applied")))
                said = l->text();
        QVERIFY2(said.contains(QStringLiteral("dataparallel_state_dict.pt: 9 tensors applied")) &&
                     said.contains(QStringLiteral("dataparallel_state_dict.pt: 0 tensors applied")),
                 qPrintable(said));
        const auto &b = panel.lastResultB()->outputs.front().values;
        // Without the fix the checkpoint was not applied at all: B is the model's own output.
        RunPanel plain;
        plain.setModel(model, nullptr, {}, {});
        plain.inputs()->item(0, 1)->setText(QStringLiteral("1x3x16x16"));
        QSignalSpy plainFinished(&plain, &RunPanel::runFinished);
        plain.run();
        QVERIFY(plainFinished.wait(60000));
        QVERIFY(plain.lastResult());
        const auto &own = plain.lastResult()->outputs.front().values;
        for (size_t i = 0; i < b.size(); ++i)
            QVERIFY(std::abs(b[i] - own[i]) <= 1e-6 * std::max(1.0, std::abs(own[i])));
        panel.setModel(model, weights, {}, {}); // the fix removed
        QVERIFY(!panel.lastResultB());
        QVERIFY(!panel.comparison()->isVisible());
    }

    // Every layer of the model that turns values into NaN: the same statistics as the
    // forward hooks, the first NaN marked in the table and the plot, and a click on the
    // plot shows that layer's values.
    void layersMarkTheFirstNaN()
    {
        const std::string name = "tests/fixtures/run/nan_model.pt";
        const json &want = runExpected()["layers"][name];
        std::shared_ptr<const Document> model = readDocument(root() + name);
        RunPanel panel;
        panel.resize(900, 700);
        panel.show();
        panel.setModel(model, nullptr, {}, {});
        QStringList dims;
        for (const auto &d : want["input"]["shape"])
            dims << QString::number(d.get<int64_t>());
        panel.inputs()->item(0, 1)->setText(dims.join(QLatin1Char('x')));
        panel.inputs()->item(0, 3)->setText(
            QStringLiteral("arange(0,%1)").arg(want["input"]["scale"].get<double>(), 0, 'g', 17));
        panel.setCaptureLayers(true);
        QSignalSpy finished(&panel, &RunPanel::runFinished);
        panel.run();
        QVERIFY(finished.wait(60000));
        LayersView *view = panel.layersView();
        QCOMPARE(view->layers().size(), want["layers"].size());
        for (size_t i = 0; i < view->layers().size(); ++i) {
            QCOMPARE(view->layers()[i].path, want["layers"][i]["path"].get<std::string>());
            QCOMPARE(view->layers()[i].nans, want["layers"][i]["nan"].get<uint64_t>());
        }
        const int first = view->firstNonFinite();
        QCOMPARE(view->layers()[static_cast<size_t>(first)].path, want["first_nonfinite"].get<std::string>());
        QVERIFY(view->summary()->text().contains(QStringLiteral("first NaN or Inf")));
        QVERIFY(view->table()->item(first, 1)->text().startsWith(QStringLiteral("⚠")));
        QCOMPARE(view->selectedLayer(), first); // chosen at once
        QVERIFY(plotTexts(view->plot()).join(QString()).contains(QString::fromStdString(want["first_nonfinite"])));
        // A click on the plot at layer 0 chooses it: its histogram, then its heatmap.
        view->plot()->replot();
        const int x = static_cast<int>(view->plot()->xAxis->coordToPixel(0));
        const int y = view->plot()->axisRect()->center().y();
        QTest::mouseClick(view->plot(), Qt::LeftButton, Qt::NoModifier, QPoint(x, y));
        QCOMPARE(view->selectedLayer(), 0);
        QVERIFY(view->histogram()->plottableCount() == 1);
        view->plotKind()->setCurrentIndex(1);
        QVERIFY(view->heatmap()->grid().ok);
        int64_t cells = 1;
        for (int64_t d : view->layers()[0].shape)
            cells *= d;
        QCOMPARE(static_cast<int64_t>(view->heatmap()->grid().cells.size()), cells);
    }
};

QTEST_MAIN(TestRunPanel)
#include "tst_runpanel.moc"
