// `export` as a user runs it: a distributed checkpoint written as one torch.save file
// and as save_pretrained's sharded safetensors folder, both read back (by this program
// and, where it is installed, by PyTorch) with the checkpoint's values; a regular file
// exported too; and the mistakes a user makes answered with exit 2 and nothing written.
#include "tests/support/fixtureexpectations.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <nlohmann/json.hpp>

using nlohmann::json;
using namespace te::testing;

namespace {

const QString kCli = QStringLiteral(TE_BIN_DIR "/torch-explorer-cli");
const QString kSharded = QStringLiteral(TE_FIXTURES_DIR "/dcp/sharded");

QString describe(const ProcessResult &r)
{
    return QStringLiteral("exit %1%2\nstdout: %3\nstderr: %4")
        .arg(r.exitCode)
        .arg(r.crashed ? QStringLiteral(" (crashed or timed out)") : QString())
        .arg(QString::fromUtf8(r.out.left(2000)), QString::fromUtf8(r.err.left(2000)));
}

const json &dcpExpected()
{
    static const json j = [] {
        std::ifstream in(TE_FIXTURES_DIR "/dcp/expected_dcp.json");
        return json::parse(in);
    }();
    return j;
}

json runJson(const QStringList &args, ProcessResult *result = nullptr)
{
    const ProcessResult r = runProcess(kCli, args);
    if (result)
        *result = r;
    if (r.crashed || r.exitCode != 0)
        return json();
    return json::parse(r.out.constData(), nullptr, false);
}

// key -> sum, from inspect --json --stats.
std::map<std::string, double> sums(const QString &path)
{
    std::map<std::string, double> out;
    const json doc = runJson({QStringLiteral("inspect"), path, QStringLiteral("--json"), QStringLiteral("--stats")});
    if (doc.is_object())
        for (const json &t : doc["tensors"])
            if (t.contains("sum"))
                out[t["key"].get<std::string>()] = t["sum"].get<double>();
    return out;
}

bool nearly(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

} // namespace

#define EXPECT_EXIT(result, code)                                                                                      \
    QVERIFY2(!(result).crashed && (result).exitCode == (code), qPrintable(describe(result)))

class ExportCliTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY2(QFile::exists(kCli), qPrintable(kCli + QLatin1String(" is not built"))); }

    // Every tensor of the checkpoint, under its dotted key, with PyTorch's sums; a diff
    // against the checkpoint finds every one identical.
    void dcpToTorchSave()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("consolidated.pt"));
        ProcessResult r;
        const json j = runJson({QStringLiteral("export"), kSharded, QStringLiteral("--to"), out,
                                QStringLiteral("--format"), QStringLiteral("pt"), QStringLiteral("--json")},
                               &r);
        QVERIFY2(j.is_object(), qPrintable(describe(r)));
        QCOMPARE(j["format"].get<std::string>(), std::string("pt"));
        QCOMPARE(j["files"], json::array({out.toStdString()}));
        const json &want = dcpExpected()["checkpoints"]["sharded"]["tensors"];
        QCOMPARE(j["tensors"].get<size_t>(), want.size());

        const auto got = sums(out);
        QCOMPARE(got.size(), want.size());
        for (const auto &[key, t] : want.items()) {
            QVERIFY2(got.count(key), key.c_str());
            QVERIFY2(nearly(got.at(key), t["sum"].get<double>()), key.c_str());
        }
        const json diff = runJson({QStringLiteral("diff"), kSharded, out, QStringLiteral("--json")});
        QVERIFY(diff.is_object());
        QCOMPARE(diff["identical"].get<size_t>(), want.size());
        QVERIFY(diff["changed"].empty() && diff["only_a"].empty() && diff["only_b"].empty());
    }

    // The model's state dict alone, without its prefix, in shards of at most 500 bytes,
    // with the index save_pretrained writes; the folder opens as a model and a diff
    // against the checkpoint finds every tensor identical.
    void dcpToShardedSafetensors()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("hf"));
        ProcessResult r;
        const json j =
            runJson({QStringLiteral("export"), kSharded, QStringLiteral("--to"), out, QStringLiteral("--format"),
                     QStringLiteral("safetensors"), QStringLiteral("--state-dict"), QStringLiteral("model"),
                     QStringLiteral("--max-shard-size"), QStringLiteral("500B"), QStringLiteral("--json")},
                    &r);
        QVERIFY2(j.is_object(), qPrintable(describe(r)));
        const auto files = j["files"].get<std::vector<std::string>>();
        QVERIFY(files.size() >= 3);
        QVERIFY(QString::fromStdString(files.back()).endsWith(QStringLiteral("/model.safetensors.index.json")));
        for (size_t i = 0; i + 1 < files.size(); ++i) {
            const QString name = QString::fromStdString(files[i]).section(QLatin1Char('/'), -1);
            QCOMPARE(name, QStringLiteral("model-%1-of-%2.safetensors")
                               .arg(i + 1, 5, 10, QLatin1Char('0'))
                               .arg(files.size() - 1, 5, 10, QLatin1Char('0')));
            QVERIFY(QFileInfo(QString::fromStdString(files[i])).size() <= 500 + 1024);
        }
        std::ifstream in(files.back());
        const nlohmann::ordered_json index = nlohmann::ordered_json::parse(in);
        const json &want = dcpExpected()["checkpoints"]["sharded"];
        std::vector<std::string> keys;
        for (const auto &[k, v] : index["weight_map"].items())
            keys.push_back(k);
        QCOMPARE(keys, want["unflattened_keys"]["model"].get<std::vector<std::string>>());
        uint64_t total = 0;
        for (const auto &[k, t] : want["tensors"].items())
            if (k.rfind("model.", 0) == 0) {
                uint64_t n = t["dtype"] == "bfloat16" ? 2 : t["dtype"] == "int64" ? 8 : 4;
                for (const auto &d : t["shape"])
                    n *= d.get<uint64_t>();
                total += n;
            }
        QCOMPARE(index["metadata"]["total_size"].get<uint64_t>(), total);

        const auto got = sums(out);
        for (const auto &[k, t] : want["tensors"].items())
            if (k.rfind("model.", 0) == 0) {
                QVERIFY2(got.count(k.substr(6)), k.c_str());
                QVERIFY2(nearly(got.at(k.substr(6)), t["sum"].get<double>()), k.c_str());
            }
        // The optimizer's tensors are only in the checkpoint, so diff exits 1; the model's
        // are all identical.
        const ProcessResult d = runProcess(kCli, {QStringLiteral("diff"), kSharded, out, QStringLiteral("--json")});
        const json diff = json::parse(d.out.constData(), nullptr, false);
        QVERIFY2(diff.is_object(), qPrintable(describe(d)));
        QCOMPARE(diff["identical"].get<size_t>(), keys.size());
        QVERIFY(diff["changed"].empty());
    }

    // Exporting again with bigger shards leaves no shard or index of the first export.
    void reexportLeavesNoStaleShards()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("hf"));
        const QStringList base = {QStringLiteral("export"),       kSharded,
                                  QStringLiteral("--to"),         out,
                                  QStringLiteral("--state-dict"), QStringLiteral("model")};
        QVERIFY(runJson(base + QStringList{QStringLiteral("--max-shard-size"), QStringLiteral("300"),
                                           QStringLiteral("--json")})
                    .is_object());
        QVERIFY(QDir(out).entryList(QDir::Files).size() > 2);
        QVERIFY(runJson(base + QStringList{QStringLiteral("--json")}).is_object());
        QCOMPARE(QDir(out).entryList(QDir::Files), QStringList{QStringLiteral("model.safetensors")});
    }

    // A regular checkpoint: the format follows the target's name when --format is left out.
    void regularFileBothWays()
    {
        QTemporaryDir dir;
        const QString source = QStringLiteral(TE_FIXTURES_DIR "/state_dict.pt");
        for (const QString &name : {QStringLiteral("copy.pt"), QStringLiteral("copy.safetensors")}) {
            const QString out = dir.filePath(name);
            ProcessResult r;
            const json j =
                runJson({QStringLiteral("export"), source, QStringLiteral("--to"), out, QStringLiteral("--json")}, &r);
            QVERIFY2(j.is_object(), qPrintable(describe(r)));
            QCOMPARE(j["format"].get<std::string>(),
                     std::string(name.endsWith(QStringLiteral(".pt")) ? "pt" : "safetensors"));
            const json info = runJson({QStringLiteral("inspect"), out, QStringLiteral("--json")});
            QCOMPARE(info["format"].get<std::string>(),
                     std::string(name.endsWith(QStringLiteral(".pt")) ? "torch_zip" : "safetensors"));
            QCOMPARE(runJson({QStringLiteral("diff"), source, out, QStringLiteral("--json")})["changed"].size(),
                     size_t(0));
        }
    }

    void pytorchLoadsTheExport()
    {
        const ProcessResult probe =
            runProcess(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), QStringLiteral("import torch")});
        if (probe.crashed || probe.exitCode != 0)
            QSKIP("python3-torch is not installed: /usr/bin/python3 cannot import torch");
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("consolidated.pt"));
        QVERIFY(runJson({QStringLiteral("export"), kSharded, QStringLiteral("--to"), out, QStringLiteral("--json")})
                    .is_object());
        const QString script = QStringLiteral(
            "import json, sys, torch\n"
            "sd = torch.load(sys.argv[1], weights_only=True)\n"
            "print(json.dumps({k: [list(v.shape), str(v.dtype).replace('torch.', ''), v.double().sum().item()]"
            " for k, v in sd.items()}))\n");
        const ProcessResult r = runProcess(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), script, out});
        EXPECT_EXIT(r, 0);
        const json seen = json::parse(r.out.constData());
        const json &want = dcpExpected()["checkpoints"]["sharded"]["tensors"];
        QCOMPARE(seen.size(), want.size());
        for (const auto &[key, t] : want.items()) {
            QVERIFY2(seen.contains(key), key.c_str());
            QCOMPARE(seen[key][0], t["shape"]);
            QCOMPARE(seen[key][1], t["dtype"]);
            QVERIFY2(nearly(seen[key][2].get<double>(), t["sum"].get<double>()), key.c_str());
        }
    }

    void mistakes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("says");
        const QString bad = QStringLiteral(TE_FIXTURES_DIR "/dcp/bad_hole");
        QTest::newRow("no such state dict")
            << QStringList{kSharded, QStringLiteral("--state-dict"), QStringLiteral("decoder")} << "it has: model";
        QTest::newRow("not a size") << QStringList{kSharded, QStringLiteral("--max-shard-size"),
                                                   QStringLiteral("5 apples")}
                                    << "is not a size";
        QTest::newRow("a tensor with a hole") << QStringList{bad} << "cannot export \"w\": the chunks leave 3";
        QTest::newRow("not a model") << QStringList{QStringLiteral(TE_FIXTURES_DIR "/expected.json")}
                                     << "not a PyTorch";
    }

    void mistakes()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, says);
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("out.pt"));
        const ProcessResult r =
            runProcess(kCli, QStringList{QStringLiteral("export")} + args + QStringList{QStringLiteral("--to"), out});
        EXPECT_EXIT(r, 2);
        QVERIFY2(r.err.contains(says.toUtf8()), qPrintable(describe(r)));
        QVERIFY(r.out.isEmpty());
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList());
    }
};

QTEST_GUILESS_MAIN(ExportCliTest)
#include "tst_exportcli.moc"
