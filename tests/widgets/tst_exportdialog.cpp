// File → Export state dict: a distributed checkpoint exported by a click on Export, as a
// .pt file and as a sharded safetensors folder of the model's state dict, read back with
// the checkpoint's values; what a user sees when a tensor cannot be read or a size is
// not one.
#include "core/formats/documentreader.h"
#include "core/stats/tensorstats.h"
#include "widgets/exportdialog.h"

#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>

using namespace te;

namespace {

QPushButton *button(ExportDialog &dialog, const QString &text)
{
    for (QPushButton *b : dialog.findChildren<QPushButton *>())
        if (b->text().remove(QLatin1Char('&')).startsWith(text))
            return b;
    return nullptr;
}

QString statusText(ExportDialog &dialog)
{
    QStringList texts;
    for (QLabel *l : dialog.findChildren<QLabel *>())
        texts << l->text();
    return texts.join(QLatin1Char('\n'));
}

std::string fixture(const char *name) { return std::string(TE_FIXTURES_DIR) + "/dcp/" + name; }

} // namespace

class TestExportDialog : public QObject {
    Q_OBJECT

private slots:
    void exportsTorchFileByClick()
    {
        std::shared_ptr<const Document> doc = readDocument(fixture("sharded"));
        QTemporaryDir dir;
        ExportDialog dialog(doc, dir.filePath(QStringLiteral("sharded")));
        auto combos = dialog.findChildren<QComboBox *>();
        QCOMPARE(combos.size(), 2);
        // The checkpoint's one state dict (the model) is offered first; every tensor asked for.
        QCOMPARE(doc->stateDicts, std::vector<std::string>{"model"});
        QCOMPARE(combos[0]->currentData().toString(), QStringLiteral("model"));
        combos[0]->setCurrentIndex(0);
        auto *target = dialog.findChildren<QLineEdit *>().at(1);
        QCOMPARE(target->text(), dir.filePath(QStringLiteral("sharded-export.pt")));
        QVERIFY(statusText(dialog).contains(QStringLiteral("13 tensors")));

        QTest::mouseClick(button(dialog, QStringLiteral("Export")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!dialog.writtenFiles().isEmpty(), 20000);
        QCOMPARE(dialog.writtenFiles(), QStringList{target->text()});
        QVERIFY2(statusText(dialog).contains(QStringLiteral("Exported 13 tensors")), qPrintable(statusText(dialog)));
        auto back = readDocument(target->text().toStdString());
        QCOMPARE(back->entries.size(), doc->entries.size());
        for (size_t i = 0; i < doc->entries.size(); ++i) {
            QCOMPARE(back->entries[i].key, doc->entries[i].key);
            const TensorStats a = computeStats(*doc, doc->tensors[static_cast<size_t>(doc->entries[i].tensor)]);
            const TensorStats b = computeStats(*back, back->tensors[static_cast<size_t>(back->entries[i].tensor)]);
            QVERIFY(a.ok && b.ok);
            QCOMPARE(a.sum, b.sum);
        }
    }

    void exportsModelAsShardedFolder()
    {
        std::shared_ptr<const Document> doc = readDocument(fixture("sharded"));
        QTemporaryDir dir;
        ExportDialog dialog(doc, dir.filePath(QStringLiteral("sharded")));
        auto combos = dialog.findChildren<QComboBox *>();
        combos[0]->setCurrentIndex(combos[0]->findData(QStringLiteral("model")));
        combos[1]->setCurrentIndex(2);
        auto edits = dialog.findChildren<QLineEdit *>();
        QVERIFY(edits[0]->isEnabled());
        QCOMPARE(edits[1]->text(), dir.filePath(QStringLiteral("sharded-export")));
        edits[0]->setText(QStringLiteral("500B"));
        QVERIFY(statusText(dialog).contains(QStringLiteral("7 tensors")));
        QTest::mouseClick(button(dialog, QStringLiteral("Export")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!dialog.writtenFiles().isEmpty(), 20000);
        QVERIFY(dialog.writtenFiles().size() >= 3);
        QVERIFY(dialog.writtenFiles().last().endsWith(QStringLiteral("model.safetensors.index.json")));
        auto back = readDocument(edits[1]->text().toStdString());
        QCOMPARE(back->entries.size(), size_t(7));
        QCOMPARE(back->entries.front().key, std::string("tok_embeddings.weight"));
    }

    void mistakesAreShown()
    {
        std::shared_ptr<const Document> doc = readDocument(fixture("bad_hole"));
        QTemporaryDir dir;
        ExportDialog dialog(doc, dir.filePath(QStringLiteral("bad")));
        QVERIFY(statusText(dialog).contains(QStringLiteral("1 cannot be read")));
        QTest::mouseClick(button(dialog, QStringLiteral("Export")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(statusText(dialog).contains(QStringLiteral("cannot export \"w\"")), 20000);
        QVERIFY(dialog.writtenFiles().isEmpty());
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList());

        dialog.findChildren<QComboBox *>()[1]->setCurrentIndex(2);
        dialog.findChildren<QLineEdit *>()[0]->setText(QStringLiteral("lots"));
        QTest::mouseClick(button(dialog, QStringLiteral("Export")), Qt::LeftButton);
        QVERIFY(statusText(dialog).contains(QStringLiteral("\"lots\" is not a size")));
    }
};

QTEST_MAIN(TestExportDialog)
#include "tst_exportdialog.moc"
