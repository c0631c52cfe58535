// The Compare tab: the union tree agrees with the core diff row by row, the filter and the
// exact switch act, the details of a key are A's and B's own numbers and the difference of
// their block means, and the exports are the diff documents.
#include "widgets/comparepanel.h"

#include "core/diagnose/documentdiff.h"
#include "core/formats/documentreader.h"
#include "core/stats/tensorgrid.h"
#include "core/stats/tensorstats.h"
#include "widgets/comparemodel.h"
#include "widgets/heatmapplot.h"
#include "widgets/histogramplot.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>

using namespace te;

namespace {

std::shared_ptr<const Document> open(const char *name)
{
    return readDocument(std::string(TE_FIXTURES_DIR) + "/" + name);
}

// Every key row under a view's index, depth first.
void keysUnder(const QAbstractItemModel *m, const QModelIndex &parent, QStringList &out)
{
    for (int r = 0; r < m->rowCount(parent); ++r) {
        const QModelIndex i = m->index(r, 0, parent);
        if (i.data(CompareModel::StatusRole).toInt() >= 0)
            out << i.data(CompareModel::KeyRole).toString();
        keysUnder(m, i, out);
    }
}

QStringList visibleKeys(const ComparePanel &panel)
{
    QStringList out;
    keysUnder(panel.tree()->model(), {}, out);
    return out;
}

// The tree as a reader sees it: a line per row, indented by depth, with its name, status,
// shape and the differing share, all rows expanded.
void print(const QAbstractItemModel *m, const QModelIndex &parent, int depth, QString &out)
{
    for (int r = 0; r < m->rowCount(parent); ++r) {
        const QModelIndex i = m->index(r, CompareModel::NameColumn, parent);
        QStringList cells{QString(depth * 2, QLatin1Char(' ')) + i.data().toString()};
        for (int c :
             {int(CompareModel::StatusColumn), int(CompareModel::ShapeColumn), int(CompareModel::DifferingColumn)})
            cells << i.siblingAtColumn(c).data().toString();
        out += cells.join(QStringLiteral(" | ")) + QLatin1Char('\n');
        print(m, i, depth + 1, out);
    }
}

bool compare(ComparePanel &panel, std::shared_ptr<const Document> a, std::shared_ptr<const Document> b)
{
    QSignalSpy done(&panel, &ComparePanel::valuesDone);
    QSignalSpy details(&panel, &ComparePanel::detailsReady);
    panel.setDocumentA(std::move(a));
    panel.compareWithDocument(std::move(b));
    if (!done.wait(20000))
        return false;
    // When something changed, the largest change is chosen and its details computed.
    return !panel.isBusy() || (details.wait(10000) && !panel.isBusy());
}

} // namespace

class TestComparePanel : public QObject {
    Q_OBJECT
private slots:
    // A Lightning checkpoint against the bare state dict: lined up, and every row as the
    // core's diff has it.
    void agreesWithTheDiff()
    {
        auto a = open("nested_checkpoint.pt"), b = open("state_dict.pt");
        ComparePanel panel;
        QVERIFY(compare(panel, a, b));
        const DocumentDiff expected = diffDocuments(*a, *b, alignKeys(*a, *b));
        const DocumentDiff *shown = panel.model()->diff();
        QVERIFY(shown);
        QCOMPARE(shown->common.size(), expected.common.size());
        for (size_t i = 0; i < expected.common.size(); ++i) {
            QCOMPARE(shown->common[i].key, expected.common[i].key);
            QCOMPARE(shown->common[i].status(), expected.common[i].status());
            QCOMPARE(shown->common[i].maxAbs, expected.common[i].maxAbs);
        }
        const auto &totals = panel.model()->totals();
        QCOMPARE(totals[size_t(DiffStatus::ValuesDiffer)], uint32_t(expected.common.size() - expected.identical));
        QCOMPARE(totals[size_t(DiffStatus::Pending)], uint32_t(0));
        QVERIFY2(panel.mapping()->text().contains(QStringLiteral("'model.' taken off A's keys")),
                 qPrintable(panel.mapping()->text()));
        QVERIFY2(panel.summary()->text().contains(QStringLiteral("%1 changed").arg(expected.common.size())),
                 qPrintable(panel.summary()->text()));
        // The largest change of a weight is chosen for a first look.
        const QString current = panel.tree()->currentIndex().data(CompareModel::KeyRole).toString();
        const TensorDiff *largest = nullptr;
        for (const TensorDiff &d : expected.common)
            if (d.dtypeA == "float32" && (!largest || d.maxAbs > largest->maxAbs))
                largest = &d;
        QCOMPARE(current, QString::fromStdString(largest->key));
        // Groups carry their keys' counts.
        const QModelIndex conv = panel.model()->indexForKey(QStringLiteral("conv"));
        QCOMPARE(conv.siblingAtColumn(CompareModel::StatusColumn).data().toString(),
                 QStringLiteral("values differ: 2"));
    }

    // The printed tree of three pairs that are one model: a state dict and its
    // DataParallel copy ('module.' prefix), a sharded folder and its single file, two
    // training steps (the classifier of tests/fixtures/run/ and its fine-tune). Both models
    // stay under QAbstractItemModelTester throughout.
    void printedTrees_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<QString>("printed");
        QTest::newRow("module. prefix") << "state_dict.pt"
                                        << "dataparallel_state_dict.pt"
                                        << "compare-module-prefix.txt";
        QTest::newRow("sharded folder") << "hf/tiny_bert_sharded"
                                        << "hf/tiny_bert"
                                        << "compare-sharded-folder.txt";
        QTest::newRow("two training steps") << "run/shapes_weights.pt"
                                            << "run/shapes_finetuned.pt"
                                            << "compare-training-steps.txt";
    }
    void printedTrees()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(QString, printed);
        QFile expected(QStringLiteral(TE_PRINTED_DIR "/") + printed); // tests/widgets/printed/
        QVERIFY(expected.open(QIODevice::ReadOnly | QIODevice::Text));
        ComparePanel panel;
        QAbstractItemModelTester modelTester(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(panel.tree()->model(),
                                             QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(compare(panel, open(qPrintable(a)), open(qPrintable(b))));
        QString out;
        print(panel.tree()->model(), {}, 0, out);
        out += panel.summary()->text() + QLatin1Char('\n');
        QCOMPARE(out, QString::fromUtf8(expected.readAll()));
    }

    void filterAndExactSwitch()
    {
        auto bin = open("hf/tiny_gpt2_bin"), st = open("hf/tiny_gpt2");
        ComparePanel panel;
        QVERIFY(compare(panel, bin, st));
        // Tied weights are no difference; they show under every key only.
        QStringList all = visibleKeys(panel);
        QVERIFY(all.contains(QStringLiteral("lm_head.weight")));
        QCOMPARE(all.size(), int(bin->entries.size()));
        auto *filter = panel.findChild<QComboBox *>();
        QVERIFY(filter);
        filter->setCurrentIndex(ComparePanel::Changed);
        QVERIFY(visibleKeys(panel).isEmpty());
        filter->setCurrentIndex(ComparePanel::Identical);
        QCOMPARE(visibleKeys(panel).size(), int(st->entries.size()));
        QVERIFY(panel.summary()->text().contains(QStringLiteral("same tensors")));
        filter->setCurrentIndex(ComparePanel::EveryKey);

        // A DataParallel dict exactly as it is: nothing in common.
        auto sd = open("state_dict.pt"), dp = open("dataparallel_state_dict.pt");
        QVERIFY(compare(panel, sd, dp));
        QCOMPARE(panel.model()->totals()[size_t(DiffStatus::Identical)], uint32_t(sd->entries.size()));
        QSignalSpy done(&panel, &ComparePanel::valuesDone);
        panel.findChild<QCheckBox *>()->click();
        QVERIFY(done.wait(20000));
        QVERIFY(panel.mapping()->text().contains(QStringLiteral("exactly as they are")));
        QCOMPARE(panel.model()->totals()[size_t(DiffStatus::OnlyA)], uint32_t(sd->entries.size()));
        QCOMPARE(panel.model()->totals()[size_t(DiffStatus::OnlyB)], uint32_t(dp->entries.size()));
        filter->setCurrentIndex(ComparePanel::OnlyInB);
        QStringList onlyB = visibleKeys(panel);
        QCOMPARE(onlyB.size(), int(dp->entries.size()));
        QVERIFY(onlyB.contains(QStringLiteral("module.conv.weight")));
    }

    // A, B and A−B of one key: the statistics of each file's own tensor, both histograms,
    // and the block means of A minus those of B.
    void detailsOfAKey()
    {
        auto a = open("checkpoint.pt"), b = open("state_dict.pt");
        ComparePanel panel;
        QVERIFY(compare(panel, a, b));
        QSignalSpy ready(&panel, &ComparePanel::detailsReady);
        QVERIFY(panel.selectKey(QStringLiteral("conv.weight")));
        QVERIFY(ready.wait(10000));
        const TensorDiff *row = nullptr;
        for (const TensorDiff &d : panel.model()->diff()->common)
            if (d.key == "conv.weight")
                row = &d;
        QVERIFY(row && row->keyA == "model_state_dict.conv.weight");
        const TensorInfo &ta = a->tensors[size_t(row->tensorA)], &tb = b->tensors[size_t(row->tensorB)];
        const TensorStats sa = computeStats(*a, ta), sb = computeStats(*b, tb);
        QTableWidget *t = panel.statsTable();
        QCOMPARE(t->item(0, 0)->text().toDouble(), QString::number(sa.mean, 'g', 6).toDouble());
        QCOMPARE(t->item(0, 1)->text().toDouble(), QString::number(sb.mean, 'g', 6).toDouble());
        QCOMPARE(t->item(3, 1)->text().toDouble(), QString::number(sb.max, 'g', 6).toDouble());
        QCOMPARE(t->item(6, 2)->text().toDouble(), QString::number(row->maxAbs, 'g', 6).toDouble());
        // A − B element by element: its mean, std, min and max, as computed here from the values.
        const std::vector<double> va = readValues(*a, ta, 1 << 20), vb = readValues(*b, tb, 1 << 20);
        QCOMPARE(va.size(), vb.size());
        double sum = 0, lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < va.size(); ++i) {
            sum += va[i] - vb[i];
            lo = std::min(lo, va[i] - vb[i]);
            hi = std::max(hi, va[i] - vb[i]);
        }
        const double mean = sum / double(va.size());
        double squares = 0;
        for (size_t i = 0; i < va.size(); ++i)
            squares += (va[i] - vb[i] - mean) * (va[i] - vb[i] - mean);
        const double std = std::sqrt(squares / double(va.size() - 1));
        QVERIFY(hi > lo); // the two files differ here, so the check can fail
        const double expected[] = {mean, std, lo, hi};
        for (int line = 0; line < 4; ++line)
            QVERIFY2(std::abs(t->item(line, 2)->text().toDouble() - expected[line]) <=
                         1e-5 * std::max(1.0, std::abs(expected[line])),
                     qPrintable(t->item(line, 2)->text() + QStringLiteral(" vs ") + QString::number(expected[line])));
        QCOMPARE(panel.histogram()->plottableCount(), 2); // A's bars, B's outline
        const TensorGrid ga = reduceToGrid(*a, ta, 256, 256, GridReduction::Mean);
        const TensorGrid gb = reduceToGrid(*b, tb, 256, 256, GridReduction::Mean);
        const TensorGrid &shown = panel.differenceMap()->grid();
        QVERIFY(shown.ok);
        QCOMPARE(shown.cells.size(), ga.cells.size());
        for (size_t i = 0; i < ga.cells.size(); ++i)
            QCOMPARE(shown.cells[i], ga.cells[i] - gb.cells[i]);
        // The key exists in A only in exact mode: one side, no difference picture.
        QSignalSpy done(&panel, &ComparePanel::valuesDone);
        panel.setExact(true);
        QVERIFY(done.wait(20000));
        QVERIFY(panel.selectKey(QStringLiteral("model_state_dict.conv.weight")));
        QVERIFY(ready.wait(10000));
        QVERIFY(!panel.differenceMap()->grid().ok);
        QCOMPARE(panel.statsTable()->item(0, 1), nullptr);
    }

    void exports()
    {
        auto a = open("dataparallel_state_dict.pt"), b = open("mismatch_weights.pt");
        ComparePanel panel;
        QVERIFY(compare(panel, a, b));
        QTemporaryDir dir;
        QString error;
        const QString json = dir.filePath(QStringLiteral("c.json")), md = dir.filePath(QStringLiteral("c.md"));
        QVERIFY2(panel.writeComparison(json, false, &error), qPrintable(error));
        QVERIFY2(panel.writeComparison(md, true, &error), qPrintable(error));
        QFile jf(json), mf(md);
        QVERIFY(jf.open(QIODevice::ReadOnly) && mf.open(QIODevice::ReadOnly));
        const auto j = nlohmann::ordered_json::parse(jf.readAll().toStdString());
        nlohmann::ordered_json want = diffJson(diffDocuments(*a, *b, alignKeys(*a, *b)));
        for (const auto &[k, v] : want.items())
            QVERIFY2(j[k] == v, k.c_str());
        QCOMPARE(QString::fromStdString(j["a"].get<std::string>()), QString::fromStdString(a->path));
        const QString text = QString::fromUtf8(mf.readAll());
        QVERIFY(text.startsWith(QStringLiteral("# Comparison")));
        for (const auto &c : want["changed"])
            QVERIFY(text.contains(QString::fromStdString(c["key"].get<std::string>())));
        // Nothing compared: a clear refusal.
        ComparePanel empty;
        QVERIFY(!empty.writeComparison(json, false, &error));
        QVERIFY(!error.isEmpty());
    }

    void unreadableB()
    {
        ComparePanel panel;
        panel.setDocumentA(open("state_dict.pt"));
        QSignalSpy failed(&panel, &ComparePanel::failed);
        panel.compareWith(QStringLiteral(TE_FIXTURES_DIR "/no_such_file.pt"));
        QVERIFY(failed.wait(10000));
        QVERIFY(panel.summary()->text().contains(QStringLiteral("no_such_file.pt")));
        QVERIFY(!panel.isBusy());
    }
};

QTEST_MAIN(TestComparePanel)
#include "tst_comparepanel.moc"
