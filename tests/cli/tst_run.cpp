// Running the fixtures' TorchScript models through the CLI and the runtime library:
// outputs equal what PyTorch computed for the same inputs, weights go through the
// doctor (non-strict runs, strict fails with PyTorch's text), and without the runtime
// library `run` says why it cannot run.
#include "tests/support/fixtureexpectations.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <nlohmann/json.hpp>

using json = nlohmann::json;
using namespace te::testing;

namespace {

QString cli() { return QStringLiteral(TE_BIN_DIR "/torch-explorer-cli"); }

bool runtimeBuilt() { return QFile::exists(QStringLiteral(TE_BIN_DIR "/libtorchexplorer_runtime.so")); }

QString specFor(const json &input)
{
    QStringList dims;
    for (const auto &d : input["shape"])
        dims << QString::number(d.get<int64_t>());
    return QStringLiteral("arange(0,%1):%2:%3")
        .arg(input["scale"].get<double>(), 0, 'g', 17)
        .arg(dims.join(QLatin1Char('x')), QString::fromStdString(input["dtype"].get<std::string>()));
}

} // namespace

class RunTest : public QObject {
    Q_OBJECT
private slots:
    void init()
    {
        if (!runtimeBuilt())
            QSKIP("this build has no runtime library (TE_BUILD_RUNTIME=OFF)");
    }

    void outputsEqualPyTorch_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("dir");
        for (const char *section : {"files", "demo"})
            for (const auto &[name, entry] : expected()[section].items())
                if (entry.contains("run"))
                    QTest::newRow(name.c_str())
                        << QString::fromStdString(name)
                        << QString::fromLatin1(std::string(section) == "demo" ? TE_SOURCE_DIR "/resources/demo/"
                                                                              : TE_FIXTURES_DIR "/");
    }

    void outputsEqualPyTorch()
    {
        QFETCH(QString, file);
        QFETCH(QString, dir);
        const std::string section = dir.contains(QStringLiteral("demo")) ? "demo" : "files";
        const json &run = expected()[section][file.toStdString()]["run"];
        QProcess p;
        p.start(cli(), {QStringLiteral("run"), dir + file, QStringLiteral("--input"), specFor(run["input"]),
                        QStringLiteral("--repeat"), QStringLiteral("2"), QStringLiteral("--json")});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const json out = json::parse(p.readAllStandardOutput().toStdString());
        const json &o = out["outputs"][0];
        QCOMPARE(o["shape"], run["output"]["shape"]);
        const double sum = run["output"]["sum"].get<double>();
        QVERIFY2(std::abs(o["sum"].get<double>() - sum) <= 1e-4 * std::max(1.0, std::abs(sum)),
                 qPrintable(QStringLiteral("sum %1 vs %2").arg(o["sum"].get<double>()).arg(sum)));
        const auto &first = run["output"]["first"];
        for (size_t i = 0; i < first.size(); ++i) {
            const double want = first[i].get<double>(), got = o["values"][i].get<double>();
            QVERIFY2(std::abs(got - want) <= 1e-4 * std::max(1e-3, std::abs(want)),
                     qPrintable(QStringLiteral("value %1: %2 vs %3").arg(i).arg(got).arg(want)));
        }
        QVERIFY(out["latency_ms"]["min"].get<double>() > 0);
    }

    void weightsThroughTheDoctor()
    {
        const QString dir = QStringLiteral(TE_FIXTURES_DIR "/");
        QProcess p;
        p.start(cli(), {QStringLiteral("run"), dir + QStringLiteral("mismatch_model.pt"), QStringLiteral("--weights"),
                        dir + QStringLiteral("mismatch_weights.pt"), QStringLiteral("--input"),
                        QStringLiteral("ones:1x3x16x16"), QStringLiteral("--json")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0); // the compatible weights, applied non-strictly
        const json out = json::parse(p.readAllStandardOutput().toStdString());
        QCOMPARE(out["weights"]["applied"].get<int>(), 8);
        QCOMPARE(out["weights"]["skipped_shape_mismatch"].get<int>(), 3);

        p.start(cli(), {QStringLiteral("run"), dir + QStringLiteral("mismatch_model.pt"), QStringLiteral("--weights"),
                        dir + QStringLiteral("mismatch_weights.pt"), QStringLiteral("--strict")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        const std::string err = p.readAllStandardError().toStdString();
        QVERIFY2(err.find(expected()["mismatch"][0]["strict_error"].get<std::string>()) != std::string::npos,
                 err.c_str());
    }

    void prefixedWeightsLoadAfterRename()
    {
        // scripted.pt with the DataParallel state dict of the same net: strict fails on the
        // prefix, and stripping module. applies every key.
        const QString dir = QStringLiteral(TE_FIXTURES_DIR "/");
        auto runWith = [&](const QStringList &extra) {
            QProcess p;
            p.start(cli(),
                    QStringList{QStringLiteral("run"), dir + QStringLiteral("scripted.pt"), QStringLiteral("--input"),
                                QStringLiteral("ones:1x3x16x16"), QStringLiteral("--json")} +
                        extra);
            p.waitForFinished(60000);
            return std::make_pair(p.exitCode(), p.readAllStandardOutput().toStdString());
        };
        auto plain = runWith({});
        auto strictFails = runWith({QStringLiteral("--weights"), dir + QStringLiteral("dataparallel_state_dict.pt"),
                                    QStringLiteral("--strict")});
        QCOMPARE(strictFails.first, 1);
        auto fixed = runWith({QStringLiteral("--weights"), dir + QStringLiteral("dataparallel_state_dict.pt"),
                              QStringLiteral("--rename"), QStringLiteral("module.=")});
        QCOMPARE(plain.first, 0);
        QCOMPARE(fixed.first, 0);
        QCOMPARE(json::parse(fixed.second)["weights"]["applied"].get<int>(), 9);
    }

    void modelErrorsAreReadable()
    {
        QProcess p;
        p.start(cli(), {QStringLiteral("run"), QStringLiteral(TE_FIXTURES_DIR "/scripted.pt"),
                        QStringLiteral("--input"), QStringLiteral("ones:1x5x16x16")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.contains("expected input[1, 5, 16, 16] to have 3 channels"), err.constData());
        QVERIFY(!err.contains("Exception raised from"));
    }

    // Made-up inputs too big for this machine are refused with the sizes, before anything
    // is allocated, instead of dying in the allocator.
    void hugeInputsRefused()
    {
        QProcess p;
        p.start(cli(), {QStringLiteral("run"), QStringLiteral(TE_FIXTURES_DIR "/scripted.pt"),
                        QStringLiteral("--input"), QStringLiteral("randn:100000x100000x3x64")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 2);
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.contains("refusing to run") && err.contains("MiB of memory are available"), err.constData());
    }

    void notTorchScript()
    {
        QProcess p;
        p.start(cli(), {QStringLiteral("run"), QStringLiteral(TE_FIXTURES_DIR "/state_dict.pt")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("not TorchScript or a torch.export program"));
    }

    // A torch.export program runs node by node through the dispatcher and gives PyTorch's
    // outputs; weights from a checkpoint go through the doctor into it.
    void exportedProgramEqualsPyTorch()
    {
        std::ifstream in(TE_FIXTURES_DIR "/pt2/expected_pt2.json");
        const json want = json::parse(in)["runnable.pt2"];
        const QString program = QStringLiteral(TE_FIXTURES_DIR "/pt2/runnable.pt2");
        const ProcessResult r = runProcess(cli(), {QStringLiteral("run"), program, QStringLiteral("--input"),
                                                   QStringLiteral("arange(-1,0.25):2x4"), QStringLiteral("--json")});
        QVERIFY2(!r.crashed && r.exitCode == 0, r.err.constData());
        // Two outputs: the scores, and their maximum per row through aten.max.dim, a call of
        // two returns named one by one as the serializer writes them.
        const json outputs = json::parse(r.out.constData())["outputs"];
        QCOMPARE(outputs.size(), size_t(2));
        const json out = outputs[0];
        QCOMPARE(out["path"], json("0"));
        QCOMPARE(out["shape"], want["output_shape"]);
        for (const auto &[index, key] : {std::pair<size_t, const char *>{0, "output"}, {1, "max_output"}}) {
            const auto values = outputs[index]["values"].get<std::vector<double>>();
            const auto expectedValues = want[key].get<std::vector<double>>();
            QCOMPARE(values.size(), expectedValues.size());
            for (size_t i = 0; i < values.size(); ++i)
                QVERIFY2(std::abs(values[i] - expectedValues[i]) <= 1e-4, qPrintable(QString::number(i)));
        }

        // The same weights from the older layout's state dict, applied by the doctor.
        const ProcessResult w = runProcess(cli(), {QStringLiteral("run"), program, QStringLiteral("--weights"), program,
                                                   QStringLiteral("--input"), QStringLiteral("arange(-1,0.25):2x4"),
                                                   QStringLiteral("--json")});
        QVERIFY2(!w.crashed && w.exitCode == 0, w.err.constData());
        QCOMPARE(json::parse(w.out.constData())["outputs"][0]["values"], out["values"]);
    }

    // An operator the installed libtorch lacks is named before anything runs; with a
    // libtorch that has it, the program gives PyTorch's outputs.
    void exportedProgramWithNewerOperators()
    {
        std::ifstream in(TE_FIXTURES_DIR "/pt2/expected_pt2.json");
        const json want = json::parse(in)["exported.pt2"];
        const ProcessResult r =
            runProcess(cli(), {QStringLiteral("run"), QStringLiteral(TE_FIXTURES_DIR "/pt2/exported.pt2"),
                               QStringLiteral("--json")});
        if (r.exitCode == 2) {
            QVERIFY2(r.err.contains("lacks: aten::_native_batch_norm_legit_no_training;"), r.err.constData());
            return;
        }
        QVERIFY2(!r.crashed && r.exitCode == 0, r.err.constData());
        QCOMPARE(json::parse(r.out.constData())["outputs"][0]["shape"], json::array({2, 3}));
    }

    // A program whose signature is malformed is refused with why, not run or crashed on.
    void malformedProgramIsRefused()
    {
        const ProcessResult r =
            runProcess(cli(), {QStringLiteral("run"), QStringLiteral(TE_FIXTURES_DIR "/pt2/bad_signature.pt2")});
        QVERIFY2(!r.crashed && r.exitCode == 2, r.err.constData());
        QVERIFY2(r.err.contains("an input spec is not one tagged value"), r.err.constData());
    }

    void withoutTheRuntime()
    {
        QTemporaryDir dir;
        const QString copy = dir.filePath(QStringLiteral("torch-explorer-cli"));
        QVERIFY(QFile::copy(cli(), copy));
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("TORCH_EXPLORER_RUNTIME"));
        p.setProcessEnvironment(env);
        p.start(copy, {QStringLiteral("run"), QStringLiteral(TE_FIXTURES_DIR "/scripted.pt")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("runtime library is not available"));
    }
};

QTEST_GUILESS_MAIN(RunTest)
#include "tst_run.moc"
