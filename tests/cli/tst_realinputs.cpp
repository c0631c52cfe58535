// Running models on real inputs through the CLI: pictures preprocessed as torchvision does
// give PyTorch's logits and top-5 (tests/fixtures/run/expected.json, computed by
// make_run_fixtures.py), .npy files and torch.save tensors are inputs, labels name the
// classes, a second weight set is compared, and every layer's output equals what
// PyTorch's forward hooks recorded. Bad files give clear errors.
#include "tests/support/fixtureexpectations.h"

#include <QFile>
#include <QProcess>
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace {

QString cli() { return QStringLiteral(TE_BIN_DIR "/torch-explorer-cli"); }
QString root(const std::string &relative)
{
    return QStringLiteral(TE_SOURCE_DIR "/") + QString::fromStdString(relative);
}
QString fixture(const char *relative) { return QStringLiteral(TE_FIXTURES_DIR "/run/") + QLatin1String(relative); }

using te::testing::runExpected;

bool close(double got, double want, double tolerance = 1e-4)
{
    return std::abs(got - want) <= tolerance * std::max(1.0, std::abs(want));
}

// Runs the CLI; the parsed JSON on success, with the exit code and stderr.
json runCli(const QStringList &args, int *code = nullptr, QString *stderrText = nullptr)
{
    QProcess p;
    p.start(cli(), QStringList{QStringLiteral("run")} + args +
                       QStringList{QStringLiteral("--repeat"), QStringLiteral("1"), QStringLiteral("--json")});
    if (!p.waitForFinished(180000))
        return json();
    if (code)
        *code = p.exitCode();
    if (stderrText)
        *stderrText = QString::fromUtf8(p.readAllStandardError());
    return json::parse(p.readAllStandardOutput().toStdString(), nullptr, false);
}

QString imageSpec(const json &c)
{
    QString options = QString::fromStdString(c["options"].get<std::string>());
    return QStringLiteral("image:%1:%2,size=%3x%4")
        .arg(root(c["image"].get<std::string>()), options)
        .arg(c["h"].get<int>())
        .arg(c["w"].get<int>());
}

} // namespace

class RealInputsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        if (!QFile::exists(QStringLiteral(TE_BIN_DIR "/libtorchexplorer_runtime.so")))
            QSKIP("this build has no runtime library (TE_BUILD_RUNTIME=OFF)");
        QVERIFY2(runExpected().is_object(), "tests/fixtures/run/expected.json is missing");
    }

    // A picture classified: logits within 1e-4 of PyTorch's, the same top-5 with labels;
    // through the second weight set too, compared.
    void imagesClassifiedAsPyTorch_data()
    {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < runExpected()["classify"].size(); ++i)
            QTest::newRow(runExpected()["classify"][i]["image"].get<std::string>().c_str()) << static_cast<int>(i);
    }
    void imagesClassifiedAsPyTorch()
    {
        QFETCH(int, index);
        const json &c = runExpected()["classify"][static_cast<size_t>(index)];
        QString err;
        int code = -1;
        const json out = runCli({root(c["model"].get<std::string>()), QStringLiteral("--input"), imageSpec(c),
                                 QStringLiteral("--labels"), fixture("shapes_labels.txt"),
                                 QStringLiteral("--weights-b"), fixture("shapes_finetuned.pt")},
                                &code, &err);
        QVERIFY2(code == 0, qPrintable(err));
        for (const auto &[suffix, key] : {std::pair{"", "logits"}, std::pair{"_b", "logits_b"}}) {
            const json &o = out[std::string("outputs") + suffix][0];
            const json &logits = c[key];
            QCOMPARE(o["values"].size(), logits.size());
            for (size_t i = 0; i < logits.size(); ++i)
                QVERIFY2(close(o["values"][i].get<double>(), logits[i].get<double>()),
                         qPrintable(QStringLiteral("%1 logit %2: %3 vs %4")
                                        .arg(QLatin1String(key))
                                        .arg(i)
                                        .arg(o["values"][i].get<double>())
                                        .arg(logits[i].get<double>())));
            const json &top = c[std::string("top5") + suffix];
            QCOMPARE(o["top"].size(), top.size());
            for (size_t i = 0; i < top.size(); ++i) {
                QCOMPARE(o["top"][i]["index"], top[i]["index"]);
                QCOMPARE(o["top"][i]["label"], top[i]["label"]);
                QVERIFY(close(o["top"][i]["probability"].get<double>(), top[i]["probability"].get<double>()));
            }
        }
        const json &cmp = out["comparison"][0];
        QCOMPARE(cmp["top1_agrees"].get<bool>(), c["top5"][0]["index"] == c["top5_b"][0]["index"]);
        double maxDiff = 0;
        for (size_t i = 0; i < c["logits"].size(); ++i)
            maxDiff = std::max(maxDiff, std::abs(c["logits"][i].get<double>() - c["logits_b"][i].get<double>()));
        QVERIFY(close(cmp["max_abs_diff"].get<double>(), maxDiff));
    }

    // The same picture as a .npy file and as a tensor of a torch.save file gives the same
    // logits as the picture itself.
    void npyAndTensorInputs()
    {
        const json &c = runExpected()["classify"][0];
        const QString model = root(c["model"].get<std::string>());
        for (const QString &spec :
             {QStringLiteral("npy:") + fixture("inputs/image_1x3x64x64.npy"),
              QStringLiteral("tensor:") + fixture("inputs/tensors.pt") + QStringLiteral("#image")}) {
            int code = -1;
            QString err;
            const json out = runCli({model, QStringLiteral("--input"), spec}, &code, &err);
            QVERIFY2(code == 0, qPrintable(spec + QLatin1Char(' ') + err));
            for (size_t i = 0; i < c["logits"].size(); ++i)
                QVERIFY(close(out["outputs"][0]["values"][i].get<double>(), c["logits"][i].get<double>()));
            QCOMPARE(out["inputs"][0]["shape"], json({1, 3, 64, 64}));
        }
    }

    // Every layer's output equals what the forward hooks recorded, in the same order.
    void layersEqualForwardHooks_data()
    {
        QTest::addColumn<QString>("model");
        for (const auto &[path, entry] : runExpected()["layers"].items())
            QTest::newRow(path.c_str()) << QString::fromStdString(path);
    }
    void layersEqualForwardHooks()
    {
        QFETCH(QString, model);
        const json &want = runExpected()["layers"][model.toStdString()];
        QStringList dims;
        for (const auto &d : want["input"]["shape"])
            dims << QString::number(d.get<int64_t>());
        const QString spec = QStringLiteral("arange(0,%1):%2:float32")
                                 .arg(want["input"]["scale"].get<double>(), 0, 'g', 17)
                                 .arg(dims.join(QLatin1Char('x')));
        int code = -1;
        QString err;
        const json out = runCli(
            {root(model.toStdString()), QStringLiteral("--input"), spec, QStringLiteral("--layers")}, &code, &err);
        QVERIFY2(out.contains("layers"), qPrintable(err));
        const json &got = out["layers"];
        QCOMPARE(got.size(), want["layers"].size());
        for (size_t i = 0; i < got.size(); ++i) {
            const json &g = got[i], &w = want["layers"][i];
            QCOMPARE(g["path"], w["path"]);
            QCOMPARE(g["shape"], w["shape"]);
            QCOMPARE(g["nan"], w["nan"]);
            QCOMPARE(g["inf"], w["inf"]);
            for (const char *stat : {"sum", "mean", "std", "min", "max"})
                QVERIFY2(close(g[stat].get<double>(), w[stat].get<double>()),
                         qPrintable(QStringLiteral("%1 %2: %3 vs %4")
                                        .arg(QString::fromStdString(w["path"].get<std::string>()), QLatin1String(stat))
                                        .arg(g[stat].get<double>())
                                        .arg(w[stat].get<double>())));
        }
        QCOMPARE(out["first_nonfinite_layer"], want["first_nonfinite"]);
    }

    // Bad inputs and labels: a clear message naming the file, exit 2, no crash.
    void badInputsAreClear_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        const QString model = fixture("shapes_classifier.pt");
        const QString in = QStringLiteral("--input");
        QTest::newRow("missing image") << QStringList{model, in, QStringLiteral("image:/nonexistent.png")}
                                       << QStringLiteral("/nonexistent.png");
        QTest::newRow("not an image") << QStringList{model, in, QStringLiteral("image:") + fixture("shapes_labels.txt")}
                                      << QStringLiteral("shapes_labels.txt");
        QTest::newRow("bad option") << QStringList{model, in,
                                                   QStringLiteral("image:") + fixture("images/circle.png") +
                                                       QStringLiteral(":sepia")}
                                    << QStringLiteral("sepia");
        QTest::newRow("npy of a text file")
            << QStringList{model, in, QStringLiteral("npy:") + fixture("shapes_labels.txt")}
            << QStringLiteral("not a NumPy");
        QTest::newRow("big-endian npy") << QStringList{model, in,
                                                       QStringLiteral("npy:") + fixture("inputs/bigendian_f4.npy")}
                                        << QStringLiteral("big-endian");
        QTest::newRow("missing key") << QStringList{model, in,
                                                    QStringLiteral("tensor:") + fixture("inputs/tensors.pt") +
                                                        QStringLiteral("#nope")}
                                     << QStringLiteral("no tensor 'nope'");
        QTest::newRow("bad labels") << QStringList{model, QStringLiteral("--labels"), fixture("inputs/u8_4.npy")}
                                    << QStringLiteral("u8_4.npy");
        QTest::newRow("wrong shape") << QStringList{model, in,
                                                    QStringLiteral("npy:") + fixture("inputs/fortran_2x3_f64.npy")}
                                     << QStringLiteral("error");
    }
    void badInputsAreClear()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        int code = -1;
        QString err;
        runCli(args, &code, &err);
        QVERIFY2(code == 1 || code == 2, qPrintable(QString::number(code) + err));
        QVERIFY2(err.contains(message), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(RealInputsTest)
#include "tst_realinputs.moc"
