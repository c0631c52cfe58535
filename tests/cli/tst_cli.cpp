// The headless contract of torch-explorer-cli (DESIGN.md), run as a user would: exit
// codes, one JSON document on stdout, messages on stderr, and inspecting without the
// libtorch runtime anywhere near the binary.
#include "tests/support/fixtureexpectations.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
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

#define EXPECT_EXIT(result, code)                                                                                      \
    QVERIFY2(!(result).crashed && (result).exitCode == (code), qPrintable(describe(result)))

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
        const ProcessResult r =
            run(kCli, {QStringLiteral("inspect"), kStateDict, QStringLiteral("--json"), QStringLiteral("--stats")});
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

        const ProcessResult j =
            run(kCli, {QStringLiteral("scan"), QStringLiteral(TE_FIXTURES_DIR "/hostile/os_system_zip.pt"),
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

    // --fail-on suspicious: exit 1 for anything torch.load(weights_only=True) refuses.
    void scanFailOn_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("failOn");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("reason");
        QTest::newRow("safe, default") << "state_dict.pt" << QString() << 0 << "weights_only";
        QTest::newRow("safe, suspicious") << "state_dict.pt"
                                          << "suspicious" << 0 << "weights_only";
        QTest::newRow("pickled model, default") << "model_pickled.pt" << QString() << 0 << "needs_python_classes";
        QTest::newRow("pickled model, suspicious") << "model_pickled.pt"
                                                   << "suspicious" << 1 << "needs_python_classes";
        QTest::newRow("torchscript, suspicious") << "scripted.pt"
                                                 << "suspicious" << 1 << "torchscript_code";
        QTest::newRow("dangerous, dangerous") << "hostile/os_system_zip.pt"
                                              << "dangerous" << 1 << "dangerous_calls";
        QTest::newRow("C-module spelling")
            << "hostile/gadget_operator_attrgetter.pkl" << QString() << 1 << "dangerous_calls";
        QTest::newRow("pager in pydoc") << "hostile/gadget_pydoc_pipepager.pt" << QString() << 1 << "dangerous_calls";
        QTest::newRow("exec wrapper in torch")
            << "hostile/gadget_torch_jit_execwrapper.pt" << QString() << 1 << "dangerous_calls";
    }

    void scanFailOn()
    {
        QFETCH(QString, file);
        QFETCH(QString, failOn);
        QFETCH(int, exitCode);
        QFETCH(QString, reason);
        QStringList args{QStringLiteral("scan"), QStringLiteral(TE_FIXTURES_DIR "/") + file, QStringLiteral("--json")};
        if (!failOn.isEmpty())
            args << QStringLiteral("--fail-on") << failOn;
        const ProcessResult r = run(kCli, args);
        EXPECT_EXIT(r, exitCode);
        const json doc = json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY2(!doc.is_discarded(), qPrintable(describe(r)));
        QCOMPARE(QString::fromStdString(doc["verdict_reason"]), reason);
        QVERIFY(doc["summary"].is_string());
        QVERIFY(doc["safe_globals"].is_array());
        const ProcessResult bad =
            run(kCli, {QStringLiteral("scan"), kStateDict, QStringLiteral("--fail-on"), QStringLiteral("never")});
        EXPECT_EXIT(bad, 2);
    }

    // Text output: the verdict line first, each distinct global once.
    void scanTextIsShort()
    {
        const ProcessResult r =
            run(kCli, {QStringLiteral("scan"), QStringLiteral(TE_FIXTURES_DIR "/model_pickled.pt")});
        EXPECT_EXIT(r, 0);
        const QList<QByteArray> lines = r.out.split('\n');
        QVERIFY2(lines.first().contains("suspicious: needs trusted Python classes"), qPrintable(describe(r)));
        QCOMPARE(r.out.count("torch.nn.modules.conv.Conv2d  called"), 1);
        QVERIFY(r.out.contains("torch.serialization.add_safe_globals(["));
        QVERIFY(lines.size() < 60);
    }

    // A torch.export program is a reference like a model: its weights' state-dict names
    // and shapes, with PyTorch's messages.
    void checkAgainstExportedProgram()
    {
        const QString program = QStringLiteral(TE_FIXTURES_DIR "/pt2/exported.pt2");
        const ProcessResult same =
            run(kCli, {QStringLiteral("check"), QStringLiteral(TE_FIXTURES_DIR "/pt2/exported_2_1.pt2"),
                       QStringLiteral("--against"), program, QStringLiteral("--json")});
        EXPECT_EXIT(same, 0);
        QVERIFY(json::parse(same.out.constData())["strict_ok"].get<bool>());
        const ProcessResult other =
            run(kCli, {QStringLiteral("check"), QStringLiteral(TE_FIXTURES_DIR "/mismatch_weights.pt"),
                       QStringLiteral("--against"), program, QStringLiteral("--json")});
        EXPECT_EXIT(other, 1);
        const json j = json::parse(other.out.constData());
        QCOMPARE(j["missing"], json::array({"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
        QVERIFY2(j["strict_error"].get<std::string>().rfind(
                     "Error(s) in loading state_dict for GraphModule:\n\tMissing key(s) in state_dict: \"fc1.weight\"",
                     0) == 0,
                 j["strict_error"].get<std::string>().c_str());
    }

    // Files that are not checkpoints: exit 2, what it is and what to do on stderr.
    void notACheckpoint_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("phrase");
        QTest::newRow("lfs") << "wild/lfs_pointer.pt"
                             << "git lfs pull";
        QTest::newRow("html") << "wild/login_page.bin"
                              << "HTML page";
        QTest::newRow("cut short") << "wild/cut_short_zip.pt"
                                   << "cut short";
        QTest::newRow("gguf") << "wild/model.gguf"
                              << "GGUF";
    }

    void notACheckpoint()
    {
        QFETCH(QString, file);
        QFETCH(QString, phrase);
        for (const char *command : {"inspect", "scan"}) {
            const ProcessResult r =
                run(kCli, {QString::fromLatin1(command), QStringLiteral(TE_FIXTURES_DIR "/") + file});
            EXPECT_EXIT(r, 2);
            QVERIFY2(r.err.contains(phrase.toUtf8()), qPrintable(describe(r)));
            QVERIFY(r.out.isEmpty());
        }
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
        const ProcessResult r =
            run(kCli, {command, QStringLiteral("/nonexistent/no_such_model.pt"), QStringLiteral("--json")});
        EXPECT_EXIT(r, 2);
        QVERIFY2(!r.err.trimmed().isEmpty(), qPrintable(describe(r)));
        QVERIFY2(r.out.trimmed().isEmpty(), qPrintable(describe(r))); // nothing half-written on stdout
    }

    void notAModel()
    {
        const ProcessResult r =
            run(kCli, {QStringLiteral("inspect"), QStringLiteral(TE_FIXTURES_DIR "/make_fixtures.py")});
        EXPECT_EXIT(r, 2);
        QVERIFY(!r.err.trimmed().isEmpty());
    }

    void badArguments_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")};
        QTest::newRow("unknown option") << QStringList{QStringLiteral("inspect"), kStateDict,
                                                       QStringLiteral("--bogus")};
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

    // The one argument parser, as every command uses it: --help (or -h, wherever it
    // stands) prints the command's usage on stdout and exits 0; a mistake prints what is
    // wrong and the same usage on stderr and exits 2, with nothing on stdout.
    void commandUsage_data()
    {
        QTest::addColumn<QString>("command");
        for (const char *c : {"inspect", "scan", "check", "diff", "run", "devices", "cache"})
            QTest::newRow(c) << QString::fromLatin1(c);
    }
    void commandUsage()
    {
        QFETCH(QString, command);
        const QByteArray usageLine = "usage: torch-explorer-cli " + command.toUtf8() + " ";
        const ProcessResult help = run(kCli, {command, QStringLiteral("--help")});
        EXPECT_EXIT(help, 0);
        QVERIFY2(help.out.startsWith("torch-explorer-cli " + command.toUtf8() + ": ") && help.out.contains(usageLine) &&
                     help.err.isEmpty(),
                 qPrintable(describe(help)));
        const ProcessResult h = run(kCli, {command, QStringLiteral("--bogus"), QStringLiteral("-h")});
        EXPECT_EXIT(h, 0);
        QCOMPARE(h.out, help.out);

        const ProcessResult bad = run(kCli, {command, QStringLiteral("--bogus")});
        EXPECT_EXIT(bad, 2);
        QVERIFY2(bad.out.isEmpty(), qPrintable(describe(bad)));
        const QByteArray why = "torch-explorer-cli " + command.toUtf8() + ": unknown option --bogus\n";
        QVERIFY2(bad.err.startsWith(why), qPrintable(describe(bad)));
        const QByteArray usage = bad.err.mid(why.size());
        QVERIFY2(usage.startsWith(usageLine) && help.out.endsWith("\n" + usage), qPrintable(describe(bad)));

        // The usage text and the declared options agree: every option the usage names is
        // known to the parser (the trailing operands make each line a mistake, so nothing runs).
        static const QRegularExpression option(QStringLiteral("--[a-z-]+"));
        for (const auto &m : option.globalMatch(QString::fromUtf8(help.out))) {
            const ProcessResult r =
                run(kCli, {command, m.captured(), QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")});
            EXPECT_EXIT(r, 2);
            QVERIFY2(!r.err.contains("unknown option"), qPrintable(m.captured() + QLatin1Char(' ') + describe(r)));
        }
    }

    // Each mistake with its message on stderr and exit 2.
    void parserMistakes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        const QString sd = kStateDict;
        QTest::newRow("unknown option") << QStringList{QStringLiteral("diff"), sd, sd, QStringLiteral("--bogus")}
                                        << "diff: unknown option --bogus";
        QTest::newRow("unknown option=value")
            << QStringList{QStringLiteral("inspect"), sd, QStringLiteral("--bogus=1")} << "unknown option --bogus";
        QTest::newRow("missing value") << QStringList{QStringLiteral("check"), sd, QStringLiteral("--against")}
                                       << "--against needs REFERENCE";
        QTest::newRow("missing required option")
            << QStringList{QStringLiteral("check"), sd} << "missing --against REFERENCE";
        QTest::newRow("repeated option") << QStringList{QStringLiteral("check"),     sd,
                                                        QStringLiteral("--against"), sd,
                                                        QStringLiteral("--against"), sd}
                                         << "--against is given more than once";
        QTest::newRow("repeated option=value")
            << QStringList{QStringLiteral("scan"), sd, QStringLiteral("--fail-on=dangerous"),
                           QStringLiteral("--fail-on"), QStringLiteral("suspicious")}
            << "--fail-on is given more than once";
        QTest::newRow("value for a flag")
            << QStringList{QStringLiteral("inspect"), sd, QStringLiteral("--json=yes")} << "--json takes no value";
        QTest::newRow("not a choice") << QStringList{QStringLiteral("scan"), sd, QStringLiteral("--fail-on=never")}
                                      << "--fail-on takes dangerous or suspicious, not 'never'";
        QTest::newRow("missing operand") << QStringList{QStringLiteral("diff"), sd} << "diff: missing B";
        QTest::newRow("missing operands") << QStringList{QStringLiteral("diff")} << "diff: missing A and B";
        QTest::newRow("extra operand") << QStringList{QStringLiteral("devices"), sd}
                                       << QStringLiteral("devices: unexpected argument '%1'").arg(sd);
        QTest::newRow("cache root without DIR")
            << QStringList{QStringLiteral("cache"), QStringLiteral("--root")} << "--root needs DIR";
        QTest::newRow("bad fraction") << QStringList{QStringLiteral("check"),        sd,
                                                     QStringLiteral("--against"),    sd,
                                                     QStringLiteral("--min-loaded"), QStringLiteral("2")}
                                      << "--min-loaded takes a fraction between 0 and 1, not '2'";
        QTest::newRow("bad rename") << QStringList{QStringLiteral("check"),     sd,
                                                   QStringLiteral("--against"), sd,
                                                   QStringLiteral("--rename"),  QStringLiteral("nothing")}
                                    << "check: ";
        // run checks its arguments before it reads the model or loads the runtime.
        QTest::newRow("bad count") << QStringList{QStringLiteral("run"), sd, QStringLiteral("--repeat"),
                                                  QStringLiteral("-1")}
                                   << "--repeat takes a count from 0 to 100000, not '-1'";
        QTest::newRow("bad input spec") << QStringList{QStringLiteral("run"), QStringLiteral("/nonexistent/model.pt"),
                                                       QStringLiteral("--input"), QStringLiteral("sevens:1x3")}
                                        << "run: unknown fill 'sevens'";
    }
    void parserMistakes()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const ProcessResult r = run(kCli, args);
        EXPECT_EXIT(r, 2);
        QVERIFY2(r.out.isEmpty(), qPrintable(describe(r)));
        QVERIFY2(r.err.startsWith("torch-explorer-cli ") && r.err.contains(message.toUtf8()), qPrintable(describe(r)));
        QVERIFY2(r.err.contains("\nusage: torch-explorer-cli " + args.first().toUtf8() + " "), qPrintable(describe(r)));
    }

    // What the parser accepts: --name=value as well as --name value, repeatable options
    // given more than once, flags given twice, options among the operands, and "--"
    // ending the options.
    void parserAccepts()
    {
        const ProcessResult eq = run(kCli, {QStringLiteral("check"), kStateDict,
                                            QStringLiteral("--against=") + kStateDict, QStringLiteral("--json")});
        EXPECT_EXIT(eq, 0);
        QVERIFY(json::parse(eq.out.toStdString())["strict_ok"].get<bool>());

        const ProcessResult renames =
            run(kCli, {QStringLiteral("check"), QStringLiteral("--rename"), QStringLiteral("module.="), kStateDict,
                       QStringLiteral("--json"), QStringLiteral("--rename=re:^nothing$=none"),
                       QStringLiteral("--against"), kStateDict, QStringLiteral("--json")});
        EXPECT_EXIT(renames, 0);
        QVERIFY(!json::parse(renames.out.toStdString(), nullptr, false).is_discarded());

        const ProcessResult ended =
            run(kCli, {QStringLiteral("inspect"), QStringLiteral("--json"), QStringLiteral("--"), kStateDict});
        EXPECT_EXIT(ended, 0);
        QVERIFY(!json::parse(ended.out.toStdString(), nullptr, false).is_discarded());
        const ProcessResult notAnOption =
            run(kCli, {QStringLiteral("inspect"), QStringLiteral("--"), QStringLiteral("--json")});
        EXPECT_EXIT(notAnOption, 2);
        QVERIFY2(notAnOption.err.contains("--json"), qPrintable(describe(notAnOption)));
        QVERIFY2(!notAnOption.err.contains("unknown option"), qPrintable(describe(notAnOption)));
    }

    // The program's help lists every command with its usage line, and without a command
    // the same text goes to stderr with exit 2.
    void helpListsEveryCommand()
    {
        const ProcessResult help = run(kCli, {QStringLiteral("--help")});
        EXPECT_EXIT(help, 0);
        for (const char *c : {"inspect", "scan", "check", "diff", "run", "devices", "cache"}) {
            const ProcessResult own = run(kCli, {QString::fromLatin1(c), QStringLiteral("--help")});
            // The first words of the command's usage line (both texts wrap later).
            QByteArray line = own.out.mid(own.out.indexOf("usage: ") + 7, 60);
            line.truncate(line.contains('\n') ? line.indexOf('\n') : line.lastIndexOf(' '));
            QVERIFY2(help.out.contains("  " + line), qPrintable(QString::fromUtf8(line)));
        }
        const ProcessResult none = run(kCli, {});
        EXPECT_EXIT(none, 2);
        QVERIFY(none.out.isEmpty());
        QCOMPARE(none.err, help.out);
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

        const ProcessResult inspect =
            run(copy, {QStringLiteral("inspect"), kStateDict, QStringLiteral("--json"), QStringLiteral("--stats")});
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
