// The Hugging Face cache dialog over the fake cache of the fixtures: every model and
// revision listed with its state, search hides the others, the selection is a snapshot
// folder the reader opens.
#include "widgets/hubcachedialog.h"

#include "core/formats/documentreader.h"

#include <QLineEdit>
#include <QSignalSpy>
#include <QTreeWidget>
#include <QtTest>

using namespace te;

class TestHubCacheDialog : public QObject {
    Q_OBJECT
private slots:
    void listsSearchesAndOpens()
    {
        HubCacheDialog dialog(QStringLiteral(TE_FIXTURES_DIR "/hf/cache"));
        QSignalSpy listed(&dialog, &HubCacheDialog::listed);
        QVERIFY(listed.wait(10000));
        QTreeWidget *tree = dialog.tree();
        QCOMPARE(tree->topLevelItemCount(), 2);
        QCOMPARE(tree->topLevelItem(0)->text(0), QStringLiteral("testorg/tiny-bert"));
        QCOMPARE(tree->topLevelItem(0)->childCount(), 2);
        QTreeWidgetItem *main = nullptr, *v1 = nullptr;
        for (int i = 0; i < 2; ++i) {
            QTreeWidgetItem *c = tree->topLevelItem(0)->child(i);
            (c->text(0).startsWith(QStringLiteral("main")) ? main : v1) = c;
        }
        QVERIFY(main && v1);
        QCOMPARE(main->text(3), QStringLiteral("complete"));
        QVERIFY(v1->text(3).startsWith(QStringLiteral("incomplete")));

        dialog.findChild<QLineEdit *>()->setText(QStringLiteral("gpt2"));
        QVERIFY(tree->topLevelItem(0)->isHidden());
        QVERIFY(!tree->topLevelItem(1)->isHidden());

        tree->setCurrentItem(main);
        QCOMPARE(dialog.selectedSpec(), QStringLiteral("testorg/tiny-bert@main"));
        auto doc = readDocument(dialog.selectedFolder().toStdString());
        QCOMPARE(doc->format, FileFormat::HuggingFaceFolder);
        QVERIFY(!doc->entries.empty());
    }
};

QTEST_MAIN(TestHubCacheDialog)
#include "tst_hubcachedialog.moc"
