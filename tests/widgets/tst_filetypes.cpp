// The one list of file types: the MIME file made from it claims exactly the patterns the
// table gives a MIME type; the dialogs' filter offers every pattern and accepts the files
// users have.
#include "widgets/filetypes.h"

#include <QFile>
#include <QRegularExpression>
#include <QXmlStreamReader>
#include <QtTest>

using namespace te;

namespace {

// "label (*.a *.b);;All files (*)" -> the patterns of its first filter.
QStringList filterPatterns(const QString &filter)
{
    const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("^[^;(]*\\(([^)]*)\\)")).match(filter);
    return m.hasMatch() ? m.captured(1).split(QLatin1Char(' '), Qt::SkipEmptyParts) : QStringList();
}

bool accepts(const QStringList &patterns, const QString &name)
{
    for (const QString &p : patterns) {
        const QRegularExpression re(QRegularExpression::wildcardToRegularExpression(p),
                                    QRegularExpression::CaseInsensitiveOption);
        if (re.match(name).hasMatch())
            return true;
    }
    return false;
}

} // namespace

class TestFileTypes : public QObject {
    Q_OBJECT
private slots:
    void mimeFileMatchesTheTable()
    {
        QFile f(QStringLiteral(TE_MIME_XML));
        QVERIFY2(f.open(QIODevice::ReadOnly), TE_MIME_XML);
        QXmlStreamReader xml(&f);
        QStringList claimed; // "type pattern", in file order
        QString type;
        while (!xml.atEnd()) {
            if (xml.readNext() != QXmlStreamReader::StartElement)
                continue;
            if (xml.name() == QLatin1String("mime-type"))
                type = xml.attributes().value(QLatin1String("type")).toString();
            else if (xml.name() == QLatin1String("glob"))
                claimed << type + QLatin1Char(' ') + xml.attributes().value(QLatin1String("pattern")).toString();
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QStringList expected;
        for (const FileType &t : FileTypes::all())
            if (!t.mimeType.isEmpty())
                expected << t.mimeType + QLatin1Char(' ') + t.pattern;
        claimed.sort(); // the MIME file groups them by type
        expected.sort();
        QCOMPARE(claimed, expected);
        QVERIFY(claimed.contains(QStringLiteral("application/x-pytorch *.pt")));
        QVERIFY(claimed.contains(QStringLiteral("application/x-safetensors *.safetensors")));
    }

    void openFilterOffersEveryPattern()
    {
        const QString filter = FileTypes::openFilter(QStringLiteral("PyTorch files"));
        QVERIFY(filter.startsWith(QStringLiteral("PyTorch files (")));
        QVERIFY(filter.endsWith(QStringLiteral(";;All files (*)")));
        QCOMPARE(filterPatterns(filter), FileTypes::patterns());
        QCOMPARE(filterPatterns(FileTypes::saveFilter(QStringLiteral("safetensors"), FileTypes::safetensorsMimeType())),
                 QStringList{QStringLiteral("*.safetensors")});
    }

    void acceptsWhatUsersHave_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("offered");    // in the Open and Check against dialogs
        QTest::addColumn<QString>("claimed"); // the MIME type desktops open it with us as
        const QString pytorch = FileTypes::pytorchMimeType();
        QTest::newRow("pt") << QStringLiteral("model.pt") << true << pytorch;
        QTest::newRow("pth") << QStringLiteral("resnet18-f37072fd.pth") << true << pytorch;
        QTest::newRow("pth.tar") << QStringLiteral("checkpoint.pth.tar") << true << pytorch;
        QTest::newRow("ckpt") << QStringLiteral("epoch=3-step=400.ckpt") << true << pytorch;
        QTest::newRow("upper case") << QStringLiteral("MODEL.PT") << true << pytorch;
        QTest::newRow("safetensors") << QStringLiteral("model.safetensors") << true << FileTypes::safetensorsMimeType();
        // Offered, but far too generic to claim for every such file on the desktop.
        QTest::newRow("bin") << QStringLiteral("pytorch_model.bin") << true << QString();
        QTest::newRow("pkl") << QStringLiteral("model.pkl") << true << QString();
        QTest::newRow("tar") << QStringLiteral("legacy.tar") << true << QString();
        QTest::newRow("onnx") << QStringLiteral("model.onnx") << false << QString();
        QTest::newRow("text") << QStringLiteral("notes.txt") << false << QString();
    }

    void acceptsWhatUsersHave()
    {
        QFETCH(QString, name);
        QFETCH(bool, offered);
        QFETCH(QString, claimed);
        QCOMPARE(accepts(filterPatterns(FileTypes::openFilter(QStringLiteral("x"))), name), offered);
        for (const QString &type : {FileTypes::pytorchMimeType(), FileTypes::safetensorsMimeType()})
            QCOMPARE(accepts(FileTypes::patterns(type), name), type == claimed);
    }
};

QTEST_GUILESS_MAIN(TestFileTypes)
#include "tst_filetypes.moc"
