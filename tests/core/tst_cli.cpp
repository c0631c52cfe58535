// The headless contract of torch-explorer-cli (DESIGN.md), run as a user would: exit
// codes, one JSON document on stdout, messages on stderr, and inspecting without the
// libtorch runtime anywhere near the binary.
#include "fixtureexpectations.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using nlohmann::json;
using namespace te::testing;

namespace {

const QString kCli = QStringLiteral(TE_BIN_DIR "/torch-explorer-cli");
const QString kRuntime = QStringLiteral(TE_BIN_DIR "/libtorchexplorer_runtime.so");

ProcessResult run(const QString &program, const QStringList &args)
{
    // The loader honours this variable first; the tests decide where the runtime is.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("TORCH_EXPLORER_RUNTIME"));
    return runProcess(program, args, env);
}

QString describe(const ProcessResult &r)
{
    return QStringLiteral("exit %1%2\nstdout: %3\nstderr: %4")
        .arg(r.exitCode)
        .arg(r.crashed ? QStringLiteral(" (crashed or timed out)") : QString())
        .arg(QString::fromUtf8(r.out.left(2000)), QString::fromUtf8(r.err.left(2000)));
}

const QString kStateDict = QStringLiteral(TE_FIXTURES_DIR "/state_dict.pt");

} // namespace

#define EXPECT_EXIT(result, code) QVERIFY2(!(result).crashed && (result).exitCode == (code), qPrintable(describe(result)))

class CliTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY2(QFile::exists(kCli), qPrintable(kCli + QLatin1String(" is not built")));
        QVERIFY(expected().is_object());
    }

    void help()
    {
        const ProcessResult r = run(kCli, {QStringLiteral("--help")});
        EXPECT_EXIT(r, 0);
        QVERIFY(r.out.contains("inspect"));
        QVERIFY(r.out.contains("scan"));
    }

    void noArgumentsIsAnError()
    {
        const ProcessResult r = run(kCli, {});
        EXPECT_EXIT(r, 2);
    }

    void inspectJsonKeys()
    {
        const ProcessResult r = run(kCli, {QStringLiteral("inspect"), kStateDict, QStringLiteral("--json")});
        EXPECT_EXIT(r, 0);
        // One JSON document and nothing else: parse() rejects trailing text.
        const json doc = json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY2(!doc.is_discarded(), qPrintable(describe(r)));
        QCOMPARE(QString::fromStdString(doc["format"]), QStringLiteral("torch_zip"));
        std::vector<std::string> keys, wanted;
        for (const auto &t : doc["tensors"])
            keys.push_back(t["key"]);
        for (const auto &t : expected()["files"]["state_dict.pt"]["tensors"])
            wanted.push_back(t["key"]);
        QCOMPARE(keys, wanted);
        for (size_t i = 0; i < keys.size(); ++i) {
            QCOMPARE(doc["tensors"][i]["shape"], expected()["files"]["state_dict.pt"]["tensors"][i]["shape"]);
            QCOMPARE(doc["tensors"][i]["dtype"], expected()["files"]["state_dict.pt"]["tensors"][i]["dtype"]);
            QVERIFY(!doc["tensors"][i].contains("sum")); // only with --stats
        }
        QCOMPARE(QString::fromStdString(doc["security"]["verdict"]), QStringLiteral("safe"));
    }

    void inspectStatsSums()
    {
        const ProcessResult r = run(kCli, {QStringLiteral("inspect"), kStateDict, QStringLiteral("--json"),
                                           QStringLiteral("--stats")});
        EXPECT_EXIT(r, 0);
        const json doc = json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY2(!doc.is_discarded(), qPrintable(describe(r)));
        const json &wanted = expected()["files"]["state_dict.pt"]["tensors"];
        QCOMPARE(doc["tensors"].size(), wanted.size());
        for (size_t i = 0; i < wanted.size(); ++i) {
            const json &t = doc["tensors"][i];
            QVERIFY2(t.contains("sum") && t["sum"].is_number(), t.dump().c_str());
            QVERIFY2(close(t["sum"].get<double>(), wanted[i]["sum"].get<double>()),
                     (t.dump() + " expected sum " + wanted[i]["sum"].dump()).c_str());
            for (const char *k : {"min", "max", "mean", "std"})
                QVERIFY2(t.contains(k), k);
        }
    }

    void inspectText()
    {
        const ProcessResult r = run(kCli, {QStringLiteral("inspect"), kStateDict});
        EXPECT_EXIT(r, 0);
        QVERIFY(r.out.contains("conv.weight"));
        QVERIFY(r.out.contains("torch_zip"));
    }

    void scanDangerous()
    {
        const ProcessResult r =
            run(kCli, {QStringLiteral("scan"), QStringLiteral(TE_FIXTURES_DIR "/hostile/os_system_zip.pt")});
        EXPECT_EXIT(r, 1);
        QVERIFY2(r.out.contains("os.system"), qPrintable(describe(r)));
        QVERIFY(r.out.contains("dangerous"));

        const ProcessResult j = run(kCli, {QStringLiteral("scan"), QStringLiteral(TE_FIXTURES_DIR "/hostile/os_system_zip.pt"),
                                           QStringLiteral("--json")});
        EXPECT_EXIT(j, 1);
        const json doc = json::parse(j.out.toStdString(), nullptr, false);
        QVERIFY2(!doc.is_discarded(), qPrintable(describe(j)));
        QCOMPARE(QString::fromStdString(doc["verdict"]), QStringLiteral("dangerous"));
    }

    void scanSafe()
    {
        const ProcessResult r = run(kCli, {QStringLiteral("scan"), kStateDict, QStringLiteral("--json")});
        EXPECT_EXIT(r, 0);
        const json doc = json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY2(!doc.is_discarded(), qPrintable(describe(r)));
        QCOMPARE(QString::fromStdString(doc["verdict"]), QStringLiteral("safe"));
        const ProcessResult text = run(kCli, {QStringLiteral("scan"), kStateDict});
        EXPECT_EXIT(text, 0);
        QVERIFY(text.out.contains("safe"));
    }

    void missingFile_data()
    {
        QTest::addColumn<QString>("command");
        QTest::newRow("inspect") << QStringLiteral("inspect");
        QTest::newRow("scan") << QStringLiteral("scan");
    }
    void missingFile()
    {
        QFETCH(QString, command);
        const ProcessResult r = run(kCli, {command, QStringLiteral("/nonexistent/no_such_model.pt"), QStringLiteral("--json")});
        EXPECT_EXIT(r, 2);
        QVERIFY2(!r.err.trimmed().isEmpty(), qPrintable(describe(r)));
        QVERIFY2(r.out.trimmed().isEmpty(), qPrintable(describe(r))); // nothing half-written on stdout
    }

    void notAModel()
    {
        const ProcessResult r = run(kCli, {QStringLiteral("inspect"), QStringLiteral(TE_FIXTURES_DIR "/make_fixtures.py")});
        EXPECT_EXIT(r, 2);
        QVERIFY(!r.err.trimmed().isEmpty());
    }

    void badArguments_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")};
        QTest::newRow("unknown option") << QStringList{QStringLiteral("inspect"), kStateDict, QStringLiteral("--bogus")};
        QTest::newRow("no file") << QStringList{QStringLiteral("inspect")};
        QTest::newRow("two files") << QStringList{QStringLiteral("scan"), kStateDict, kStateDict};
    }
    void badArguments()
    {
        QFETCH(QStringList, args);
        const ProcessResult r = run(kCli, args);
        EXPECT_EXIT(r, 2);
        QVERIFY2(!r.err.trimmed().isEmpty(), qPrintable(describe(r)));
    }

    // A damaged file whose tensor key is not UTF-8 (one byte of "bn.running_var" flipped,
    // as a bad download might): the CLI may refuse it, but never abort half-way.
    void inspectDamagedKeyExitsCleanly()
    {
        QFile in(kStateDict);
        QVERIFY(in.open(QIODevice::ReadOnly));
        QByteArray bytes = in.readAll();
        const qsizetype at = bytes.indexOf("bn.running_var");
        QVERIFY(at > 0);
        bytes[at + 3] = char(0xAA);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QFile out(dir.filePath(QStringLiteral("damaged.pt")));
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(bytes);
        out.close();
        const ProcessResult r = run(kCli, {QStringLiteral("inspect"), out.fileName(), QStringLiteral("--json")});
        QVERIFY2(!r.crashed && (r.exitCode == 0 || r.exitCode == 2), qPrintable(describe(r)));
        if (r.exitCode == 0)
            QVERIFY2(!json::parse(r.out.toStdString(), nullptr, false).is_discarded(), qPrintable(describe(r)));
        else
            QVERIFY2(!r.err.trimmed().isEmpty(), qPrintable(describe(r)));
    }

    // Beside the build's runtime library, --version reports libtorch; without one, missing.
    void versionInBuildTree()
    {
        const ProcessResult r = run(kCli, {QStringLiteral("--version")});
        EXPECT_EXIT(r, 0);
        if (QFile::exists(kRuntime))
            QVERIFY2(r.out.contains("runtime: libtorch"), qPrintable(describe(r)));
        else
            QVERIFY2(r.out.contains("runtime: missing"), qPrintable(describe(r)));
    }

    // The binary alone, without the runtime library: inspecting and scanning must work
    // (they never load libtorch), and --version says the runtime is missing.
    void worksWithoutRuntime()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString copy = dir.filePath(QStringLiteral("torch-explorer-cli"));
        QVERIFY(QFile::copy(kCli, copy));
        QVERIFY(QFile::setPermissions(copy, QFile::permissions(kCli) | QFileDevice::ExeOwner));
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("libtorchexplorer_runtime.so"))));

        const ProcessResult help = run(copy, {QStringLiteral("--help")});
        EXPECT_EXIT(help, 0);

        const ProcessResult inspect = run(copy, {QStringLiteral("inspect"), kStateDict, QStringLiteral("--json"),
                                                 QStringLiteral("--stats")});
        EXPECT_EXIT(inspect, 0);
        QVERIFY(!json::parse(inspect.out.toStdString(), nullptr, false).is_discarded());

        const ProcessResult scan = run(copy, {QStringLiteral("scan"), kStateDict});
        EXPECT_EXIT(scan, 0);

        const ProcessResult version = run(copy, {QStringLiteral("--version")});
        EXPECT_EXIT(version, 0);
        QVERIFY2(version.out.contains("runtime: missing"), qPrintable(describe(version)));

        const ProcessResult devices = run(copy, {QStringLiteral("devices")});
        EXPECT_EXIT(devices, 2);
        QVERIFY(!devices.err.trimmed().isEmpty());
    }
};

QTEST_GUILESS_MAIN(CliTest)
#include "tst_cli.moc"
