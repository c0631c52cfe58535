// The Load report tab: its model and the sorting proxy the table shows stay consistent
// under QAbstractItemModelTester, the rows carry PyTorch's verdict, applying the top fix
// updates the counts, the renamed state dict can be exported and read back, and the
// export dialogs offer the file types of the one list.
#include "tests/support/dialogfilters.h"
#include "widgets/loadreportpanel.h"

#include "core/formats/documentreader.h"
#include "widgets/filetypes.h"
#include "widgets/keyalignmentview.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QFileDialog>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

using namespace te;

namespace {
std::shared_ptr<const Document> open(const char *name)
{
    return readDocument(std::string(TE_FIXTURES_DIR) + "/" + name);
}

int countStatus(const LoadReportModel &m, LoadStatus s)
{
    int n = 0;
    for (int r = 0; r < m.rowCount(); ++r)
        n += m.index(r, 0).data(LoadReportModel::StatusRole).toInt() == static_cast<int>(s);
    return n;
}
// The panel's model and the proxy its table shows, under QAbstractItemModelTester while
// this lives.
struct ModelTesters {
    explicit ModelTesters(const LoadReportPanel &panel)
        : model(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest)
        , proxy(panel.proxyModel(), QAbstractItemModelTester::FailureReportingMode::QtTest)
    { }
    QAbstractItemModelTester model;
    QAbstractItemModelTester proxy;
};

// The last button of the panel with exactly this text, or null.
QPushButton *buttonNamed(const LoadReportPanel &panel, const QString &text)
{
    QPushButton *found = nullptr;
    for (QPushButton *b : panel.findChildren<QPushButton *>())
        if (b->text() == text)
            found = b;
    return found;
}

// Clicks `button` and returns the name filters of the file dialog it opens, then cancelled.
QStringList fileDialogFilters(LoadReportPanel &panel, const QString &button)
{
    QPushButton *found = buttonNamed(panel, button);
    if (!found)
        return {QStringLiteral("(no button %1)").arg(button)};
    return te::testing::fileDialogFiltersOpenedBy(&panel, [found] { found->click(); });
}

} // namespace

class TestLoadReportPanel : public QObject {
    Q_OBJECT
private slots:
    void mismatchRows()
    {
        LoadReportPanel panel;
        ModelTesters testers(panel);
        QSignalSpy ready(&panel, &LoadReportPanel::reportReady);
        panel.setInputs(open("mismatch_weights.pt"), open("mismatch_model.pt"));
        QVERIFY(ready.wait(10000));
        const LoadReportModel &m = *panel.model();
        QCOMPARE(panel.proxyModel()->rowCount(), m.rowCount());
        QCOMPARE(countStatus(m, LoadStatus::Missing), 2);
        QCOMPARE(countStatus(m, LoadStatus::Unexpected), 2);
        QCOMPARE(countStatus(m, LoadStatus::ShapeMismatch), 3);
        QCOMPARE(countStatus(m, LoadStatus::Loaded), 8);
        QVERIFY(panel.report()->strictError.rfind("Error(s) in loading state_dict for RecursiveScriptModule:", 0) == 0);
    }

    void applyingTheTopFixUpdatesTheCounts()
    {
        LoadReportPanel panel;
        ModelTesters testers(panel);
        panel.proxyModel()->sort(LoadReportModel::KeyColumn); // sorted rows replaced by the fix
        QSignalSpy ready(&panel, &LoadReportPanel::reportReady);
        QSignalSpy status(&panel, &LoadReportPanel::checkpointStatusChanged);
        panel.setInputs(open("dataparallel_state_dict.pt"), open("model_pickled.pt"));
        QVERIFY(ready.wait(10000));
        QCOMPARE(countStatus(*panel.model(), LoadStatus::Unexpected), 9);
        QVERIFY(!panel.report()->suggestions.empty());
        QCOMPARE(panel.report()->suggestions.front().from, std::string("module."));
        // The key alignment beside the table: the fix as dashed lines, then, applied, solid.
        auto linesOf = [&panel](AlignmentLayout::LinkKind kind) {
            int keys = 0;
            for (const auto &link : panel.alignmentView()->layout().links)
                keys += link.kind == kind ? link.keys : 0;
            return keys;
        };
        QCOMPARE(linesOf(AlignmentLayout::LinkKind::Suggested), 9);
        QCOMPARE(linesOf(AlignmentLayout::LinkKind::Loads), 0);
        panel.applySuggestion(0);
        QVERIFY(ready.wait(10000));
        QCOMPARE(linesOf(AlignmentLayout::LinkKind::Suggested), 0);
        QCOMPARE(linesOf(AlignmentLayout::LinkKind::Loads), 9);
        QVERIFY(panel.report()->strictOk);
        QCOMPARE(countStatus(*panel.model(), LoadStatus::Unexpected), 0);
        QCOMPARE(countStatus(*panel.model(), LoadStatus::Loaded), 9);
        QCOMPARE(panel.rules().size(), size_t(1));
        // The tree learns the status of every checkpoint key, under its full name.
        const auto last = status.last().at(0).value<std::map<std::string, std::string>>();
        QCOMPARE(last.at("module.conv.weight"), std::string("loaded"));

        QTemporaryDir dir;
        QString error;
        const QString out = dir.filePath(QStringLiteral("fixed.pt"));
        QVERIFY2(panel.exportStateDict(out, false, &error), qPrintable(error));
        auto fixed = readDocument(out.toStdString());
        QCOMPARE(fixed->entries.front().key, std::string("conv.weight"));
        QCOMPARE(fixed->entries.size(), size_t(9));
    }

    void exportDialogsOfferTheWrittenType()
    {
        LoadReportPanel panel;
        panel.show();
        QSignalSpy ready(&panel, &LoadReportPanel::reportReady);
        panel.setInputs(open("dataparallel_state_dict.pt"), open("model_pickled.pt"));
        QVERIFY(ready.wait(10000));
        panel.applySuggestion(0); // strips "module.": now it loads, so no warning comes first
        QVERIFY(ready.wait(10000));
        QVERIFY(panel.report()->strictOk);
        const QString torchPatterns = FileTypes::patterns(FileTypes::pytorchMimeType()).join(QLatin1Char(' '));
        QCOMPARE(fileDialogFilters(panel, QStringLiteral("Export renamed state dict…")),
                 QStringList{QStringLiteral("PyTorch (%1)").arg(torchPatterns)});
        QCOMPARE(fileDialogFilters(panel, QStringLiteral("…as safetensors")),
                 QStringList{QStringLiteral("safetensors (*.safetensors)")});
    }

    // Exporting a dict that still does not load asks first; the file name offered is the
    // checkpoint's, beside it.
    void exportWarnsThenSuggestsAName()
    {
        LoadReportPanel panel;
        panel.show();
        QSignalSpy ready(&panel, &LoadReportPanel::reportReady);
        panel.setInputs(open("dataparallel_state_dict.pt"), open("model_pickled.pt"));
        QVERIFY(ready.wait(10000));
        QVERIFY(!panel.report()->strictOk);
        QPushButton *button = buttonNamed(panel, QStringLiteral("Export renamed state dict…"));
        QVERIFY(button);
        QString warning, suggested;
        QTimer poll; // runs inside each dialog's own event loop
        poll.setInterval(10);
        connect(&poll, &QTimer::timeout, &panel, [&] {
            QWidget *modal = QApplication::activeModalWidget();
            if (auto *box = qobject_cast<QMessageBox *>(modal)) {
                warning = box->text();
                box->button(QMessageBox::Yes)->click();
            } else if (auto *dialog = qobject_cast<QFileDialog *>(modal)) {
                suggested = dialog->selectedFiles().value(0);
                dialog->reject();
                poll.stop();
            }
        });
        poll.start();
        QTest::mouseClick(button, Qt::LeftButton);
        QVERIFY2(warning.contains(QStringLiteral("still does not load")), qPrintable(warning));
        QVERIFY2(suggested.endsWith(QStringLiteral("/dataparallel_state_dict_renamed.pt")), qPrintable(suggested));
    }
};

QTEST_MAIN(TestLoadReportPanel)
#include "tst_loadreportpanel.moc"
