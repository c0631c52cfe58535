// Hugging Face files: folders with one safetensors file, shards with an index, a
// pytorch_model.bin, the hub cache. The sharded and unsharded folders are one state dict;
// an index that disagrees with its shards is reported; tied weights show as shared.
#include "core/diagnose/documentdiff.h"
#include "core/diagnose/loaddiagnosis.h"
#include "core/formats/documentreader.h"
#include "core/formats/hubcache.h"
#include "core/hub/hubclient.h"
#include "core/io/readerror.h"
#include "tests/support/fixtureexpectations.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace te;
using namespace te::testing;
using json = nlohmann::json;

namespace {

std::string fixture(const std::string &name) { return std::string(TE_FIXTURES_DIR) + "/" + name; }

// A writable copy of a fixture folder, to break on purpose.
QString copyFolder(const QTemporaryDir &tmp, const char *name)
{
    const QString to = tmp.filePath(QString::fromLatin1(name).section(QLatin1Char('/'), -1));
    std::filesystem::copy(fixture(name), to.toStdString(), std::filesystem::copy_options::recursive);
    return to;
}

bool anyWarning(const Document &doc, const std::string &part)
{
    for (const auto &w : doc.warnings)
        if (w.find(part) != std::string::npos)
            return true;
    return false;
}

} // namespace

class HuggingFaceTest : public QObject {
    Q_OBJECT
private slots:
    void configSummary_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto &[name, entry] : expected()["files"].items())
            if (entry.value("format", "") == "hf_folder")
                QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }

    void configSummary()
    {
        QFETCH(QString, name);
        const json &e = expected()["files"][name.toStdString()];
        auto doc = readDocument(fixture(name.toStdString()));
        QCOMPARE(formatName(doc->format), std::string("hf_folder"));
        QVERIFY2(doc->error.empty(), doc->error.c_str());
        QCOMPARE(doc->config["model_type"].dump(), e["config"]["model_type"].dump());
        QCOMPARE(doc->config["architectures"].dump(), e["config"]["architectures"].dump());
        QCOMPARE(doc->metadata["config.model_type"].dump(), e["config"]["model_type"].dump());
        QCOMPARE(doc->weightFiles.size(), e["weight_files"].size());
        QCOMPARE(doc->entries.size(), e["tensors"].size());
    }

    void shardedEqualsUnsharded()
    {
        auto one = readDocument(fixture("hf/tiny_bert"));
        auto sharded = readDocument(fixture("hf/tiny_bert_sharded"));
        auto bin = readDocument(fixture("hf/tiny_bert_bin"));
        QVERIFY(sharded->warnings.empty());
        const DocumentDiff d = diffDocuments(*one, *sharded, alignKeys(*one, *sharded));
        QVERIFY(d.same());
        QCOMPARE(d.identical, one->entries.size());
        QVERIFY(
            diffDocuments(*one, *bin, alignKeys(*one, *bin)).same()); // safetensors and torch.save of the same tensors
    }

    void indexFileOpensTheFolder()
    {
        auto doc = readDocument(fixture("hf/tiny_bert_sharded/model.safetensors.index.json"));
        QCOMPARE(doc->weightFiles.size(), size_t(2));
        QCOMPARE(doc->entries.size(), expected()["files"]["hf/tiny_bert_sharded"]["tensors"].size());
    }

    void brokenIndexesAreReported()
    {
        QTemporaryDir tmp;
        const QString dir = copyFolder(tmp, "hf/tiny_bert_sharded");
        const std::string indexPath = (dir + QStringLiteral("/model.safetensors.index.json")).toStdString();
        json index;
        {
            std::ifstream in(indexPath);
            index = json::parse(in);
        }
        const std::string firstKey = index["weight_map"].begin().key();
        const std::string firstShard = index["weight_map"].begin().value();
        const std::string otherShard = firstShard.find("00001") != std::string::npos
                                           ? "model-00002-of-00002.safetensors"
                                           : "model-00001-of-00002.safetensors";
        index["weight_map"][firstKey] = otherShard;       // a tensor not where the index says
        index["metadata"]["total_size"] = 12345;          // a wrong total
        index["weight_map"]["ghost.weight"] = firstShard; // a tensor no shard holds
        std::ofstream(indexPath) << index.dump(2);
        auto doc = readDocument(dir.toStdString());
        QVERIFY(anyWarning(*doc, "the index puts " + firstKey + " in " + otherShard + " but it is in " + firstShard));
        QVERIFY(anyWarning(*doc, "total_size 12345"));
        QVERIFY(anyWarning(*doc, "ghost.weight"));
        QVERIFY(doc->error.empty());

        // A shard that is not there: a partial download, the document says so.
        QVERIFY(QFile::remove(dir + QStringLiteral("/") + QString::fromStdString(otherShard)));
        auto partial = readDocument(dir.toStdString());
        QVERIFY(partial->error.find("missing") != std::string::npos);
        QVERIFY(!partial->security.complete);
    }

    void folderWithoutWeights()
    {
        QTemporaryDir tmp;
        QFile config(tmp.filePath(QStringLiteral("config.json")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write("{\"model_type\": \"bert\"}");
        config.close();
        QVERIFY_THROWS_EXCEPTION(ReadError, readDocument(tmp.path().toStdString()));
    }

    void tiedWeightsShareStorage()
    {
        auto doc = readDocument(fixture("hf/tiny_gpt2_bin"));
        const auto groups = doc->sharedStorageGroups();
        QCOMPARE(groups.size(), size_t(1));
        QCOMPARE(groups[0],
                 expected()["files"]["hf/tiny_gpt2_bin"]["shared_storage"][0].get<std::vector<std::string>>());
    }

    void cacheListing()
    {
        const json &c = expected()["hf_cache"];
        const auto models = listHubCache(fixture(c["root"].get<std::string>()));
        QCOMPARE(models.size(), c["models"].size());
        for (size_t i = 0; i < models.size(); ++i) {
            const json &m = c["models"][i];
            QCOMPARE(models[i].repo, m["repo"].get<std::string>());
            for (const auto &[revision, commit] : m["revisions"].items()) {
                const auto s = std::find_if(models[i].snapshots.begin(), models[i].snapshots.end(),
                                            [&](const CachedSnapshot &x) { return x.commit == commit; });
                QVERIFY(s != models[i].snapshots.end());
                QVERIFY(std::find(s->revisions.begin(), s->revisions.end(), revision) != s->revisions.end());
                QCOMPARE(s->complete, m["complete"][revision].get<bool>());
                QCOMPARE(s->files, m["snapshot_files"][revision].get<std::vector<std::string>>());
            }
        }
    }

    void hubReferences()
    {
        struct Case {
            const char *text, *repo, *revision, *file;
        };
        const Case cases[] = {
            {"hf:org/name", "org/name", "main", ""},
            {"hf:org/name@v1.0", "org/name", "v1.0", ""},
            {"hf:org/name@dev/sub/model.bin", "org/name", "dev", "sub/model.bin"},
            {"hf://org/name/config.json", "org/name", "main", "config.json"},
            {"hf:gpt2", "gpt2", "main", ""},
            {"https://huggingface.co/org/name", "org/name", "main", ""},
            {"https://huggingface.co/org/name/tree/refs%2Fpr%2F3", "org/name", "refs/pr/3", ""},
            {"https://huggingface.co/org/name/blob/main/a%20b/w.safetensors?x=1", "org/name", "main",
             "a b/w.safetensors"},
            {"http://127.0.0.1:9/org/name/resolve/abc/f.pt", "org/name", "abc", "f.pt"},
        };
        HubSettings settings;
        settings.endpoint = "http://127.0.0.1:9";
        for (const Case &c : cases) {
            const HubRef ref = parseHubReference(c.text, settings);
            QVERIFY2(ref.repo == c.repo && ref.revision == c.revision && ref.file == c.file,
                     (std::string(c.text) + " -> " + ref.repo + " @ " + ref.revision + " / " + ref.file).c_str());
        }
    }

    void badHubReferences()
    {
        HubSettings settings;
        settings.endpoint = "https://huggingface.co";
        for (const char *text :
             {"hf:", "hf:org/../x", "hf:org/name/../../etc/passwd", "hf:org/na me",
              "https://huggingface.co/org/name/raw/main/x", "https://example.com/org/name", "hf:org/name@"})
            QVERIFY_THROWS_EXCEPTION(ReadError, parseHubReference(text, settings));
    }

    void openFromCache()
    {
        qputenv("HF_HUB_CACHE", QByteArray::fromStdString(fixture("hf/cache")));
        qputenv("HF_HUB_OFFLINE", "1"); // what is not cached fails here, never goes to the network
        auto viaCache = readDocument("hf:testorg/tiny-bert");
        auto folder = readDocument(fixture("hf/tiny_bert"));
        QVERIFY(diffDocuments(*viaCache, *folder, alignKeys(*viaCache, *folder)).same());
        const std::string v1 = expected()["hf_cache"]["models"][0]["revisions"]["v1"];
        QVERIFY_THROWS_EXCEPTION(ReadError, readDocument("hf:testorg/tiny-bert@v1")); // config only
        QVERIFY_THROWS_EXCEPTION(ReadError, readDocument("hf:testorg/not-there"));
        QVERIFY_THROWS_EXCEPTION(ReadError, readDocument("hf:../../etc"));
        auto byCommit = readDocument("hf:testorg/tiny-bert@" +
                                     expected()["hf_cache"]["models"][0]["revisions"]["main"].get<std::string>());
        QCOMPARE(byCommit->entries.size(), folder->entries.size());
        (void)v1;
    }

    void foldersInTheDoctor()
    {
        // The unsharded folder as the reference, the .bin folder as the weights: they load.
        auto reference = readDocument(fixture("hf/tiny_bert"));
        auto weights = readDocument(fixture("hf/tiny_bert_bin"));
        ExpectedModel m = expectedModelFrom(*reference);
        LoadReport r = diagnoseLoad(*weights, candidateStateDicts(*weights).front(), m, {});
        QVERIFY(r.strictOk);
        // A task model's keys carry the base model's prefix (transformers' base_model_prefix):
        // the top suggestion strips it.
        WeightsSource w = weightsFrom(*weights, "");
        for (auto &k : w.keys)
            k.key = "bert." + k.key;
        LoadReport prefixed = checkLoad(w, m, {});
        QCOMPARE(prefixed.loaded.size(), size_t(0));
        QVERIFY(checkLoad(w, m, {{RemapRule::Kind::Prefix, "bert.", ""}}).strictOk);
    }
};

QTEST_GUILESS_MAIN(HuggingFaceTest)
#include "tst_huggingface.moc"
