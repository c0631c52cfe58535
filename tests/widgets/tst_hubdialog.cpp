// "Open from Hugging Face Hub" against the stand-in hub on 127.0.0.1: the listing with
// sizes, a download into the cache by the Download button, what Open hands the window,
// and the errors a user sees.
#include "tests/support/fakehubprocess.h"
#include "widgets/hubdialog.h"

#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

using namespace te;
using namespace te::testing;

class TestHubDialog : public QObject {
    Q_OBJECT

    QTemporaryDir m_home;
    FakeHub m_hub;

    QPushButton *button(HubDialog &dialog, const QString &text)
    {
        for (QPushButton *b : dialog.findChildren<QPushButton *>())
            if (b->text().remove(QLatin1Char('&')).startsWith(text))
                return b;
        return nullptr;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        QVERIFY(m_hub.start({QStringLiteral("--repo"),
                             QStringLiteral("testorg/tiny-bert-sharded=" TE_FIXTURES_DIR "/hf/tiny_bert_sharded")}));
        for (const char *name : {"HF_TOKEN", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "http_proxy", "HTTP_PROXY"})
            qunsetenv(name);
        qputenv("no_proxy", "127.0.0.1");
        qputenv("HF_ENDPOINT", m_hub.endpoint().toUtf8());
        qputenv("HF_HOME", m_home.path().toUtf8());
    }

    void listsDownloadsAndOpens()
    {
        HubDialog dialog;
        dialog.setModel(m_hub.endpoint() + QStringLiteral("/testorg/tiny-bert-sharded"));
        QSignalSpy listed(&dialog, &HubDialog::listed);
        QTest::mouseClick(button(dialog, QStringLiteral("List files")), Qt::LeftButton);
        QVERIFY(listed.wait(20000));
        QTreeWidget *files = dialog.files();
        QCOMPARE(files->topLevelItemCount(), 4);
        QCOMPARE(files->topLevelItem(0)->text(0), QStringLiteral("config.json"));
        QCOMPARE(files->topLevelItem(1)->text(2), QStringLiteral("weights"));
        QVERIFY2(dialog.status().contains(QStringLiteral("4 files")), qPrintable(dialog.status()));
        // Only the index and the first shard.
        files->topLevelItem(0)->setCheckState(0, Qt::Unchecked);
        files->topLevelItem(2)->setCheckState(0, Qt::Unchecked);
        QPushButton *download = button(dialog, QStringLiteral("Download"));
        QVERIFY(download && download->isEnabled());
        QSignalSpy downloaded(&dialog, &HubDialog::downloaded);
        QTest::mouseClick(download, Qt::LeftButton);
        QVERIFY(downloaded.wait(20000));
        QVERIFY2(dialog.status().startsWith(QStringLiteral("Downloaded into")), qPrintable(dialog.status()));
        const QString snapshot = m_home.path() + QStringLiteral("/hub/models--testorg--tiny-bert-sharded/snapshots/");
        const QString commit = QString::fromStdString(
            m_hub.get(QStringLiteral("/api/models/testorg/tiny-bert-sharded"))["sha"].get<std::string>());
        QVERIFY(QFileInfo(snapshot + commit + QStringLiteral("/model-00001-of-00002.safetensors")).isSymLink());
        QVERIFY(QFileInfo::exists(snapshot + commit + QStringLiteral("/model.safetensors.index.json")));
        QVERIFY(!QFileInfo::exists(snapshot + commit + QStringLiteral("/config.json")));
        QCOMPARE(files->topLevelItem(1)->text(3), QStringLiteral("yes"));
        QCOMPARE(files->topLevelItem(0)->text(3), QString());
        // Double-clicking a file opens that file alone.
        emit files->itemActivated(files->topLevelItem(1), 0);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.reference(), QStringLiteral("hf:testorg/tiny-bert-sharded/model-00001-of-00002.safetensors"));
    }

    void openWithoutListingTakesTheRevision()
    {
        HubDialog dialog;
        dialog.setModel(QStringLiteral("testorg/tiny-bert-sharded"));
        dialog.findChildren<QLineEdit *>().at(1)->setText(QStringLiteral("v2"));
        QTest::mouseClick(button(dialog, QStringLiteral("Open")), Qt::LeftButton);
        QCOMPARE(dialog.reference(), QStringLiteral("hf:testorg/tiny-bert-sharded@v2"));
    }

    void errorsAreSaid()
    {
        HubDialog dialog;
        QVERIFY(!button(dialog, QStringLiteral("Download"))->isEnabled());
        QTest::mouseClick(button(dialog, QStringLiteral("List files")), Qt::LeftButton);
        QVERIFY(dialog.status().contains(QStringLiteral("Name a model")));
        dialog.setModel(QStringLiteral("testorg/missing"));
        QSignalSpy listed(&dialog, &HubDialog::listed);
        dialog.list();
        QVERIFY(listed.wait(20000));
        QVERIFY2(dialog.status().contains(QStringLiteral("not found")), qPrintable(dialog.status()));
        QCOMPARE(dialog.files()->topLevelItemCount(), 0);
        dialog.setModel(QStringLiteral("not a/valid name!"));
        dialog.list();
        QVERIFY2(dialog.status().contains(QStringLiteral("not a Hugging Face model reference")),
                 qPrintable(dialog.status()));
    }
};

QTEST_MAIN(TestHubDialog)
#include "tst_hubdialog.moc"
