// Models on the Hugging Face Hub, against a stand-in hub on 127.0.0.1
// (tests/support/fakehub.py) that serves the fixtures with the Hub's paths, redirects LFS
// files to a "CDN" path, answers ranges, gates a repository and, in a second instance,
// rate-limits and drops connections part-way. The CLI runs as a user runs it, pointed at
// the stand-in with HF_ENDPOINT; nothing else on the network is used.
#include "tests/support/fakehubprocess.h"
#include "tests/support/fixtureexpectations.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using nlohmann::json;
using namespace te::testing;

namespace {

const QString kCli = QStringLiteral(TE_BIN_DIR "/torch-explorer-cli");
const QString kFixtures = QStringLiteral(TE_FIXTURES_DIR);
const QString kToken = QStringLiteral("hf_secret_token_4711");

QString describe(const ProcessResult &r)
{
    return QStringLiteral("exit %1%2\nstdout: %3\nstderr: %4")
        .arg(r.exitCode)
        .arg(r.crashed ? QStringLiteral(" (crashed or timed out)") : QString())
        .arg(QString::fromUtf8(r.out.left(3000)), QString::fromUtf8(r.err.left(3000)));
}

QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool copyInto(const QString &from, const QString &toDir)
{
    return QDir().mkpath(toDir) && QFile::copy(from, toDir + QLatin1Char('/') + QFileInfo(from).fileName());
}

// The inspect document without what differs between a remote and a local open.
json comparable(json doc)
{
    doc.erase("path");
    doc.erase("remote");
    return doc;
}

} // namespace

#define EXPECT_EXIT(result, code)                                                                                      \
    QVERIFY2(!(result).crashed && (result).exitCode == (code), qPrintable(describe(result)))

class HubTest : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    FakeHub m_hub;
    FakeHub m_flaky;
    QString m_home;

    QProcessEnvironment environment(const QString &endpoint, bool withToken = false) const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char *name :
             {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "http_proxy",
              "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "TORCH_EXPLORER_RUNTIME"})
            env.remove(QString::fromLatin1(name));
        env.insert(QStringLiteral("no_proxy"), QStringLiteral("127.0.0.1,localhost"));
        env.insert(QStringLiteral("HF_ENDPOINT"), endpoint);
        env.insert(QStringLiteral("HF_HOME"), m_home);
        if (withToken)
            env.insert(QStringLiteral("HF_TOKEN"), kToken);
        return env;
    }
    ProcessResult cli(const QStringList &args, bool withToken = false) const
    {
        return runProcess(kCli, args, environment(m_hub.endpoint(), withToken));
    }
    QString cacheRoot() const { return m_home + QStringLiteral("/hub"); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_home = m_dir.filePath(QStringLiteral("home"));
        QVERIFY(QDir().mkpath(m_home));
        // One repository of single files, and a dangerous archive with 6 MiB of tensor
        // bytes between its pickle and its directory (hand-made: a hostile file).
        const QString files = m_dir.filePath(QStringLiteral("files"));
        for (const char *name : {"checkpoint.pt", "state_dict.pt", "scripted.pt", "state_dict_legacy.pt",
                                 "torchvision_traced.pt", "model_pickled.pt"})
            QVERIFY(copyInto(kFixtures + QLatin1Char('/') + QLatin1String(name), files));
        QVERIFY(copyInto(kFixtures + QStringLiteral("/hf/dtypes.safetensors"), files));
        const ProcessResult made = runProcess(
            QStringLiteral("/usr/bin/python3"),
            {QStringLiteral("-c"),
             QStringLiteral("import sys, zipfile\n"
                            "src = zipfile.ZipFile(sys.argv[1])\n"
                            "with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_STORED) as out:\n"
                            "    for i in src.infolist():\n"
                            "        out.writestr(i.filename, src.read(i))\n"
                            "        if i.filename.endswith('data.pkl'):\n"
                            "            out.writestr(i.filename[:-8] + 'data/99', bytes(6 << 20))\n"),
             kFixtures + QStringLiteral("/hostile/builtins_eval_zip.pt"), files + QStringLiteral("/padded_eval.pt")});
        QVERIFY2(made.exitCode == 0, made.err.constData());
        const QStringList repos{
            QStringLiteral("--repo"),
            QStringLiteral("testorg/tiny-bert=") + kFixtures + QStringLiteral("/hf/tiny_bert"),
            QStringLiteral("--repo"),
            QStringLiteral("testorg/tiny-bert-bin=") + kFixtures + QStringLiteral("/hf/tiny_bert_bin"),
            QStringLiteral("--repo"),
            QStringLiteral("testorg/tiny-bert-sharded=") + kFixtures + QStringLiteral("/hf/tiny_bert_sharded"),
            QStringLiteral("--repo"),
            QStringLiteral("testorg/tiny-gpt2-bin=") + kFixtures + QStringLiteral("/hf/tiny_gpt2_bin"),
            QStringLiteral("--repo"), QStringLiteral("testorg/files=") + files, QStringLiteral("--repo"),
            QStringLiteral("testorg/gated=") + kFixtures + QStringLiteral("/hf/tiny_bert"), QStringLiteral("--gated"),
            QStringLiteral("testorg/gated"),
            // Repositories that misbehave, each in its own way.
            QStringLiteral("--repo"), QStringLiteral("bad/garbage=") + kFixtures + QStringLiteral("/hf/tiny_bert"),
            QStringLiteral("--hostile"), QStringLiteral("bad/garbage=garbage-listing"), QStringLiteral("--repo"),
            QStringLiteral("bad/escape=") + kFixtures + QStringLiteral("/hf/tiny_bert"), QStringLiteral("--hostile"),
            QStringLiteral("bad/escape=escaping-names"), QStringLiteral("--repo"),
            QStringLiteral("bad/noranges=") + files, QStringLiteral("--hostile"),
            QStringLiteral("bad/noranges=no-ranges"), QStringLiteral("--repo"),
            QStringLiteral("bad/lying=") + kFixtures + QStringLiteral("/hf/tiny_bert"), QStringLiteral("--hostile"),
            QStringLiteral("bad/lying=lying-sizes"), QStringLiteral("--token"), kToken};
        QVERIFY2(m_hub.start(repos), "the stand-in hub did not start");
        QVERIFY2(m_flaky.start(repos + QStringList{QStringLiteral("--rate-limit-every"), QStringLiteral("3"),
                                                   QStringLiteral("--drop-every"), QStringLiteral("2")}),
                 "the flaky stand-in hub did not start");
    }

    void sameDocumentAsLocal_data()
    {
        QTest::addColumn<QString>("remote");
        QTest::addColumn<QString>("local");
        const QString hf = kFixtures + QStringLiteral("/hf/");
        QTest::newRow("safetensors folder")
            << QStringLiteral("hf:testorg/tiny-bert") << hf + QStringLiteral("tiny_bert");
        QTest::newRow("pytorch_model.bin folder")
            << QStringLiteral("hf:testorg/tiny-bert-bin") << hf + QStringLiteral("tiny_bert_bin");
        QTest::newRow("sharded index") << QStringLiteral("hf:testorg/tiny-bert-sharded")
                                       << hf + QStringLiteral("tiny_bert_sharded");
        QTest::newRow("gpt2 bin") << QStringLiteral("hf:testorg/tiny-gpt2-bin") << hf + QStringLiteral("tiny_gpt2_bin");
        for (const char *name : {"checkpoint.pt", "state_dict.pt", "scripted.pt", "state_dict_legacy.pt",
                                 "torchvision_traced.pt", "model_pickled.pt"})
            QTest::newRow(name) << QStringLiteral("hf:testorg/files/") + QLatin1String(name)
                                << kFixtures + QLatin1Char('/') + QLatin1String(name);
        QTest::newRow("dtypes.safetensors")
            << QStringLiteral("hf:testorg/files/dtypes.safetensors") << hf + QStringLiteral("dtypes.safetensors");
        QTest::newRow("page address") << m_hub.endpoint() + QStringLiteral("/testorg/tiny-bert")
                                      << hf + QStringLiteral("tiny_bert");
        QTest::newRow("blob address") << m_hub.endpoint() + QStringLiteral("/testorg/files/blob/main/checkpoint.pt")
                                      << kFixtures + QStringLiteral("/checkpoint.pt");
    }

    // Every fixture read over the network gives the document read from disk, statistics
    // included (which fetch the tensors' bytes).
    void sameDocumentAsLocal()
    {
        QFETCH(QString, remote);
        QFETCH(QString, local);
        const ProcessResult r =
            cli({QStringLiteral("inspect"), remote, QStringLiteral("--json"), QStringLiteral("--stats")});
        EXPECT_EXIT(r, 0);
        const ProcessResult l =
            runProcess(kCli, {QStringLiteral("inspect"), local, QStringLiteral("--json"), QStringLiteral("--stats")});
        EXPECT_EXIT(l, 0);
        const json rj = json::parse(r.out.toStdString()), lj = json::parse(l.out.toStdString());
        QVERIFY2(rj.contains("remote"), r.out.left(400).constData());
        QCOMPARE(rj["path"].get<std::string>(), remote.toStdString());
        QVERIFY(rj["remote"]["commit"].get<std::string>().size() == 40);
        QVERIFY(rj["remote"]["requests"].get<uint64_t>() >= 1);
        QVERIFY(rj["remote"]["bytes_fetched"].get<uint64_t>() > 0);
        const json a = comparable(rj), b = comparable(lj);
        QVERIFY2(a == b, (a.dump().substr(0, 1500) + "\n---\n" + b.dump().substr(0, 1500)).c_str());
    }

    // Retries: every third request is refused with 429 and every second body is cut off
    // half-way; the documents are still the same.
    void retriesRateLimitsAndDroppedBodies()
    {
        for (const QString &name : {QStringLiteral("checkpoint.pt"), QStringLiteral("torchvision_traced.pt")}) {
            const ProcessResult r = runProcess(kCli,
                                               {QStringLiteral("inspect"), QStringLiteral("hf:testorg/files/") + name,
                                                QStringLiteral("--json"), QStringLiteral("--stats")},
                                               environment(m_flaky.endpoint()));
            EXPECT_EXIT(r, 0);
            const ProcessResult l = runProcess(kCli, {QStringLiteral("inspect"), kFixtures + QLatin1Char('/') + name,
                                                      QStringLiteral("--json"), QStringLiteral("--stats")});
            QCOMPARE(comparable(json::parse(r.out.toStdString())), comparable(json::parse(l.out.toStdString())));
        }
        QVERIFY(m_flaky.stats()["cdn"].get<int>() + m_flaky.stats()["resolve"].get<int>() > 3);
    }

    // A dangerous pickle is flagged from the archive's pickle and directory alone: the
    // 6 MiB of tensor bytes between them are never fetched.
    void dangerousFlaggedWithoutTensorBytes()
    {
        m_hub.reset();
        const ProcessResult r =
            cli({QStringLiteral("scan"), QStringLiteral("hf:testorg/files/padded_eval.pt"), QStringLiteral("--json")});
        EXPECT_EXIT(r, 1);
        const json j = json::parse(r.out.toStdString());
        QCOMPARE(j["verdict"].get<std::string>(), std::string("dangerous"));
        const uint64_t fetched = j["remote"]["bytes_fetched"].get<uint64_t>();
        QVERIFY2(fetched < (uint64_t(1) << 20), std::to_string(fetched).c_str());
        QVERIFY(j["remote"]["total_bytes"].get<uint64_t>() > (uint64_t(6) << 20));
        QVERIFY(m_hub.stats()["bytes"].get<uint64_t>() < (uint64_t(1) << 20));
        QVERIFY(j["remote"]["requests"].get<int>() <= 4);
    }

    void gatedNeedsTheTokenAndNeverPrintsIt()
    {
        const ProcessResult denied = cli({QStringLiteral("inspect"), QStringLiteral("hf:testorg/gated")});
        EXPECT_EXIT(denied, 2);
        QVERIFY2(denied.err.contains("gated") && denied.err.contains("HF_TOKEN"), denied.err.constData());
        const ProcessResult allowed =
            cli({QStringLiteral("inspect"), QStringLiteral("hf:testorg/gated"), QStringLiteral("--json")}, true);
        EXPECT_EXIT(allowed, 0);
        QVERIFY(!allowed.out.contains(kToken.toUtf8()) && !allowed.err.contains(kToken.toUtf8()));
        // The token file under HF_HOME, as huggingface-cli login writes it.
        QFile token(m_home + QStringLiteral("/token"));
        QVERIFY(token.open(QIODevice::WriteOnly));
        token.write(kToken.toUtf8() + "\n");
        token.close();
        const ProcessResult fromFile = cli({QStringLiteral("scan"), QStringLiteral("hf:testorg/gated")});
        QFile::remove(m_home + QStringLiteral("/token"));
        EXPECT_EXIT(fromFile, 0);
        QVERIFY(!fromFile.out.contains(kToken.toUtf8()) && !fromFile.err.contains(kToken.toUtf8()));
    }

    void clearErrors_data()
    {
        QTest::addColumn<QString>("reference");
        QTest::addColumn<QString>("words");
        QTest::newRow("no such repository") << QStringLiteral("hf:testorg/not-there") << QStringLiteral("not found");
        QTest::newRow("no such revision") << QStringLiteral("hf:testorg/tiny-bert@v9") << QStringLiteral("revision");
        QTest::newRow("no such file") << QStringLiteral("hf:testorg/files/nothing.pt") << QStringLiteral("no file");
        QTest::newRow("path outside") << QStringLiteral("hf:testorg/files/../../etc/passwd")
                                      << QStringLiteral("not a path");
    }

    void clearErrors()
    {
        QFETCH(QString, reference);
        QFETCH(QString, words);
        const ProcessResult r = cli({QStringLiteral("inspect"), reference});
        EXPECT_EXIT(r, 2);
        QVERIFY2(r.err.contains(words.toUtf8()), qPrintable(describe(r)));
    }

    // A hub that misbehaves gets a clear message, never a crash or a file outside the cache.
    void hostileHub_data()
    {
        QTest::addColumn<QString>("reference");
        QTest::addColumn<QString>("words");
        QTest::newRow("listing is a web page")
            << QStringLiteral("hf:bad/garbage") << QStringLiteral("not its model listing");
        QTest::newRow("ranges ignored") << QStringLiteral("hf:bad/noranges/torchvision_traced.pt")
                                        << QStringLiteral("does not answer byte ranges");
        QTest::newRow("sizes that lie") << QStringLiteral("hf:bad/lying")
                                        << QStringLiteral("more bytes than are served");
    }

    void hostileHub()
    {
        QFETCH(QString, reference);
        QFETCH(QString, words);
        const ProcessResult r = cli({QStringLiteral("inspect"), reference});
        EXPECT_EXIT(r, 2);
        QVERIFY2(r.err.contains(words.toUtf8()), qPrintable(describe(r)));
    }

    void namesOutsideTheRepositoryAreNeverFetched()
    {
        EXPECT_EXIT(cli({QStringLiteral("inspect"), QStringLiteral("hf:bad/escape")}), 0);
        const ProcessResult r =
            cli({QStringLiteral("download"), QStringLiteral("hf:bad/escape"), QStringLiteral("--json")});
        EXPECT_EXIT(r, 0);
        const json files = json::parse(r.out.toStdString())["files"];
        QCOMPARE(files.size(), size_t(2)); // config.json and model.safetensors
        for (const QString &dir : {m_home, cacheRoot(), m_dir.path()})
            QVERIFY(!QFile::exists(dir + QStringLiteral("/outside.bin")));
        const ProcessResult named = cli({QStringLiteral("download"), QStringLiteral("hf:bad/escape"),
                                         QStringLiteral("--file"), QStringLiteral("../../outside.bin")});
        EXPECT_EXIT(named, 2);
    }

    void offlineTouchesNoNetwork()
    {
        m_hub.reset();
        const ProcessResult flag =
            cli({QStringLiteral("inspect"), QStringLiteral("hf:testorg/tiny-bert-bin"), QStringLiteral("--offline")});
        EXPECT_EXIT(flag, 2);
        QVERIFY2(flag.err.contains("network is off"), flag.err.constData());
        QProcessEnvironment env = environment(m_hub.endpoint());
        env.insert(QStringLiteral("HF_HUB_OFFLINE"), QStringLiteral("1"));
        const ProcessResult variable =
            runProcess(kCli, {QStringLiteral("scan"), QStringLiteral("hf:testorg/tiny-bert-bin")}, env);
        EXPECT_EXIT(variable, 2);
        const json s = m_hub.stats();
        QCOMPARE(s["api"].get<int>() + s["resolve"].get<int>() + s["cdn"].get<int>(), 0);
    }

    // check and diff take remote models on either side.
    void checkAndDiffRemote()
    {
        const ProcessResult check =
            cli({QStringLiteral("check"), QStringLiteral("hf:testorg/tiny-bert-bin"), QStringLiteral("--against"),
                 kFixtures + QStringLiteral("/hf/tiny_bert"), QStringLiteral("--json")});
        EXPECT_EXIT(check, 0);
        QVERIFY(json::parse(check.out.toStdString())["strict_ok"].get<bool>());
        const ProcessResult diff = cli({QStringLiteral("diff"), QStringLiteral("hf:testorg/files/state_dict.pt"),
                                        kFixtures + QStringLiteral("/state_dict.pt"), QStringLiteral("--json")});
        EXPECT_EXIT(diff, 0);
    }

    // A snapshot downloaded into the cache in huggingface_hub's layout, then read from the
    // cache without the network; an interrupted blob resumes from its .incomplete file.
    void downloadResumesIntoTheCacheLayout()
    {
        const QString repoDir = cacheRoot() + QStringLiteral("/models--testorg--tiny-bert-sharded");
        const QString shard = QStringLiteral("model-00001-of-00002.safetensors");
        const QByteArray shardBytes = fileBytes(kFixtures + QStringLiteral("/hf/tiny_bert_sharded/") + shard);
        const QString sha =
            QString::fromLatin1(QCryptographicHash::hash(shardBytes, QCryptographicHash::Sha256).toHex());
        // As if an earlier download stopped half-way through the first shard.
        QVERIFY(QDir().mkpath(repoDir + QStringLiteral("/blobs")));
        QFile partial(repoDir + QStringLiteral("/blobs/") + sha + QStringLiteral(".incomplete"));
        QVERIFY(partial.open(QIODevice::WriteOnly));
        partial.write(shardBytes.left(shardBytes.size() / 2));
        partial.close();
        m_hub.reset();
        const ProcessResult r =
            cli({QStringLiteral("download"), QStringLiteral("hf:testorg/tiny-bert-sharded"), QStringLiteral("--json")});
        EXPECT_EXIT(r, 0);
        const json j = json::parse(r.out.toStdString());
        QCOMPARE(j["resumed_bytes"].get<qint64>(), qint64(shardBytes.size() / 2));
        const std::string wantRange = "bytes=" + std::to_string(shardBytes.size() / 2) + "-";
        bool resumedByRange = false;
        const json served = m_hub.stats();
        for (const auto &range : served["ranges"])
            resumedByRange = resumedByRange || range.get<std::string>().rfind(wantRange, 0) == 0;
        QVERIFY2(resumedByRange, served["ranges"].dump().c_str());
        const QString commit = QString::fromStdString(j["commit"].get<std::string>());
        QCOMPARE(fileBytes(repoDir + QStringLiteral("/refs/main")).trimmed(), commit.toUtf8());
        const QDir source(kFixtures + QStringLiteral("/hf/tiny_bert_sharded"));
        for (const QString &name : source.entryList(QDir::Files)) {
            const QString link = repoDir + QStringLiteral("/snapshots/") + commit + QLatin1Char('/') + name;
            QVERIFY2(QFileInfo(link).isSymLink(), qPrintable(link));
            QVERIFY(QFileInfo(link).symLinkTarget().startsWith(repoDir + QStringLiteral("/blobs/")));
            QCOMPARE(fileBytes(link), fileBytes(source.filePath(name)));
        }
        QVERIFY(!QFile::exists(partial.fileName()));
        // Local first: read from the cache, not one request to the hub, even without --offline.
        m_hub.reset();
        const ProcessResult cached = cli({QStringLiteral("inspect"), QStringLiteral("hf:testorg/tiny-bert-sharded"),
                                          QStringLiteral("--json"), QStringLiteral("--stats")});
        EXPECT_EXIT(cached, 0);
        QCOMPARE(m_hub.stats()["api"].get<int>(), 0);
        const ProcessResult local = runProcess(
            kCli, {QStringLiteral("inspect"), source.path(), QStringLiteral("--json"), QStringLiteral("--stats")});
        QCOMPARE(comparable(json::parse(cached.out.toStdString())), comparable(json::parse(local.out.toStdString())));
        // Downloading again reuses every blob.
        const ProcessResult again =
            cli({QStringLiteral("download"), QStringLiteral("hf:testorg/tiny-bert-sharded"), QStringLiteral("--json")});
        EXPECT_EXIT(again, 0);
        QCOMPARE(json::parse(again.out.toStdString())["downloaded_bytes"].get<int>(), 0);
    }

    // A .incomplete file that is not the start of the blob is caught by the hash check and
    // removed; nothing wrong is put into the cache.
    void corruptPartialDownloadIsRefused()
    {
        const QString repoDir = cacheRoot() + QStringLiteral("/models--testorg--tiny-bert");
        const QByteArray bytes = fileBytes(kFixtures + QStringLiteral("/hf/tiny_bert/model.safetensors"));
        const QString sha = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
        QVERIFY(QDir().mkpath(repoDir + QStringLiteral("/blobs")));
        QFile partial(repoDir + QStringLiteral("/blobs/") + sha + QStringLiteral(".incomplete"));
        QVERIFY(partial.open(QIODevice::WriteOnly));
        partial.write(QByteArray(100, 'x'));
        partial.close();
        const ProcessResult r = cli({QStringLiteral("download"), QStringLiteral("hf:testorg/tiny-bert"),
                                     QStringLiteral("--file"), QStringLiteral("model.safetensors")});
        EXPECT_EXIT(r, 2);
        QVERIFY2(r.err.contains("sha256"), r.err.constData());
        QVERIFY(!QFile::exists(partial.fileName()));
        QVERIFY(!QFile::exists(repoDir + QStringLiteral("/blobs/") + sha));
        // The next try starts over and succeeds.
        EXPECT_EXIT(cli({QStringLiteral("download"), QStringLiteral("hf:testorg/tiny-bert"), QStringLiteral("--file"),
                         QStringLiteral("model.safetensors")}),
                    0);
        QCOMPARE(fileBytes(repoDir + QStringLiteral("/blobs/") + sha), bytes);
    }
};

QTEST_GUILESS_MAIN(HubTest)
#include "tst_hub.moc"
