// The window's controls as a user meets them, driven by real key presses and mouse
// clicks: what cannot act is disabled and says why, the toolbar's Open button opens, the
// keyboard reaches the tabs, the filter and the tree, the reference model is shown and can
// be cleared, the banner can be dismissed, and Help lists keys that really exist.
#include "app/gui/mainwindow.h"
#include "tests/support/dialogfilters.h"
#include "widgets/comparemodel.h"
#include "widgets/comparepanel.h"
#include "widgets/devicepicker.h"
#include "widgets/documenttreemodel.h"
#include "widgets/helpdialogs.h"
#include "widgets/loadreportmodel.h"
#include "widgets/loadreportpanel.h"
#include "widgets/runpanel.h"
#include "widgets/tensorpanel.h"

#include <QAction>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolBar>
#include <QToolButton>
#include <QTreeView>
#include <QtTest>

using namespace te;

namespace {

QString fixture(const char *name) { return QStringLiteral(TE_FIXTURES_DIR "/") + QString::fromLatin1(name); }

QAction *action(const MainWindow &w, const QString &text)
{
    for (QAction *a : w.findChildren<QAction *>())
        if (a->text() == text)
            return a;
    return nullptr;
}

bool open(MainWindow &w, const QString &path)
{
    QSignalSpy shown(&w, &MainWindow::documentShown);
    w.openFile(path);
    return shown.wait(30000) && w.document();
}

QTabWidget *tabs(const MainWindow &w)
{
    return qobject_cast<QTabWidget *>(w.loadReportPanel()->parentWidget()->parentWidget());
}

// Rows of a tree model, at every depth.
int allRows(const QAbstractItemModel *m, const QModelIndex &parent = {})
{
    int n = m->rowCount(parent);
    for (int r = m->rowCount(parent); r-- > 0;)
        n += allRows(m, m->index(r, 0, parent));
    return n;
}

// The first label under `in` whose text contains `text`, or null.
QLabel *labelWith(const QWidget *in, const QString &text)
{
    for (QLabel *l : in->findChildren<QLabel *>())
        if (l->text().contains(text))
            return l;
    return nullptr;
}

// The last button under `in` with exactly this text, or null.
QPushButton *buttonNamed(const QWidget *in, const QString &text)
{
    QPushButton *found = nullptr;
    for (QPushButton *b : in->findChildren<QPushButton *>())
        if (b->text() == text)
            found = b;
    return found;
}

QLineEdit *filter(const MainWindow &w) { return w.findChild<QLineEdit *>(QStringLiteral("filter")); }

// A shown, active window with its keyboard focus somewhere inside.
bool activate(MainWindow &w)
{
    w.show();
    w.activateWindow();
    return QTest::qWaitForWindowActive(&w);
}

// Every column of the tree and the Load report in view, none narrower than its header.
void columnsInView(MainWindow &w, QTableView *table)
{
    for (QAbstractItemView *view :
         {static_cast<QAbstractItemView *>(w.treeView()), static_cast<QAbstractItemView *>(table)}) {
        QHeaderView *header = view == table ? table->horizontalHeader() : w.treeView()->header();
        // Columns refit on a queued event after the data or the size changed: wait for it
        // (a loaded machine gets there later), then check.
        auto visibleWidth = [header] {
            int sum = 0;
            for (int c = 0; c < header->count(); ++c)
                sum += header->isSectionHidden(c) ? 0 : header->sectionSize(c);
            return sum;
        };
        QTRY_VERIFY_WITH_TIMEOUT(visibleWidth() <= view->viewport()->width(), 15000);
        int total = 0;
        for (int c = 0; c < header->count(); ++c) {
            if (header->isSectionHidden(c))
                continue;
            const QString name = view->model()->headerData(c, Qt::Horizontal).toString();
            QVERIFY2(header->sectionSize(c) >= header->sectionSizeHint(c),
                     qPrintable(QStringLiteral("%1: %2 < %3")
                                    .arg(name)
                                    .arg(header->sectionSize(c))
                                    .arg(header->sectionSizeHint(c))));
            total += header->sectionSize(c);
        }
        QVERIFY2(total <= view->viewport()->width(),
                 qPrintable(QStringLiteral("%1 columns in %2 pixels").arg(total).arg(view->viewport()->width())));
    }
}

} // namespace

class TestWindowControls : public QObject {
    Q_OBJECT
    QTemporaryDir m_settings;

private slots:
    void initTestCase()
    {
        // Settings of this suite's own, so that a suite running beside it (the window's,
        // which opens files and so adds recent ones) cannot change what a test expects.
        QVERIFY(m_settings.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_settings.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
    }
    void init() { QSettings().clear(); } // each test starts as on a first start

    void actionsSayWhyTheyCannotAct()
    {
        MainWindow w;
        w.show();
        struct Expect {
            const char *text;
            const char *whyNot;
        };
        for (const Expect &e :
             {Expect{"&Reload", "no file has been opened"}, Expect{"&Check against…", "Open a checkpoint first"},
              Expect{"&Run ▶", "Nothing to run"}, Expect{"S&top the run", "Nothing is running"},
              Expect{"&Compare with…", "Open a file first"}}) {
            QAction *a = action(w, QString::fromUtf8(e.text));
            QVERIFY2(a, e.text);
            QVERIFY2(!a->isEnabled(), e.text);
            QVERIFY2(a->toolTip().contains(QString::fromUtf8(e.whyNot)), qPrintable(a->toolTip()));
        }
        QVERIFY(open(w, fixture("state_dict.pt")));
        QVERIFY(action(w, QStringLiteral("&Reload"))->isEnabled());
        QVERIFY(action(w, QStringLiteral("&Check against…"))->isEnabled());
        QVERIFY(action(w, QStringLiteral("&Compare with…"))->isEnabled());
        QVERIFY(!action(w, QStringLiteral("&Run ▶"))->isEnabled()); // a state dict has no code
        QVERIFY(open(w, fixture("traced.pt")));
        QVERIFY(action(w, QStringLiteral("&Run ▶"))->isEnabled());
    }

    // On first start (no recent files) the toolbar's Open button is enabled, and a click
    // on it opens the file dialog; its recent-files menu says it is empty.
    void toolbarOpenButtonOpens()
    {
        MainWindow w;
        w.show();
        QToolButton *button = nullptr;
        for (QToolButton *b : w.findChildren<QToolButton *>())
            if (b->defaultAction() && b->defaultAction()->text() == QStringLiteral("Open"))
                button = b;
        QVERIFY(button);
        QVERIFY(button->isEnabled());
        const QStringList filters = testing::fileDialogFiltersOpenedBy(
            &w, [button] { QTest::mouseClick(button, Qt::LeftButton, {}, QPoint(8, button->height() / 2)); });
        QVERIFY2(filters.size() == 2, qPrintable(filters.join(QLatin1Char('|'))));
        auto *recent = button->defaultAction()->menu<QMenu *>();
        QVERIFY(recent);
        QVERIFY(recent->isEnabled());
        QCOMPARE(recent->actions().size(), 1);
        QVERIFY(!recent->actions().front()->isEnabled());
    }

    void focusGoesToTheTreeAfterOpen()
    {
        MainWindow w;
        QVERIFY(activate(w));
        QVERIFY(open(w, fixture("state_dict.pt")));
        QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget *>(w.treeView()));
    }

    void ctrlNumbersSwitchTabs()
    {
        MainWindow w;
        QVERIFY(activate(w));
        QVERIFY(open(w, fixture("state_dict.pt")));
        for (int i : {1, 3, 2, 0}) {
            QTest::keyClick(&w, static_cast<Qt::Key>(Qt::Key_1 + i), Qt::ControlModifier);
            QCOMPARE(tabs(w)->currentIndex(), i);
        }
    }

    void escapeClearsTheFilterAndDownEntersTheTree()
    {
        MainWindow w;
        QVERIFY(activate(w));
        QVERIFY(open(w, fixture("state_dict.pt")));
        QTest::keyClick(&w, Qt::Key_F, Qt::ControlModifier);
        QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget *>(filter(w)));
        const int all = allRows(w.treeView()->model());
        QTest::keyClicks(filter(w), QStringLiteral("fc"));
        QTRY_VERIFY(allRows(w.treeView()->model()) < all); // the filter took effect
        QTest::keyClick(filter(w), Qt::Key_Escape);
        QCOMPARE(filter(w)->text(), QString());
        QCOMPARE(allRows(w.treeView()->model()), all);
        QTest::keyClick(filter(w), Qt::Key_Down);
        QCOMPARE(QApplication::focusWidget(), static_cast<QWidget *>(w.treeView()));
        QVERIFY(w.treeView()->currentIndex().isValid());
    }

    // The model checked against is named above the report; it stays when another
    // checkpoint opens, and Clear ends the checking.
    void referenceShownKeptAndCleared()
    {
        MainWindow w;
        w.show();
        QVERIFY(open(w, fixture("mismatch_weights.pt")));
        w.setReference(fixture("mismatch_model.pt"));
        QTRY_VERIFY_WITH_TIMEOUT(w.referenceDocument(), 10000);
        auto shows = [&w](const QString &text) { return labelWith(w.loadReportPanel(), text) != nullptr; };
        QVERIFY(shows(QStringLiteral("Checked against: mismatch_model.pt")));
        QVERIFY(open(w, fixture("state_dict.pt")));
        QVERIFY(w.referenceDocument());
        QVERIFY(shows(QStringLiteral("Checked against: mismatch_model.pt")));
        QPushButton *clear = buttonNamed(w.loadReportPanel(), QStringLiteral("Clear"));
        QVERIFY(clear && clear->isVisible());
        QTest::mouseClick(clear, Qt::LeftButton);
        QVERIFY(!w.referenceDocument());
        QVERIFY(w.reference().isEmpty());
        QVERIFY(!clear->isVisible());
        QVERIFY(shows(QStringLiteral("No model to check against")));
        const auto *status = w.statusBar()->findChild<QLabel *>(QStringLiteral("statusText"));
        QVERIFY(status && !status->text().contains(QStringLiteral("reference")));
    }

    // Clicking a row of the Load report selects its key in the tree; selecting a key in
    // the tree selects its row.
    void reportRowsAndTreeFollowEachOther()
    {
        MainWindow w;
        w.show();
        QVERIFY(open(w, fixture("mismatch_weights.pt")));
        w.setReference(fixture("mismatch_model.pt"));
        QTRY_VERIFY_WITH_TIMEOUT(w.loadReportPanel()->report(), 10000);
        tabs(w)->setCurrentWidget(w.loadReportPanel());
        auto *table = w.loadReportPanel()->findChild<QTableView *>(QStringLiteral("reportTable"));
        QVERIFY(table);
        auto rowOf = [table](const QString &key) {
            for (int r = 0; r < table->model()->rowCount(); ++r)
                if (table->model()->index(r, LoadReportModel::KeyColumn).data().toString() == key)
                    return r;
            return -1;
        };
        const int row = rowOf(QStringLiteral("bn.running_mean"));
        QVERIFY(row >= 0);
        const QRect cell = table->visualRect(table->model()->index(row, LoadReportModel::KeyColumn));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(w.treeView()->currentIndex().data(DocumentTreeModel::KeyRole).toString(),
                 QStringLiteral("bn.running_mean"));
        const QModelIndex bias = w.treeView()->currentIndex().siblingAtRow(1); // bn.bias, in file order
        QCOMPARE(bias.data(DocumentTreeModel::KeyRole).toString(), QStringLiteral("bn.bias"));
        w.treeView()->setFocus();
        QTest::keyClick(w.treeView(), Qt::Key_Up); // from bn.running_mean up to bn.bias
        QCOMPARE(w.treeView()->currentIndex(), bias);
        QCOMPARE(table->currentIndex().row(), rowOf(QStringLiteral("bn.bias")));
    }

    // File → Compare with… shows the Compare tab; a click on a key there selects A's own
    // key in the tree (under its state dict, before the wrapper prefix came off).
    void compareTabFollowsTheTree()
    {
        MainWindow w;
        w.show();
        QVERIFY(open(w, fixture("nested_checkpoint.pt")));
        QSignalSpy done(w.comparePanel(), &ComparePanel::valuesDone);
        w.compareWith(fixture("state_dict.pt"));
        QVERIFY(done.wait(20000));
        QCOMPARE(tabs(w)->currentWidget(), static_cast<QWidget *>(w.comparePanel()));
        QTreeView *tree = w.comparePanel()->tree();
        const QModelIndex bias = tree->model()->index(1, 0, tree->model()->index(0, 0)); // conv.bias
        QCOMPARE(bias.data(CompareModel::KeyRole).toString(), QStringLiteral("conv.bias"));
        QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, tree->visualRect(bias).center());
        QCOMPARE(w.treeView()->currentIndex().data(DocumentTreeModel::KeyRole).toString(),
                 QStringLiteral("state_dict.model.conv.bias"));
        QCOMPARE(tabs(w)->currentWidget(), static_cast<QWidget *>(w.comparePanel()));
        QTest::keyClick(&w, Qt::Key_1, Qt::ControlModifier);
        QCOMPARE(tabs(w)->currentWidget(), static_cast<QWidget *>(w.findChild<TensorPanel *>()));
        QTest::keyClick(&w, Qt::Key_5, Qt::ControlModifier);
        QCOMPARE(tabs(w)->currentWidget(), static_cast<QWidget *>(w.comparePanel()));
    }

    // A report no renaming can fix says why on the Fixes page, with Apply disabled; one
    // that a renaming fixes says so in its summary.
    void fixesSayWhyThereAreNone()
    {
        MainWindow w;
        w.show();
        QVERIFY(open(w, fixture("mismatch_weights.pt")));
        w.setReference(fixture("mismatch_model.pt"));
        QTRY_VERIFY_WITH_TIMEOUT(w.loadReportPanel()->report(), 10000);
        auto labelWith = [&w](const QString &text) { return ::labelWith(w.loadReportPanel(), text); };
        QVERIFY(labelWith(QStringLiteral("No renaming fixes this: 3 key(s) have other shapes")));
        QPushButton *apply = buttonNamed(w.loadReportPanel(), QStringLiteral("Apply"));
        QVERIFY(apply && !apply->isEnabled());
        QVERIFY(!labelWith(QStringLiteral("A fix exists")));

        QVERIFY(open(w, fixture("prefixed_state_dict.pt")));
        w.setReference(fixture("model_pickled.pt"));
        // The report against the new model (the one before stays until it arrives).
        QTRY_VERIFY_WITH_TIMEOUT(labelWith(QStringLiteral("A fix exists: see Fixes")), 10000);
        QVERIFY(!w.loadReportPanel()->report()->suggestions.empty());
        QVERIFY(apply->isEnabled());
        QVERIFY(!labelWith(QStringLiteral("No renaming")));
    }

    // The welcome page's demo is what scripts/run shows: the checkpoint against its model.
    void demoOpensTheCheckpointAgainstItsModel()
    {
        MainWindow w;
        w.show();
        QPushButton *demo = buttonNamed(&w, QStringLiteral("Open the demo model"));
        QVERIFY(demo && demo->isVisible());
        QSignalSpy shown(&w, &MainWindow::documentShown);
        QTest::mouseClick(demo, Qt::LeftButton);
        QVERIFY(shown.wait(30000));
        QVERIFY(w.document());
        QVERIFY2(QString::fromStdString(w.document()->path).endsWith(QStringLiteral("demo_checkpoint.pt")),
                 w.document()->path.c_str());
        QVERIFY(w.reference().endsWith(QStringLiteral("demo_model.pt")));
        QTRY_VERIFY_WITH_TIMEOUT(w.loadReportPanel()->report(), 10000);
    }

    // At 1024x700 the tree's and the Load report's columns are all in view, none narrower
    // than its header (longer texts are elided).
    void columnsFitAt1024x700()
    {
        MainWindow w;
        w.resize(1024, 700);
        QVERIFY(activate(w));
        QSignalSpy shown(&w, &MainWindow::documentShown);
        QTest::mouseClick(buttonNamed(&w, QStringLiteral("Open the demo model")), Qt::LeftButton);
        QVERIFY(shown.wait(30000));
        QTRY_VERIFY_WITH_TIMEOUT(w.loadReportPanel()->report(), 10000);
        QTest::keyClick(&w, Qt::Key_2, Qt::ControlModifier);
        QCOMPARE(tabs(w)->currentWidget(), w.loadReportPanel());
        auto *table = w.loadReportPanel()->findChild<QTableView *>(QStringLiteral("reportTable"));
        QVERIFY(table);
        QTRY_VERIFY(table->isVisible());
        columnsInView(w, table);
        // A deeper tree and longer keys: a DataParallel state dict against a scripted model.
        QVERIFY(open(w, fixture("dataparallel_state_dict.pt")));
        w.setReference(fixture("scripted.pt"));
        QTRY_VERIFY_WITH_TIMEOUT(w.loadReportPanel()->report(), 10000);
        columnsInView(w, table);
    }

    // The device box keeps its width when the device list arrives with longer names.
    void deviceBoxKeepsItsWidth()
    {
        DevicePicker picker;
        const int before = picker.sizeHint().width();
        picker.addItem(QStringLiteral("cuda:0 — NVIDIA H200 with a very long marketing name"),
                       QStringLiteral("cuda:0"));
        picker.addItem(QStringLiteral("cpu — CPU"), QStringLiteral("cpu"));
        QCOMPARE(picker.sizeHint().width(), before);
    }

    // A failed open leaves no "Opening…" behind: the status bar says it failed.
    void failedOpenSaysSo()
    {
        MainWindow w;
        w.show();
        QVERIFY(!open(w, fixture("wild/lfs_pointer.pt")));
        QVERIFY2(w.statusBar()->currentMessage().startsWith(QStringLiteral("Could not open lfs_pointer.pt")),
                 qPrintable(w.statusBar()->currentMessage()));
        QVERIFY(action(w, QStringLiteral("&Reload"))->isEnabled()); // to try again
        QVERIFY(!action(w, QStringLiteral("&Check against…"))->isEnabled());
    }

    // A long message in the Run tab wraps: the right pane asks for no more room than before.
    void longMessagesDoNotWidenThePane()
    {
        MainWindow w;
        QVERIFY(activate(w));
        QVERIFY(open(w, fixture("traced.pt")));
        const int before = w.runPanel()->minimumSizeHint().width();
        auto *inputs = w.runPanel()->findChild<QTableWidget *>();
        QVERIFY(inputs && inputs->rowCount() > 0);
        inputs->item(0, 3)->setText(QString(400, QLatin1Char('q'))); // an unknown fill, quoted back
        QTest::keyClick(&w, Qt::Key_R, Qt::ControlModifier);
        QString longest;
        for (QLabel *l : w.runPanel()->findChildren<QLabel *>())
            if (l->isVisible() && l->text().size() > longest.size())
                longest = l->text();
        QVERIFY2(longest.size() > 300, qPrintable(longest));
        QApplication::processEvents(); // the layouts take the new text in
        QVERIFY2(w.runPanel()->minimumSizeHint().width() <= before,
                 qPrintable(QStringLiteral("%1 > %2").arg(w.runPanel()->minimumSizeHint().width()).arg(before)));
    }

    // A tensor the filter hides is no longer shown in the Tensor tab.
    void tensorTabFollowsTheFilter()
    {
        MainWindow w;
        w.show();
        QVERIFY(open(w, fixture("state_dict.pt")));
        auto title = [&w] {
            for (QLabel *l : tabs(w)->widget(0)->findChildren<QLabel *>())
                if (l->font().bold())
                    return l->text();
            return QString();
        };
        QCOMPARE(title(), QStringLiteral("conv.weight")); // the first tensor, selected on opening
        w.setFilterNow(QStringLiteral("fc."));
        QVERIFY(title() != QStringLiteral("conv.weight"));
    }

    void bannerCanBeDismissed()
    {
        MainWindow w;
        w.show();
        QVERIFY(open(w, fixture("hostile/os_system_zip.pt")));
        auto *banner = w.findChild<QWidget *>(QStringLiteral("banner"));
        QVERIFY(banner && banner->isVisible());
        auto *dismiss = banner->findChild<QToolButton *>();
        QVERIFY(dismiss);
        QTest::mouseClick(dismiss, Qt::LeftButton);
        QVERIFY(!banner->isVisible());
    }

    // Every key the Help dialog lists as an action's shortcut is that action's shortcut.
    void helpListsRealShortcuts()
    {
        MainWindow w;
        QSet<QString> bound;
        for (QAction *a : w.findChildren<QAction *>())
            for (const QKeySequence &k : a->shortcuts())
                bound.insert(k.toString());
        int checked = 0;
        for (const KeyboardShortcut &s : keyboardShortcuts()) {
            if (s.what.startsWith(QStringLiteral("In the ")) || s.keys.contains(QStringLiteral("…")))
                continue; // keys of a widget, or a range
            QVERIFY2(bound.contains(QKeySequence(s.keys).toString()), qPrintable(s.keys));
            ++checked;
        }
        QVERIFY(checked >= 6);
        for (int i = 1; i <= 4; ++i)
            QVERIFY(bound.contains(QStringLiteral("Ctrl+%1").arg(i)));
        QVERIFY(aboutText().contains(QString::fromLatin1(qVersion())));
        QVERIFY(aboutText().contains(QStringLiteral("libtorch")));
    }

    // --help needs no display: with a platform that cannot start, it still prints.
    void helpWithoutADisplay()
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(TE_BIN_DIR "/torch-explorer"), {QStringLiteral("--help")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 0);
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        QVERIFY2(out.contains(QStringLiteral("--screenshot")), qPrintable(out));
    }
};

QTEST_MAIN(TestWindowControls)
#include "tst_windowcontrols.moc"
