// Distributed checkpoints (tests/fixtures/dcp, see make_dcp_fixtures.py): every tensor
// under its key with PyTorch's global shape, dtype, sum and element order (a weighted
// sum), assembled from chunks sharded along either dimension, stored with other strides,
// or empty; the values nested as planner_data says; checkpoints broken on purpose report
// the tensor and the problem; hostile pickles are flagged.
#include "core/document/tensorbytes.h"
#include "core/formats/documentreader.h"
#include "core/stats/tensorstats.h"

#include <QtTest>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

using namespace te;
using json = nlohmann::ordered_json;

namespace {

std::string dcp(const std::string &name) { return std::string(TE_FIXTURES_DIR) + "/dcp/" + name; }

const json &expected()
{
    static const json j = [] {
        std::ifstream in(dcp("expected_dcp.json"));
        return json::parse(in);
    }();
    return j;
}

std::map<std::string, const TensorInfo *> byKey(const Document &doc)
{
    std::map<std::string, const TensorInfo *> out;
    for (const TensorEntry &e : doc.entries)
        out[e.key] = &doc.tensors[static_cast<size_t>(e.tensor)];
    return out;
}

// Sum of element i times (i + 1) in row-major order: a misplaced chunk changes it.
double weightedSum(const Document &doc, const TensorInfo &t, std::string *error)
{
    const uint8_t *base = tensorBase(doc, t, error);
    if (!base)
        return 0;
    double sum = 0, weight = 1;
    forEachElement(base, t, [&](const uint8_t *p) {
        sum += decodeElement(t.dtype, p) * weight++;
        return true;
    });
    return sum;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

const TensorInfo *tensorOf(const Document &doc, const std::string &key)
{
    const auto all = byKey(doc);
    auto it = all.find(key);
    return it == all.end() ? nullptr : it->second;
}

} // namespace

class TestDcp : public QObject {
    Q_OBJECT

private slots:
    void tensorsAsPyTorchReportsThem_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto &[name, _] : expected()["checkpoints"].items())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }

    void tensorsAsPyTorchReportsThem()
    {
        QFETCH(QString, name);
        const json &want = expected()["checkpoints"][name.toStdString()];
        auto doc = readDocument(dcp(name.toStdString()));
        QCOMPARE(std::string(formatName(doc->format)), std::string("dcp"));
        QVERIFY2(doc->error.empty(), doc->error.c_str());
        QVERIFY2(doc->warnings.empty(), doc->warnings.empty() ? "" : doc->warnings.front().c_str());
        const auto tensors = byKey(*doc);
        QCOMPARE(tensors.size(), want["tensors"].size());
        for (const auto &[key, t] : want["tensors"].items()) {
            auto it = tensors.find(key);
            QVERIFY2(it != tensors.end(), key.c_str());
            const TensorInfo &info = *it->second;
            QCOMPARE(info.shape, t["shape"].get<std::vector<int64_t>>());
            QCOMPARE(std::string(dtypeName(info.dtype)), t["dtype"].get<std::string>());
            const TensorStats st = computeStats(*doc, info);
            QVERIFY2(st.ok, (key + ": " + st.error).c_str());
            QVERIFY2(close(st.sum, t["sum"].get<double>()), key.c_str());
            std::string error;
            const double weighted = weightedSum(*doc, info, &error);
            QVERIFY2(error.empty(), error.c_str());
            QVERIFY2(close(weighted, t["weighted_sum"].get<double>()),
                     (key + ": " + std::to_string(weighted) + " != " + t["weighted_sum"].dump()).c_str());
        }
        if (want.contains("checkpoint_id") && want["checkpoint_id"].is_string())
            QCOMPARE(doc->metadata.value("dcp.checkpoint_id", std::string()), want["checkpoint_id"].get<std::string>());
    }

    // The values that are not tensors are read from their torch.save and put where
    // planner_data says: "step" at the top, lr under optimizer.param_groups[0].
    void nestedAsPlannerDataSays()
    {
        const json &want = expected()["checkpoints"]["sharded"];
        auto doc = readDocument(dcp("sharded"));
        QVERIFY(doc->root && doc->root->kind == ValueKind::Dict);
        std::vector<std::string> top;
        for (const auto &[k, v] : doc->root->entries)
            top.push_back(k->text);
        QCOMPARE(top, want["unflattened_keys"]["top_level"].get<std::vector<std::string>>());
        const Value *model = doc->root->get("model");
        QVERIFY(model && model->kind == ValueKind::Dict);
        std::vector<std::string> modelKeys;
        for (const auto &[k, v] : model->entries)
            modelKeys.push_back(k->text);
        QCOMPARE(modelKeys, want["unflattened_keys"]["model"].get<std::vector<std::string>>());
        QVERIFY(std::find(doc->stateDicts.begin(), doc->stateDicts.end(), "model") != doc->stateDicts.end());

        const Value *step = doc->root->get("step");
        QVERIFY(step && step->kind == ValueKind::Int);
        QCOMPARE(step->integer, want["byte_values"]["step"].get<int64_t>());
        const Value *groups = doc->root->get("optimizer")->get("param_groups");
        QVERIFY(groups && groups->kind == ValueKind::List && groups->items.size() == 1);
        const Value *lr = groups->items[0]->get("lr");
        QVERIFY(lr && lr->kind == ValueKind::Float);
        QCOMPARE(lr->real, want["byte_values"]["optimizer.param_groups.0.lr"].get<double>());
        QCOMPARE(doc->optimizers.size(), size_t(1));
        QCOMPARE(doc->optimizers[0].path, std::string("optimizer"));
    }

    void metadataFileOpensTheFolder()
    {
        auto folder = readDocument(dcp("single"));
        auto file = readDocument(dcp("single/.metadata"));
        QCOMPARE(file->entries.size(), folder->entries.size());
        QCOMPARE(std::string(formatName(file->format)), std::string("dcp"));
    }

    void brokenChunksNameTensorAndProblem_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("phrase");
        QTest::newRow("overlap") << "bad_overlap"
                                 << "overlaps the chunk at";
        QTest::newRow("hole") << "bad_hole"
                              << "uncovered (a hole";
        QTest::newRow("outside") << "bad_outside"
                                 << "lie outside __1_0.distcp";
        QTest::newRow("missing file") << "bad_missing_file"
                                      << "the data file __1_0.distcp is missing";
        QTest::newRow("no storage") << "bad_no_storage"
                                    << "no storage_data entry";
    }

    void brokenChunksNameTensorAndProblem()
    {
        QFETCH(QString, name);
        QFETCH(QString, phrase);
        const json &want = expected()["broken"][name.toStdString()];
        auto doc = readDocument(dcp(name.toStdString()));
        QVERIFY2(doc->error.empty(), doc->error.c_str());
        const TensorInfo *t = tensorOf(*doc, want["fqn"].get<std::string>());
        QVERIFY(t);
        QVERIFY2(t->error.str().find(phrase.toStdString()) != std::string::npos, t->error.c_str());
        const TensorStats st = computeStats(*doc, *t);
        QVERIFY(!st.ok);
        const bool warned = std::any_of(doc->warnings.begin(), doc->warnings.end(), [&](const std::string &w) {
            return w.rfind(want["fqn"].get<std::string>() + ": ", 0) == 0;
        });
        QVERIFY(warned);
        // The rest of the checkpoint still reads.
        for (const TensorEntry &e : doc->entries) {
            const TensorInfo &other = doc->tensors[static_cast<size_t>(e.tensor)];
            if (other.error.empty())
                QVERIFY2(computeStats(*doc, other).ok, e.key.c_str());
        }
    }

    void truncatedMetadataIsAnErrorNotACrash()
    {
        auto doc = readDocument(dcp("bad_truncated_metadata"));
        QVERIFY(!doc->error.empty());
        QVERIFY2(doc->error.find(".metadata") != std::string::npos, doc->error.c_str());
        QVERIFY(!doc->security.complete);
        QCOMPARE(doc->security.verdict, std::string("suspicious"));
    }

    void hostilePicklesAreFlagged_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("metadata") << "hostile_metadata";
        QTest::newRow("bytes item") << "hostile_bytes";
    }

    void hostilePicklesAreFlagged()
    {
        QFETCH(QString, name);
        const json &want = expected()["broken"][name.toStdString()];
        auto doc = readDocument(dcp(name.toStdString()));
        QCOMPARE(doc->security.verdict, std::string("dangerous"));
        const std::string call = want["call"].get<std::string>();
        const bool named = std::any_of(doc->security.globals.begin(), doc->security.globals.end(),
                                       [&](const GlobalUse &g) { return g.name == call && g.category == "dangerous"; });
        QVERIFY2(named, call.c_str());
    }

    void transformedBytesAreNamed()
    {
        const json &want = expected()["transformed"]["transform_rot13"];
        auto doc = readDocument(dcp("transform_rot13"));
        const TensorInfo *t = tensorOf(*doc, "w");
        QVERIFY(t);
        QVERIFY2(t->error.str().find(want["transform_descriptors"][0].get<std::string>()) != std::string::npos,
                 t->error.c_str());
    }

    // A checkpoint's metadata is only trusted for what it says: DCP classes and the
    // checkpoint's path are expected; nothing else in .metadata is.
    void ordinaryCheckpointsAreSafe()
    {
        for (const char *name : {"sharded", "single", "legacy_20", "py313_path"}) {
            auto doc = readDocument(dcp(name));
            QVERIFY2(doc->security.verdict == "safe", (std::string(name) + ": " + doc->security.verdict).c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestDcp)
#include "tst_dcp.moc"
