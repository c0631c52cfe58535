// The loading doctor against PyTorch itself: for every mismatch pair in expected.json the
// missing, unexpected and size-mismatch sets and the strict and non-strict error texts
// equal what load_state_dict reported, and the top suggestion makes prefixed state dicts load.
#include "core/diagnose/loaddiagnosis.h"
#include "core/formats/documentreader.h"
#include "core/report/loadreportjson.h"
#include "tests/support/fixtureexpectations.h"

#include <QProcess>
#include <QtTest>
#include <nlohmann/json.hpp>

using namespace te;
using json = nlohmann::json;
using namespace te::testing;

namespace {

std::unique_ptr<Document> open(const std::string &name)
{
    return readDocument(std::string(TE_FIXTURES_DIR) + "/" + name);
}

std::vector<std::string> strings(const json &a) { return a.get<std::vector<std::string>>(); }

void compareMismatches(const LoadReport &r, const json &e)
{
    QCOMPARE(r.missing, strings(e["missing"]));
    QCOMPARE(r.unexpected, strings(e["unexpected"]));
    QCOMPARE(r.shapeMismatch.size(), e["size_mismatch"].size());
    for (size_t i = 0; i < r.shapeMismatch.size(); ++i) {
        QCOMPARE(r.shapeMismatch[i].key, e["size_mismatch"][i]["key"].get<std::string>());
        QCOMPARE(r.shapeMismatch[i].checkpointShape,
                 e["size_mismatch"][i]["checkpoint_shape"].get<std::vector<int64_t>>());
        QCOMPARE(r.shapeMismatch[i].modelShape, e["size_mismatch"][i]["model_shape"].get<std::vector<int64_t>>());
    }
}

} // namespace

class LoadCheckTest : public QObject {
    Q_OBJECT
private slots:
    void againstTorchScript_data()
    {
        QTest::addColumn<int>("entry");
        for (size_t i = 0; i < expected()["mismatch"].size(); ++i) {
            const json &m = expected()["mismatch"][i];
            QTest::newRow((m["weights"].get<std::string>() + " vs " + m["model"].get<std::string>()).c_str())
                << static_cast<int>(i);
        }
    }

    void againstTorchScript()
    {
        QFETCH(int, entry);
        const json &e = expected()["mismatch"][static_cast<size_t>(entry)];
        auto weights = open(e["weights"]);
        auto model = open(e["model"]);
        ExpectedModel m = expectedModelFrom(*model);
        QCOMPARE(m.className, std::string("RecursiveScriptModule"));
        LoadReport r = checkLoad(weightsFrom(*weights, ""), m, {});
        compareMismatches(r, e);
        QCOMPARE(r.strictError, e["strict_error"].get<std::string>());
        QCOMPARE(r.strictOk, false);
        const std::string nonStrict =
            e["nonstrict_error"].is_null() ? std::string() : e["nonstrict_error"].get<std::string>();
        QCOMPARE(r.nonStrictError, nonStrict);
        QCOMPARE(r.nonStrictOk, nonStrict.empty());
    }

    // The eager comparisons: the pickled SmallNet is the reference, so its class name is
    // in the message and its non-persistent buffer is not expected.
    void againstPickledModule_data()
    {
        QTest::addColumn<int>("entry");
        for (size_t i = 0; i < expected()["mismatch"].size(); ++i)
            if (expected()["mismatch"][i]["eager"]["class"] == "__main__.SmallNet")
                QTest::newRow(expected()["mismatch"][i]["weights"].get<std::string>().c_str()) << static_cast<int>(i);
    }

    void againstPickledModule()
    {
        QFETCH(int, entry);
        const json &e = expected()["mismatch"][static_cast<size_t>(entry)];
        auto weights = open(e["weights"]);
        auto model = open("model_pickled.pt");
        ExpectedModel m = expectedModelFrom(*model);
        QCOMPARE(m.className, std::string("SmallNet"));
        LoadReport r = checkLoad(weightsFrom(*weights, ""), m, {});
        compareMismatches(r, e["eager"]);
        QCOMPARE(r.strictError, e["eager"]["strict_error"].get<std::string>());
    }

    void topSuggestionStripsThePrefix_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("prefix");
        QTest::newRow("DataParallel") << QStringLiteral("dataparallel_state_dict.pt") << QStringLiteral("module.");
        QTest::newRow("Lightning-style") << QStringLiteral("prefixed_state_dict.pt") << QStringLiteral("model.");
    }

    void topSuggestionStripsThePrefix()
    {
        QFETCH(QString, file);
        QFETCH(QString, prefix);
        auto weights = open(file.toStdString());
        auto model = open("model_pickled.pt");
        ExpectedModel m = expectedModelFrom(*model);
        LoadReport before = diagnoseLoad(*weights, "", m, {});
        QVERIFY(!before.strictOk);
        QVERIFY(!before.suggestions.empty());
        const Suggestion &top = before.suggestions.front();
        QCOMPARE(top.kind, std::string("strip_prefix"));
        QCOMPARE(QString::fromStdString(top.from), prefix);
        // BatchNorm fills in num_batches_tracked by itself when the metadata does not say
        // version 2 (as for these keys): that one key loads even now.
        QCOMPARE(top.fixes, static_cast<int>(m.keys.size() - before.loaded.size()));
        QCOMPARE(before.loaded, std::vector<std::string>{"bn.num_batches_tracked"});
        LoadReport after = checkLoad(weightsFrom(*weights, ""), m, {top.rule});
        QVERIFY(after.strictOk);
        QCOMPARE(after.loaded.size(), m.keys.size());
    }

    // torch.compile's _orig_mod. prefix: the same state dict seen through a rule that adds
    // it, as a compiled model's state_dict() would name the keys.
    void compiledModelPrefix()
    {
        auto weights = open("state_dict.pt");
        auto model = open("model_pickled.pt");
        ExpectedModel m = expectedModelFrom(*model);
        WeightsSource w = weightsFrom(*weights, "");
        for (auto &k : w.keys)
            k.key = "_orig_mod." + k.key;
        LoadReport r = checkLoad(w, m, {});
        QCOMPARE(r.loaded.size(), size_t(0));
        std::vector<RemapRule> rules{{RemapRule::Kind::Prefix, "_orig_mod.", ""}};
        QVERIFY(checkLoad(w, m, rules).strictOk);
    }

    void nestedStateDictIsOffered()
    {
        auto weights = open("nested_checkpoint.pt");
        auto model = open("model_pickled.pt");
        ExpectedModel m = expectedModelFrom(*model);
        const auto candidates = candidateStateDicts(*weights);
        QCOMPARE(candidates.front(), std::string("state_dict"));
        LoadReport r = diagnoseLoad(*weights, candidates.front(), m, {});
        bool offersEma = false;
        for (const auto &s : r.suggestions)
            offersEma = offersEma || (s.kind == "state_dict" && s.to == "callbacks.EMA.ema_state_dict");
        QVERIFY(offersEma);
        QCOMPARE(r.suggestions.front().kind, std::string("strip_prefix"));
    }

    void renameBySuffixRule()
    {
        // gamma/beta names of old checkpoints: a regex rule maps them back.
        auto weights = open("state_dict.pt");
        auto model = open("model_pickled.pt");
        ExpectedModel m = expectedModelFrom(*model);
        WeightsSource w = weightsFrom(*weights, "");
        for (auto &k : w.keys)
            if (k.key == "bn.weight")
                k.key = "bn.gamma";
        LoadReport r = diagnoseLoad(*weights, "", m, {});
        QVERIFY(r.strictOk);
        LoadReport broken = checkLoad(w, m, {});
        QCOMPARE(broken.missing, std::vector<std::string>{"bn.weight"});
        QCOMPARE(broken.unexpected, std::vector<std::string>{"bn.gamma"});
        RemapRule rule;
        std::string error;
        QVERIFY(parseRule("re:\\.gamma$=.weight", &rule, &error));
        QVERIFY(checkLoad(w, m, {rule}).strictOk);
        QVERIFY(!parseRule("re:([=x", &rule, &error));
        QVERIFY(!error.empty());
    }

    void zeroDimFromOneElement()
    {
        // load_state_dict accepts a one-element vector for a 0-d parameter.
        auto model = open("model_pickled.pt");
        ExpectedModel m = expectedModelFrom(*model);
        auto weights = open("state_dict.pt");
        WeightsSource w = weightsFrom(*weights, "");
        for (auto &k : w.keys)
            if (k.key == "bn.num_batches_tracked")
                k.shape = {1};
        QVERIFY(checkLoad(w, m, {}).strictOk);
    }

    void cliCheck()
    {
        const QString cli = QStringLiteral(TE_BIN_DIR "/torch-explorer-cli");
        const QString dir = QStringLiteral(TE_FIXTURES_DIR "/");
        QProcess p;
        p.start(cli, {QStringLiteral("check"), dir + QStringLiteral("mismatch_weights.pt"), QStringLiteral("--against"),
                      dir + QStringLiteral("mismatch_model.pt"), QStringLiteral("--json")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 1);
        const json out = json::parse(p.readAllStandardOutput().toStdString());
        QCOMPARE(out["strict_error"].get<std::string>(), expected()["mismatch"][0]["strict_error"].get<std::string>());
        // Non-strict still fails on the size mismatches, as in PyTorch.
        p.start(cli, {QStringLiteral("check"), dir + QStringLiteral("mismatch_weights.pt"), QStringLiteral("--against"),
                      dir + QStringLiteral("mismatch_model.pt"), QStringLiteral("--non-strict")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 1);
        p.start(cli, {QStringLiteral("check"), dir + QStringLiteral("dataparallel_state_dict.pt"),
                      QStringLiteral("--against"), dir + QStringLiteral("model_pickled.pt"), QStringLiteral("--rename"),
                      QStringLiteral("module.=")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 0);
        p.start(cli, {QStringLiteral("check"), dir + QStringLiteral("state_dict.pt")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 2);
    }

    // load_state_dict(strict=False) "succeeds" when nothing loads; the check must not.
    void nonStrictNeedsSomethingLoaded_data()
    {
        QTest::addColumn<QString>("weights");
        QTest::addColumn<QString>("reference");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<bool>("warns");
        const QStringList none;
        QTest::newRow("nothing loads") << "dtypes.pt"
                                       << "scripted.pt" << none << 1 << true;
        QTest::newRow("nothing loads, json") << "dtypes.pt"
                                             << "scripted.pt" << QStringList{QStringLiteral("--json")} << 1 << true;
        QTest::newRow("almost everything loads") << "checkpoint.pt"
                                                 << "scripted.pt" << none << 0 << false;
        QTest::newRow("below --min-loaded")
            << "checkpoint.pt"
            << "scripted.pt" << QStringList{QStringLiteral("--min-loaded"), QStringLiteral("0.999")} << 1 << false;
        QTest::newRow("above --min-loaded")
            << "checkpoint.pt"
            << "scripted.pt" << QStringList{QStringLiteral("--min-loaded"), QStringLiteral("0.9")} << 0 << false;
        QTest::newRow("--min-loaded out of range")
            << "checkpoint.pt"
            << "scripted.pt" << QStringList{QStringLiteral("--min-loaded"), QStringLiteral("2")} << 2 << false;
    }

    void nonStrictNeedsSomethingLoaded()
    {
        QFETCH(QString, weights);
        QFETCH(QString, reference);
        QFETCH(QStringList, extra);
        QFETCH(int, exitCode);
        QFETCH(bool, warns);
        const QString dir = QStringLiteral(TE_FIXTURES_DIR "/");
        QProcess p;
        p.start(QStringLiteral(TE_BIN_DIR "/torch-explorer-cli"),
                QStringList{QStringLiteral("check"), dir + weights, QStringLiteral("--against"), dir + reference,
                            QStringLiteral("--non-strict")} +
                    extra);
        QVERIFY(p.waitForFinished(30000));
        const QByteArray out = p.readAllStandardOutput(), err = p.readAllStandardError();
        QVERIFY2(p.exitCode() == exitCode, out.constData());
        const bool json = extra.contains(QStringLiteral("--json"));
        QCOMPARE((json ? err : out).contains("keys would load"), warns);
        if (json && warns) {
            const auto j = json::parse(out.toStdString());
            QCOMPARE(j["loaded_fraction"].get<double>(), 0.0);
            QVERIFY(j["load_warning"].get<std::string>().find("Nothing loads") != std::string::npos);
        }
    }

    // The warning points at suggestions only when one exists: the mismatch pair loads
    // 8 of 13 keys, and no renaming helps (3 keys have other shapes).
    void warningNamesOnlyRealFixes()
    {
        auto weights = open("mismatch_weights.pt");
        auto model = open("mismatch_model.pt");
        ExpectedModel m = expectedModelFrom(*model);
        const LoadReport r = diagnoseLoad(*weights, "", m, {});
        QVERIFY(r.suggestions.empty());
        QCOMPARE(r.shapeMismatch.size(), size_t(3));
        const std::string w = partialLoadWarning(r, m);
        QVERIFY2(w.find("suggestion") == std::string::npos, w.c_str());
        QVERIFY2(w.find("No renaming fixes it: 3 keys have other shapes") != std::string::npos, w.c_str());
    }

    void jsonContract()
    {
        auto weights = open("mismatch_weights.pt");
        auto model = open("mismatch_model.pt");
        ExpectedModel m = expectedModelFrom(*model);
        const nlohmann::ordered_json j = loadReportJson(diagnoseLoad(*weights, "", m, {}), m);
        for (const char *key : {"missing", "unexpected", "shape_mismatch", "dtype_mismatch", "strict_ok",
                                "strict_error", "loaded", "suggestions"})
            QVERIFY2(j.contains(key), key);
        QCOMPARE(j["loaded"].get<int>(), 8);
        QCOMPARE(j["shape_mismatch"][0]["checkpoint_shape"], nlohmann::ordered_json({32, 8}));
    }
};

QTEST_GUILESS_MAIN(LoadCheckTest)
#include "tst_loadcheck.moc"
