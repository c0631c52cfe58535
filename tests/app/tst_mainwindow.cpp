// The real main window: opening files off the GUI thread, what the user sees for a good,
// a dangerous and an unreadable file, that opening never loads libtorch, and that the
// torch-explorer binary writes a screenshot.
#include "app/gui/mainwindow.h"
#include "tests/support/dialogfilters.h"
#include "tests/support/slowfiles.h"

#include "core/runtime/runtimeloader.h"
#include "widgets/documenttreemodel.h"
#include "widgets/filetypes.h"
#include "widgets/loadreportmodel.h"
#include "widgets/loadreportpanel.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QBrush>
#include <QFileDialog>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QTimer>
#include <QTreeView>
#include <QtTest>
#include <cstdio>

using namespace te;

namespace {
QString fixture(const char *name) { return QStringLiteral(TE_FIXTURES_DIR "/") + QString::fromLatin1(name); }

bool labelShows(const MainWindow &w, const QString &text)
{
    for (QLabel *l : w.findChildren<QLabel *>())
        if (l->isVisible() && l->text().contains(text))
            return true;
    return false;
}
// Copies a fixture into dir and opens the copy in w, shown; the copy's path once it is
// displayed, empty when that failed.
QString openCopy(MainWindow &w, const QTemporaryDir &dir, const char *name)
{
    const QString path = dir.filePath(QString::fromLatin1(name));
    if (!QFile::copy(fixture(name), path))
        return {};
    w.show();
    QSignalSpy shown(&w, &MainWindow::documentShown);
    w.openFile(path);
    return shown.wait(10000) && w.document() ? path : QString();
}

// The window's tree and the model behind it, both checked by QAbstractItemModelTester for
// as long as the testers live.
struct TreeModelTesters {
    explicit TreeModelTesters(const MainWindow &w)
        : proxy(w.treeView()->model(), QAbstractItemModelTester::FailureReportingMode::QtTest)
        , source(qobject_cast<QSortFilterProxyModel *>(w.treeView()->model())->sourceModel(),
                 QAbstractItemModelTester::FailureReportingMode::QtTest)
    { }
    QAbstractItemModelTester proxy;
    QAbstractItemModelTester source;
};

// "a | b" + "c" as the status bar writes it: "a  ·  b  ·  c".
QString status(const char *format, const char *rest)
{
    return QString::fromUtf8(format)
        .append(QString::fromUtf8(rest))
        .replace(QStringLiteral(" | "), QStringLiteral("  ·  "));
}

// The text of the status bar's totals.
QString statusText(const MainWindow &w)
{
    const auto *label = w.statusBar()->findChild<QLabel *>(QStringLiteral("statusText"));
    return label ? label->text() : QStringLiteral("(no status label)");
}

// Runs `action` of the window's menus and returns the name filters of the file dialog
// it opens, which is then cancelled.
QStringList fileDialogFilters(MainWindow &w, const QString &action)
{
    QAction *found = nullptr;
    for (QAction *a : w.findChildren<QAction *>())
        if (a->text() == action)
            found = a;
    if (!found)
        return {QStringLiteral("(no action %1)").arg(action)};
    return te::testing::fileDialogFiltersOpenedBy(&w, [found] { found->trigger(); });
}

// The progress bar says the reader runs the object pickle of a legacy file.
bool readingThePickle(const MainWindow &w)
{
    const auto *bar = w.statusBar()->findChild<QProgressBar *>();
    return bar && bar->value() >= 20 && bar->format().startsWith(QStringLiteral("reading the object pickle"));
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // keep the user's settings out of it
    }

    void opensCheckpoint()
    {
        MainWindow w;
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture("checkpoint.pt"));
        QVERIFY(shown.wait(10000));
        QVERIFY(w.document());
        QCOMPARE(w.document()->stateDicts, std::vector<std::string>{"model_state_dict"});
        QVERIFY(w.windowTitle().startsWith(QStringLiteral("checkpoint.pt")));
        QVERIFY(w.treeView()->model()->rowCount() >= 3);
        QVERIFY(statusText(w).contains(QStringLiteral("1 state dict")));
        QVERIFY(!runtimeLoaded()); // inspecting never pays for libtorch
    }

    void opensEveryKind_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("firstRow");
        QTest::addColumn<int>("topRows");
        QTest::newRow("state dict") << QStringLiteral("state_dict.pt") << QStringLiteral("conv") << 3;
        QTest::newRow("legacy") << QStringLiteral("state_dict_legacy.pt") << QStringLiteral("conv") << 3;
        QTest::newRow("pickled module") << QStringLiteral("model_pickled.pt") << QStringLiteral("conv") << 6;
        QTest::newRow("checkpoint") << QStringLiteral("checkpoint.pt") << QStringLiteral("model_state_dict") << 4;
        QTest::newRow("torchscript") << QStringLiteral("scripted.pt") << QStringLiteral("scale") << 7;
    }

    void opensEveryKind()
    {
        QFETCH(QString, file);
        QFETCH(QString, firstRow);
        QFETCH(int, topRows);
        MainWindow w;
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture(file.toLatin1().constData()));
        QVERIFY(shown.wait(10000));
        const QAbstractItemModel *m = w.treeView()->model();
        QCOMPARE(m->rowCount(), topRows);
        QCOMPARE(m->index(0, 0).data().toString(), firstRow);
        // The status bar totals: element count of every keyed tensor.
        QVERIFY(labelShows(w, QStringLiteral("%1 elements").arg(w.document()->parameterCount())));
    }

    // The totals as MainWindow::updateStatus writes them: format, producer, elements,
    // bytes per dtype, state dicts, the security verdict, and the reference if any.
    void statusBarSaysWhatTheDocumentIs_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("reference");
        QTest::addColumn<QString>("expected");
        const char *zip = "PyTorch torch.save (zip), format version 3 | ";
        QTest::newRow("checkpoint") << QStringLiteral("checkpoint.pt") << QString()
                                    << status(zip,
                                              "851 elements | 3.3 KiB (float32) | 8 B (int64) | 1 state dict | safe");
        QTest::newRow("every dtype")
            << QStringLiteral("dtypes.pt") << QString()
            << status(zip, "158 elements | 12 B (bfloat16) | 4 B (bool) | 24 B (complex64) | 12 B (float16) | "
                           "436 B (float32) | 48 B (float64) | 6 B (int16) | 24 B (int32) | 48 B (int64) | "
                           "5 B (int8) | 4 B (uint8) | 1 state dict | safe");
        QTest::newRow("dangerous") << QStringLiteral("hostile/os_system_zip.pt") << QString()
                                   << status(zip, "4 elements | 16 B (float32) | no state dict | dangerous");
        QTest::newRow("torchscript")
            << QStringLiteral("scripted.pt") << QString()
            << status("TorchScript archive, format version 3 | ",
                      "294 elements | 1.1 KiB (float32) | 8 B (int64) | no state dict | suspicious");
        QTest::newRow("legacy") << QStringLiteral("state_dict_legacy.pt") << QString()
                                << status("PyTorch torch.save (legacy format 1001) | ",
                                          "293 elements | 1.1 KiB (float32) | 8 B (int64) | 1 state dict | safe");
        QTest::newRow("with a reference")
            << QStringLiteral("mismatch_weights.pt") << QStringLiteral("mismatch_model.pt")
            << status(zip, "695 elements | 2.7 KiB (float32) | 8 B (int64) | 1 state dict | safe | "
                           "reference: mismatch_model.pt");
    }

    void statusBarSaysWhatTheDocumentIs()
    {
        QFETCH(QString, file);
        QFETCH(QString, reference);
        QFETCH(QString, expected);
        MainWindow w;
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture(file.toLatin1().constData()));
        QVERIFY(shown.wait(10000));
        if (!reference.isEmpty()) {
            w.setReference(fixture(reference.toLatin1().constData()));
            QTRY_VERIFY_WITH_TIMEOUT(w.referenceDocument(), 10000);
        }
        QCOMPARE(statusText(w), expected);
    }

    // Both dialogs that pick a model offer every type of the one list, then all files
    // (Check against… once a file is open: before, it cannot act).
    void fileDialogsOfferEveryType_data()
    {
        QTest::addColumn<QString>("action");
        QTest::newRow("open") << QStringLiteral("&Open…");
        QTest::newRow("check against") << QStringLiteral("&Check against…");
    }

    void fileDialogsOfferEveryType()
    {
        QFETCH(QString, action);
        MainWindow w;
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture("state_dict.pt"));
        QVERIFY(shown.wait(10000));
        const QStringList filters = fileDialogFilters(w, action);
        QCOMPARE(filters.size(), 2);
        const QString patterns = filters.front().section(QLatin1Char('('), 1).chopped(1);
        QCOMPARE(patterns.split(QLatin1Char(' ')), FileTypes::patterns());
        QCOMPARE(filters.back(), QStringLiteral("All files (*)"));
    }

    // Sorting the tree by size or element count orders by the numbers, not their text
    // ("9.0 KiB" after "10 KiB" would be the text's order).
    void treeSortsNumbersAsNumbers_data()
    {
        QTest::addColumn<int>("column");
        QTest::addColumn<Qt::SortOrder>("order");
        QTest::newRow("size descending") << int(DocumentTreeModel::SizeColumn) << Qt::DescendingOrder;
        QTest::newRow("size ascending") << int(DocumentTreeModel::SizeColumn) << Qt::AscendingOrder;
        QTest::newRow("elements descending") << int(DocumentTreeModel::ElementsColumn) << Qt::DescendingOrder;
    }

    void treeSortsNumbersAsNumbers()
    {
        QFETCH(int, column);
        QFETCH(Qt::SortOrder, order);
        MainWindow w;
        TreeModelTesters testers(w);
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture("torchvision_traced.pt"));
        QVERIFY(shown.wait(10000));
        w.treeView()->sortByColumn(column, order);
        const QAbstractItemModel *m = w.treeView()->model();
        QModelIndex features; // its layers: sizes from bytes to MiB
        for (int r = 0; r < m->rowCount(); ++r)
            if (m->index(r, 0).data().toString() == QStringLiteral("features"))
                features = m->index(r, 0);
        QVERIFY(features.isValid());
        QStringList texts;
        std::vector<qulonglong> numbers;
        for (int r = 0; r < m->rowCount(features); ++r) {
            const QModelIndex i = m->index(r, column, features);
            texts << i.data().toString();
            numbers.push_back(i.data(DocumentTreeModel::SortRole).toULongLong());
        }
        QVERIFY(numbers.size() > 10);
        for (size_t r = 1; r < numbers.size(); ++r)
            QVERIFY2(order == Qt::AscendingOrder ? numbers[r - 1] <= numbers[r] : numbers[r - 1] >= numbers[r],
                     qPrintable(texts.join(QStringLiteral(", "))));
        QVERIFY(numbers.front() != numbers.back());
    }

    void filterFindsNestedKey()
    {
        MainWindow w;
        TreeModelTesters testers(w);
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture("nested_checkpoint.pt"));
        QVERIFY(shown.wait(10000));
        auto *filter = w.findChild<QLineEdit *>(QStringLiteral("filter"));
        QVERIFY(filter);
        filter->setText(QStringLiteral("ema_state_dict.bn.running_var"));
        const QAbstractItemModel *m = w.treeView()->model();
        QTRY_COMPARE_WITH_TIMEOUT(m->rowCount(), 1, 3000);
        QModelIndex i = m->index(0, 0);
        QStringList path;
        while (i.isValid()) {
            path << i.data().toString();
            i = m->rowCount(i) ? m->index(0, 0, i) : QModelIndex();
        }
        QCOMPARE(path.join(QLatin1Char('.')), QStringLiteral("callbacks.EMA.ema_state_dict.bn.running_var"));
    }

    void exportsReports()
    {
        MainWindow w;
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture("checkpoint.pt"));
        QVERIFY(shown.wait(10000));
        QTemporaryDir dir;
        QString error;
        const QString json = dir.filePath(QStringLiteral("r.json"));
        QVERIFY2(w.writeReport(json, false, &error), qPrintable(error));
        QFile jf(json);
        QVERIFY(jf.open(QIODevice::ReadOnly));
        const QJsonDocument parsed = QJsonDocument::fromJson(jf.readAll());
        QCOMPARE(parsed[QStringLiteral("tensors")][0][QStringLiteral("key")].toString(),
                 QStringLiteral("model_state_dict.conv.weight"));
        const QString md = dir.filePath(QStringLiteral("r.md"));
        QVERIFY2(w.writeReport(md, true, &error), qPrintable(error));
        QFile mf(md);
        QVERIFY(mf.open(QIODevice::ReadOnly));
        QVERIFY(mf.readAll().contains("| model_state_dict.conv.weight | float32 | [8, 3, 3, 3] |"));
        QVERIFY(!w.writeReport(dir.filePath(QStringLiteral("missing/dir/r.md")), true, &error));
        QVERIFY(!error.isEmpty());
    }

    void checkAgainstColoursTheTree()
    {
        MainWindow w;
        TreeModelTesters testers(w); // the load status recolours rows while they are shown
        w.show();
        QSignalSpy idle(&w, &MainWindow::idle);
        w.openFile(fixture("mismatch_weights.pt"));
        w.setReference(fixture("mismatch_model.pt"));
        QTRY_VERIFY_WITH_TIMEOUT(w.referenceDocument() && w.loadReportPanel()->report(), 10000);
        QCOMPARE(w.loadReportPanel()->report()->unexpected, (std::vector<std::string>{"aux.weight", "aux.bias"}));
        // Unexpected keys grey, shape mismatches red, loaded keys in the plain text colour.
        const QAbstractItemModel *m = w.treeView()->model();
        QModelIndex aux;
        for (int r = 0; r < m->rowCount(); ++r)
            if (m->index(r, 0).data().toString() == QStringLiteral("aux"))
                aux = m->index(r, 0);
        QVERIFY(aux.isValid());
        QTRY_VERIFY(m->index(0, 0, aux).data(Qt::ForegroundRole).isValid());
        QCOMPARE(m->index(0, 0, aux).data(Qt::ForegroundRole).value<QBrush>().color(),
                 LoadReportModel::statusColor(LoadStatus::Unexpected));
        QVERIFY(labelShows(w, QStringLiteral("Does not load")));
    }

    void dangerousFileRaisesBanner()
    {
        MainWindow w;
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture("hostile/os_system_zip.pt"));
        QVERIFY(shown.wait(10000));
        QVERIFY(labelShows(w, QStringLiteral("os.system")));
    }

    void unreadableFileShowsError()
    {
        QTemporaryDir dir;
        QFile f(dir.filePath(QStringLiteral("notes.pt")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("just some text, not a model\n");
        f.close();
        MainWindow w;
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(f.fileName());
        QVERIFY(shown.wait(10000));
        QVERIFY(!w.document());
        QVERIFY(labelShows(w, QStringLiteral("not a PyTorch file")));
    }

    void secondOpenWins()
    {
        MainWindow w;
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture("torchvision_traced.pt"));
        w.openFile(fixture("state_dict.pt"));
        QVERIFY(shown.wait(10000));
        QTest::qWait(200);
        QCOMPARE(shown.count(), 1);
        QVERIFY(w.document()->path.find("state_dict.pt") != std::string::npos);
    }

    // A plain pickle of 60 million cheap opcodes takes a noticeable moment to read: the
    // event loop must keep turning meanwhile, and Cancel must stop it.
    void loadingKeepsTheEventLoopTurning()
    {
        QTemporaryDir dir;
        const QString path = te::testing::writeSlowPickle(dir);
        MainWindow w;
        w.show();
        int ticks = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, this, [&ticks] { ++ticks; });
        timer.start(5);
        QSignalSpy shown(&w, &MainWindow::documentShown);
        QElapsedTimer clock;
        clock.start();
        w.openFile(path);
        QVERIFY(shown.wait(30000));
        const qint64 elapsed = clock.elapsed();
        QVERIFY(w.document());
        // Loading on the GUI thread would have left no room for a single tick.
        QVERIFY2(ticks >= 3, qPrintable(QStringLiteral("%1 ticks in %2 ms").arg(ticks).arg(elapsed)));
    }

    void cancelStopsLoading()
    {
        QTemporaryDir dir;
        const QString path = te::testing::writeSlowPickle(dir);
        MainWindow w;
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(path);
        QPushButton *cancel = nullptr;
        for (QPushButton *b : w.findChildren<QPushButton *>())
            if (b->text() == QStringLiteral("Cancel") && b->isVisible())
                cancel = b;
        QVERIFY(cancel);
        cancel->click();
        QVERIFY(shown.wait(30000));
        QVERIFY(!w.document());
        QVERIFY(!w.isBusy());
    }

    // A checkpoint rewritten (truncated) while it is shown: a banner says so, reading its
    // tensors afterwards reports the damage instead of dying of SIGBUS, and Reload then
    // reports the file as unreadable.
    void fileTruncatedWhileOpen()
    {
        QTemporaryDir dir;
        MainWindow w;
        QSignalSpy shown(&w, &MainWindow::documentShown);
        const QString path = openCopy(w, dir, "torchvision_traced.pt");
        QVERIFY(!path.isEmpty());
        QVERIFY(QFile(path).resize(4096));
        QTRY_VERIFY_WITH_TIMEOUT(labelShows(w, QStringLiteral("changed on disk")), 5000);
        // Visit every row: the Tensor tab computes statistics from the damaged map.
        QAbstractItemModel *model = w.treeView()->model();
        int visited = 0;
        std::vector<QModelIndex> pending{model->index(0, 0)};
        while (!pending.empty() && visited < 300) {
            const QModelIndex i = pending.back();
            pending.pop_back();
            if (!i.isValid())
                continue;
            w.treeView()->setCurrentIndex(i);
            QCoreApplication::processEvents();
            ++visited;
            pending.push_back(i.siblingAtRow(i.row() + 1));
            if (model->rowCount(i))
                pending.push_back(model->index(0, 0, i));
        }
        QTRY_VERIFY_WITH_TIMEOUT(!w.isBusy(), 10000);
        QVERIFY(visited > 5);
        QTRY_VERIFY_WITH_TIMEOUT(labelShows(w, QStringLiteral("cut short")), 5000);
        shown.clear();
        for (QLabel *l : w.findChildren<QLabel *>())
            if (l->isVisible() && l->text().contains(QStringLiteral("Reload")))
                emit l->linkActivated(QStringLiteral("reload"));
        QVERIFY(shown.wait(10000));
        QVERIFY(labelShows(w, QStringLiteral("Could not open")));
    }

    // A file that is not a checkpoint, opened first or after a good file: the window says
    // what it is and what to do, and leaves neither "Opening..." nor empty plots on screen.
    void notACheckpointIsExplained_data()
    {
        QTest::addColumn<bool>("openGoodFirst");
        QTest::newRow("first file") << false;
        QTest::newRow("after a good file") << true;
    }

    void notACheckpointIsExplained()
    {
        QFETCH(bool, openGoodFirst);
        QTemporaryDir dir;
        MainWindow w;
        if (openGoodFirst)
            QVERIFY(!openCopy(w, dir, "checkpoint.pt").isEmpty());
        w.show();
        QSignalSpy shown(&w, &MainWindow::documentShown);
        w.openFile(fixture("wild/lfs_pointer.pt"));
        QVERIFY(shown.wait(10000));
        QVERIFY(labelShows(w, QStringLiteral("Git LFS pointer")));
        QVERIFY(labelShows(w, QStringLiteral("git lfs pull")));
        QVERIFY(!w.statusBar()->currentMessage().contains(QStringLiteral("Opening")));
        QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("Could not open lfs_pointer.pt")));
        for (QWidget *plot : w.findChildren<QWidget *>())
            QVERIFY2(!plot->isVisible() || !plot->inherits("QCustomPlot"), "a plot is still on screen");
        // The next good file replaces the explanation.
        QVERIFY(!openCopy(w, dir, "state_dict.pt").isEmpty());
        QVERIFY(!labelShows(w, QStringLiteral("Git LFS pointer")));
    }

    void fileDeletedWhileOpen()
    {
        QTemporaryDir dir;
        MainWindow w;
        const QString path = openCopy(w, dir, "checkpoint.pt");
        QVERIFY(!path.isEmpty());
        QVERIFY(QFile::remove(path));
        QTRY_VERIFY_WITH_TIMEOUT(labelShows(w, QStringLiteral("was deleted")), 5000);
        QVERIFY(w.document()->entries.size() > 0);
    }

    // Saved anew under the same name (another file renamed over it): the open one stays
    // intact, but what is shown is no longer what the path holds.
    void fileReplacedWhileOpen()
    {
        QTemporaryDir dir;
        MainWindow w;
        const QString path = openCopy(w, dir, "checkpoint.pt");
        QVERIFY(!path.isEmpty());
        const QString newer = dir.filePath(QStringLiteral("newer.pt"));
        QVERIFY(QFile::copy(fixture("state_dict.pt"), newer));
        QVERIFY(std::rename(newer.toLocal8Bit().constData(), path.toLocal8Bit().constData()) == 0);
        QTRY_VERIFY_WITH_TIMEOUT(labelShows(w, QStringLiteral("changed on disk")), 5000);
        QVERIFY(w.document()->entries.size() > 0);
    }

    // Closing or just destroying the window while a file is still being read stops the
    // reader (the worker ends long before the read would have), and the result never
    // reaches the dead window. Timed from the moment the reader reports that it runs the
    // object pickle, which it can stop at any opcode.
    void closeWhileLoading_data()
    {
        QTest::addColumn<bool>("closeFirst");
        QTest::newRow("closed, then deleted") << true;
        QTest::newRow("deleted") << false;
    }

    void closeWhileLoading()
    {
        QFETCH(bool, closeFirst);
        QTemporaryDir dir;
        const QString path = te::testing::writeSlowLegacyCheckpoint(dir);
        QElapsedTimer clock;
        qint64 pickleTime = 0; // from "reading the object pickle" to the document shown
        {
            MainWindow w;
            QSignalSpy shown(&w, &MainWindow::documentShown);
            w.openFile(path);
            QTRY_VERIFY_WITH_TIMEOUT(readingThePickle(w), 30000);
            clock.start();
            QVERIFY(shown.wait(30000));
            pickleTime = clock.elapsed();
            QVERIFY(w.document());
        }
        QVERIFY(QThreadPool::globalInstance()->waitForDone(30000));

        auto *w = new MainWindow;
        w->show();
        w->openFile(path);
        QTRY_VERIFY_WITH_TIMEOUT(readingThePickle(*w), 30000);
        QVERIFY(w->isBusy());
        clock.restart();
        if (closeFirst)
            w->close();
        delete w;
        QVERIFY(QThreadPool::globalInstance()->waitForDone(30000));
        const qint64 stopped = clock.elapsed();
        QVERIFY2(stopped < pickleTime / 2,
                 qPrintable(QStringLiteral("the reader ran %1 ms after the window went; reading the pickle takes %2 ms")
                                .arg(stopped)
                                .arg(pickleTime)));
        QTest::qWait(100); // a result queued for the dead window would arrive now
    }

    void screenshotFromTheBinary()
    {
        QTemporaryDir dir;
        const QString png = dir.filePath(QStringLiteral("shot.png"));
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.path());
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(TE_BIN_DIR "/torch-explorer"),
                {fixture("model_pickled.pt"), QStringLiteral("--screenshot"), png});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QImage image(png);
        QVERIFY(!image.isNull());
        QVERIFY(image.width() >= 800);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
