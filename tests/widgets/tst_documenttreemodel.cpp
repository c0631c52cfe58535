// The document tree model over real fixtures: consistent under QAbstractItemModelTester
// (alone and behind the recursive filter proxy), the structure a user sees, numeric sorting
// of names, element counts and sizes.
#include "widgets/documenttreemodel.h"
#include "widgets/loadreportmodel.h"

#include "core/formats/documentreader.h"

#include <QAbstractItemModelTester>
#include <QBrush>
#include <QFont>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QtTest>

using namespace te;

namespace {

std::shared_ptr<const Document> open(const char *name)
{
    return readDocument(std::string(TE_FIXTURES_DIR) + "/" + name);
}

// The visible tree as text: name and kind columns, indented.
QString dump(const QAbstractItemModel &m, const QModelIndex &parent = {}, int depth = 0)
{
    QString out;
    for (int r = 0; r < m.rowCount(parent); ++r) {
        const QModelIndex i = m.index(r, 0, parent);
        out += QString(depth * 2, QLatin1Char(' ')) + i.data().toString() + QLatin1Char(' ') +
               i.siblingAtColumn(DocumentTreeModel::KindColumn).data().toString() + QLatin1Char('\n');
        out += dump(m, i, depth + 1);
    }
    return out;
}

// Checks that every row's sort role follows `order` among its siblings, at every level;
// counts the neighbours checked, and those that their text would have put the other way.
void checkNumericOrder(const QAbstractItemModel &m, const QModelIndex &parent, int column, Qt::SortOrder order,
                       int *pairs, int *textDisagrees)
{
    for (int r = 0; r < m.rowCount(parent); ++r) {
        const QModelIndex i = m.index(r, column, parent);
        if (r > 0) {
            const QModelIndex before = m.index(r - 1, column, parent);
            const qulonglong a = before.data(DocumentTreeModel::SortRole).toULongLong();
            const qulonglong b = i.data(DocumentTreeModel::SortRole).toULongLong();
            QVERIFY2(order == Qt::AscendingOrder ? a <= b : a >= b, qPrintable(QStringLiteral("%1 (%2) before %3 (%4)")
                                                                                   .arg(before.data().toString())
                                                                                   .arg(a)
                                                                                   .arg(i.data().toString())
                                                                                   .arg(b)));
            ++*pairs;
            const int text = before.data().toString().compare(i.data().toString());
            if (a != b && (order == Qt::AscendingOrder ? text > 0 : text < 0))
                ++*textDisagrees;
        }
        checkNumericOrder(m, i.siblingAtColumn(0), column, order, pairs, textDisagrees);
        if (QTest::currentTestFailed())
            return;
    }
}

} // namespace

class TestDocumentTreeModel : public QObject {
    Q_OBJECT
private slots:
    void modelTester_data()
    {
        QTest::addColumn<QString>("file");
        for (const char *f : {"state_dict.pt", "checkpoint.pt", "nested_checkpoint.pt", "model_pickled.pt",
                              "scripted.pt", "torchvision_traced.pt", "dtypes.pt", "model_pickled_legacy.pt"})
            QTest::newRow(f) << QString::fromLatin1(f);
    }

    void modelTester()
    {
        QFETCH(QString, file);
        DocumentTreeModel model;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setRecursiveFilteringEnabled(true);
        proxy.setFilterRole(DocumentTreeModel::KeyRole);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto doc = open(file.toLatin1().constData());
        model.setDocument(doc);
        QVERIFY(model.rowCount() > 0);
        const std::string &key = doc->entries.back().key;
        proxy.setFilterFixedString(QString::fromStdString(key.substr(key.rfind('.') + 1)));
        QVERIFY(proxy.rowCount() > 0);
        proxy.sort(DocumentTreeModel::SizeColumn, Qt::DescendingOrder);
        model.setDocument(nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void pickledModuleTree()
    {
        DocumentTreeModel model;
        model.setDocument(open("model_pickled.pt"));
        const QString expected = QStringLiteral("conv Conv2d\n"
                                                "  weight parameter\n"
                                                "  bias parameter\n"
                                                "bn BatchNorm2d\n"
                                                "  weight parameter\n"
                                                "  bias parameter\n"
                                                "  running_mean buffer\n"
                                                "  running_var buffer\n"
                                                "  num_batches_tracked buffer\n"
                                                "relu ReLU\n"
                                                "pool AdaptiveAvgPool2d\n"
                                                "flatten Flatten\n"
                                                "fc Linear\n"
                                                "  weight parameter\n"
                                                "  bias parameter\n");
        QCOMPARE(dump(model), expected);
    }

    void checkpointTotalsAndValues()
    {
        DocumentTreeModel model;
        auto doc = open("checkpoint.pt");
        model.setDocument(doc);
        const QModelIndex sd = model.indexForKey(QStringLiteral("model_state_dict"));
        QVERIFY(sd.isValid());
        QCOMPARE(sd.siblingAtColumn(DocumentTreeModel::KindColumn).data().toString(), QStringLiteral("state dict"));
        // conv 8*3*3*3+8, bn 4*8+1, fc 4*8+4 elements
        QCOMPARE(sd.siblingAtColumn(DocumentTreeModel::ElementsColumn).data(DocumentTreeModel::SortRole).toULongLong(),
                 293ull);
        const QModelIndex epoch = model.indexForKey(QStringLiteral("epoch"));
        QVERIFY(epoch.isValid());
        QCOMPARE(epoch.siblingAtColumn(DocumentTreeModel::ShapeColumn).data().toString(), QStringLiteral("2"));
        // Metadata reads as text in italics, not in the grey of disabled items.
        QVERIFY(epoch.data(Qt::FontRole).value<QFont>().italic());
        QVERIFY(!epoch.data(Qt::ForegroundRole).isValid());
        const QModelIndex w = model.indexForKey(QStringLiteral("model_state_dict.conv.weight"));
        QVERIFY(w.isValid());
        QCOMPARE(w.siblingAtColumn(DocumentTreeModel::ShapeColumn).data().toString(), QStringLiteral("[8, 3, 3, 3]"));
        QVERIFY(w.data(DocumentTreeModel::TensorRole).toInt() >= 0);
    }

    void numericSort()
    {
        // Sequential children 0..18 of torchvision's features must sort as numbers.
        DocumentTreeModel model;
        model.setDocument(open("torchvision_traced.pt"));
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(DocumentTreeModel::SortRole);
        proxy.sort(DocumentTreeModel::NameColumn, Qt::AscendingOrder);
        const QModelIndex features = proxy.mapFromSource(model.indexForKey(QStringLiteral("features")));
        QVERIFY(features.isValid());
        QVERIFY(proxy.rowCount(features) > 10);
        QStringList names;
        for (int r = 0; r < proxy.rowCount(features); ++r)
            names << proxy.index(r, 0, features).data().toString();
        QCOMPARE(names.mid(0, 3), QStringList({QStringLiteral("0"), QStringLiteral("1"), QStringLiteral("2")}));
        QCOMPARE(names.at(10), QStringLiteral("10"));
    }

    // Sizes and element counts sort by their numbers (the sort role), not their text:
    // "9.0 KiB" before "10 KiB" ascending, at every level of the tree.
    void sizesSortAsNumbers_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("column");
        QTest::addColumn<Qt::SortOrder>("order");
        for (const char *f : {"torchvision_traced.pt", "checkpoint.pt"}) {
            const QString file = QString::fromLatin1(f);
            QTest::addRow("%s size descending", f) << file << int(DocumentTreeModel::SizeColumn) << Qt::DescendingOrder;
            QTest::addRow("%s size ascending", f) << file << int(DocumentTreeModel::SizeColumn) << Qt::AscendingOrder;
            QTest::addRow("%s elements descending", f)
                << file << int(DocumentTreeModel::ElementsColumn) << Qt::DescendingOrder;
        }
    }

    void sizesSortAsNumbers()
    {
        QFETCH(QString, file);
        QFETCH(int, column);
        QFETCH(Qt::SortOrder, order);
        DocumentTreeModel model;
        model.setDocument(open(file.toLatin1().constData()));
        QSortFilterProxyModel proxy;
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        proxy.setSourceModel(&model);
        proxy.setSortRole(DocumentTreeModel::SortRole);
        proxy.sort(column, order);
        int pairs = 0, textDisagrees = 0;
        checkNumericOrder(proxy, {}, column, order, &pairs, &textDisagrees);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(pairs > 20);
        QVERIFY2(textDisagrees > 0, "the fixture has no rows whose text sorts otherwise: the test proves nothing");
    }

    // A load status announces only the rows whose status changed, a range per run of
    // neighbours; setting the same status again announces nothing.
    void loadStatusAnnouncesOnlyChangedRows()
    {
        DocumentTreeModel model;
        model.setDocument(open("state_dict.pt"));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setLoadStatus({});
        QCOMPARE(changed.count(), 0);
        model.setLoadStatus({{"conv.weight", "unexpected"}, {"conv.bias", "unexpected"}, {"fc.bias", "loaded"}});
        QCOMPARE(changed.count(), 2); // conv.weight and conv.bias are neighbours: one range
        const QModelIndex weight = model.indexForKey(QStringLiteral("conv.weight"));
        QCOMPARE(changed.at(0).at(0).value<QModelIndex>(), weight);
        QCOMPARE(changed.at(0).at(1).value<QModelIndex>(),
                 model.indexForKey(QStringLiteral("conv.bias")).siblingAtColumn(DocumentTreeModel::ColumnCount - 1));
        QCOMPARE(changed.at(1).at(0).value<QModelIndex>(), model.indexForKey(QStringLiteral("fc.bias")));
        QCOMPARE(model.data(weight, Qt::ForegroundRole).value<QBrush>().color(),
                 LoadReportModel::statusColor(LoadStatus::Unexpected));
        changed.clear();
        model.setLoadStatus({{"conv.weight", "unexpected"}, {"conv.bias", "unexpected"}, {"fc.bias", "loaded"}});
        QCOMPARE(changed.count(), 0);
        model.setLoadStatus({{"conv.weight", "unexpected"}, {"conv.bias", "loaded"}, {"fc.bias", "loaded"}});
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).value<QModelIndex>(), model.indexForKey(QStringLiteral("conv.bias")));
        changed.clear();
        model.setLoadStatus({});
        QCOMPARE(changed.count(), 2); // conv.weight and conv.bias, then fc.bias
        QVERIFY(!model.data(weight, Qt::ForegroundRole).isValid());
    }

    void dangerousObjectShown()
    {
        DocumentTreeModel model;
        model.setDocument(open("hostile/os_system_zip.pt"));
        const QModelIndex payload = model.indexForKey(QStringLiteral("fc.payload"));
        QVERIFY(payload.isValid());
        QCOMPARE(payload.siblingAtColumn(DocumentTreeModel::KindColumn).data().toString(), QStringLiteral("os.system"));
        QVERIFY(payload.data(Qt::ForegroundRole).isValid());
    }
};

QTEST_MAIN(TestDocumentTreeModel)
#include "tst_documenttreemodel.moc"
