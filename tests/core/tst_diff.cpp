// Comparing two files: keys, shapes and dtypes over the fixtures (expectations taken from
// expected.json), value rules over small documents built in memory (NaN, infinities,
// strided views, complex, int64 beyond 2^53, dtype changes, cancelling), and the `diff`
// command of the CLI as a script would run it.
#include "core/diagnose/documentdiff.h"
#include "core/formats/documentreader.h"
#include "core/report/valuejson.h"
#include "tests/support/fixtureexpectations.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace te;
using nlohmann::json;
using namespace te::testing;

namespace {

std::string fixture(const std::string &name)
{
    if (name.rfind("demo/", 0) == 0)
        return TE_SOURCE_DIR "/resources/" + name;
    return TE_FIXTURES_DIR "/" + name;
}

// The keys expected.json lists for a fixture, in file order.
std::vector<std::string> expectedKeys(const std::string &name)
{
    std::vector<std::string> keys;
    for (const auto &t : expected()["files"][name]["tensors"])
        keys.push_back(t["key"].get<std::string>());
    return keys;
}

const json *expectedTensor(const std::string &file, const std::string &key)
{
    for (const auto &t : expected()["files"][file]["tensors"])
        if (t["key"] == key)
            return &t;
    return nullptr;
}

std::vector<std::string> keysOf(const Document &doc)
{
    std::vector<std::string> keys;
    for (const auto &e : doc.entries)
        keys.push_back(e.key);
    return keys;
}

// A document whose tensors live in memory: each add() appends one storage and one tensor.
class MemoryDocument {
public:
    template <typename T>
    void add(const std::string &key, DType dtype, const std::vector<T> &storage, std::vector<int64_t> shape,
             std::vector<int64_t> strides = {}, int64_t offset = 0)
    {
        if (strides.empty()) {
            strides.assign(shape.size(), 1);
            for (size_t d = shape.size(); d-- > 1;)
                strides[d - 1] = strides[d] * shape[d];
        }
        StorageInfo s;
        s.key = std::to_string(m_storages.size());
        s.dtype = dtype;
        s.numel = storage.size() * sizeof(T) / static_cast<size_t>(dtypeItemSize(dtype));
        s.fileOffset = m_bytes.size();
        s.nbytes = storage.size() * sizeof(T);
        s.resolved = true;
        m_bytes.append(reinterpret_cast<const char *>(storage.data()), storage.size() * sizeof(T));
        TensorInfo t;
        t.storage = static_cast<int>(m_storages.size());
        t.dtype = dtype;
        t.shape = std::move(shape);
        t.strides = std::move(strides);
        t.storageOffset = offset;
        m_entries.push_back({key, static_cast<int>(m_tensors.size())});
        m_storages.push_back(std::move(s));
        m_tensors.push_back(std::move(t));
    }
    std::unique_ptr<Document> finish()
    {
        auto doc = std::make_unique<Document>();
        doc->file = MappedFile::fromBytes(m_bytes, "memory");
        doc->storages = m_storages;
        doc->tensors = m_tensors;
        doc->entries = m_entries;
        return doc;
    }

private:
    std::string m_bytes;
    std::vector<StorageInfo> m_storages;
    std::vector<TensorInfo> m_tensors;
    std::vector<TensorEntry> m_entries;
};

TensorDiff onlyCommon(const DocumentDiff &d) { return d.common.size() == 1 ? d.common.front() : TensorDiff{}; }

DocumentDiff diffOne(MemoryDocument &a, MemoryDocument &b)
{
    auto da = a.finish(), db = b.finish();
    return diffDocuments(*da, *db, KeyAlignment{});
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

ProcessResult cli(const QStringList &args)
{
    return runProcess(QStringLiteral(TE_BIN_DIR "/torch-explorer-cli"), args);
}

QString fx(const char *name) { return QString::fromStdString(fixture(name)); }

} // namespace

#define EXPECT_EXIT(r, code)                                                                                           \
    QVERIFY2(!(r).crashed && (r).exitCode == (code),                                                                   \
             qPrintable(QStringLiteral("exit %1\nstdout: %2\nstderr: %3")                                              \
                            .arg((r).exitCode)                                                                         \
                            .arg(QString::fromUtf8((r).out.left(2000)), QString::fromUtf8((r).err.left(2000)))))

class DiffTest : public QObject {
    Q_OBJECT

private slots:
    void sameTensors_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::newRow("itself") << QStringLiteral("state_dict.pt") << QStringLiteral("state_dict.pt");
        QTest::newRow("legacy format") << QStringLiteral("state_dict.pt") << QStringLiteral("state_dict_legacy.pt");
        QTest::newRow("pickle protocol 4") << QStringLiteral("state_dict.pt") << QStringLiteral("protocol4.pt");
        QTest::newRow("saved on cuda") << QStringLiteral("state_dict.pt") << QStringLiteral("cuda_saved.pt");
        QTest::newRow("every dtype and view") << QStringLiteral("dtypes.pt") << QStringLiteral("dtypes.pt");
        QTest::newRow("demo checkpoint") << QStringLiteral("demo/demo_checkpoint.pt")
                                         << QStringLiteral("demo/demo_checkpoint.pt");
    }

    void sameTensors()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        auto da = readDocument(fixture(a.toStdString())), db = readDocument(fixture(b.toStdString()));
        QVERIFY(!da->entries.empty());
        const DocumentDiff d = diffDocuments(*da, *db, KeyAlignment{});
        QVERIFY(d.onlyA.empty() && d.onlyB.empty());
        QCOMPARE(d.common.size(), da->entries.size());
        for (const TensorDiff &t : d.common) {
            QVERIFY2(t.valuesCompared, t.key.c_str());
            QCOMPARE(t.differing, uint64_t(0));
            QCOMPARE(t.maxAbs, 0.0);
        }
        QCOMPARE(d.identical, d.common.size());
        QVERIFY(d.same());
        const auto j = diffJson(d);
        QVERIFY(j["changed"].empty());
        QCOMPARE(j["identical"].get<size_t>(), da->entries.size());
        QCOMPARE(j["compared"].get<size_t>(), da->entries.size());
    }

    void disjointKeys()
    {
        auto da = readDocument(fixture("state_dict.pt")), db = readDocument(fixture("dataparallel_state_dict.pt"));
        const DocumentDiff d = diffDocuments(*da, *db, KeyAlignment{});
        QCOMPARE(d.onlyA, expectedKeys("state_dict.pt"));
        QCOMPARE(d.onlyB, expectedKeys("dataparallel_state_dict.pt"));
        QVERIFY(d.common.empty());
        QVERIFY(!d.same());
    }

    // mismatch_weights.pt and state_dict.pt share conv.* and bn.*; what expected.json says
    // about their values bounds what the diff must find.
    void valuesFromExpected()
    {
        const std::string fa = "mismatch_weights.pt", fb = "state_dict.pt";
        auto da = readDocument(fixture(fa)), db = readDocument(fixture(fb));
        QCOMPARE(keysOf(*da), expectedKeys(fa));
        QCOMPARE(keysOf(*db), expectedKeys(fb));
        const DocumentDiff d = diffDocuments(*da, *db, KeyAlignment{});
        std::vector<std::string> onlyA, onlyB, common;
        for (const auto &k : expectedKeys(fa))
            (expectedTensor(fb, k) ? common : onlyA).push_back(k);
        for (const auto &k : expectedKeys(fb))
            if (!expectedTensor(fa, k))
                onlyB.push_back(k);
        QCOMPARE(d.onlyA, onlyA);
        QCOMPARE(d.onlyB, onlyB);
        QCOMPARE(d.common.size(), common.size());
        size_t identical = 0, differ = 0;
        for (size_t i = 0; i < common.size(); ++i) {
            const TensorDiff &t = d.common[i];
            const json &ea = *expectedTensor(fa, common[i]), &eb = *expectedTensor(fb, common[i]);
            QCOMPARE(t.key, common[i]);
            QCOMPARE(t.shapeA, ea["shape"].get<std::vector<int64_t>>());
            QCOMPARE(t.shapeB, eb["shape"].get<std::vector<int64_t>>());
            QVERIFY(t.valuesCompared);
            int64_t numel = 1;
            for (int64_t n : t.shapeA)
                numel *= n;
            // |sum(a) - sum(b)| <= numel * max|a - b|, and the first values are known.
            const double sumGap = std::fabs(ea["sum"].get<double>() - eb["sum"].get<double>());
            QVERIFY2(t.maxAbs * static_cast<double>(numel) >= sumGap * (1 - 1e-6), t.key.c_str());
            const auto firstA = ea["first"].get<std::vector<double>>(), firstB = eb["first"].get<std::vector<double>>();
            for (size_t k = 0; k < std::min(firstA.size(), firstB.size()); ++k)
                QVERIFY2(t.maxAbs >= std::fabs(firstA[k] - firstB[k]) * (1 - 1e-6), t.key.c_str());
            if (ea["sum"] != eb["sum"]) {
                QVERIFY2(t.differing > 0 && t.maxAbs > 0, t.key.c_str());
                ++differ;
            } else if (firstA == firstB) {
                QVERIFY2(t.differing == 0, t.key.c_str());
                ++identical;
            }
        }
        QVERIFY(differ > 0 && identical > 0); // the fixture exercises both
        QCOMPARE(d.identical, identical);
        QVERIFY(!d.same());
    }

    // The weights against the TorchScript model they fail to load into: the size
    // mismatches of expected.json are the shape changes, missing/unexpected the only-keys.
    void shapeChanges()
    {
        const json &m = expected()["mismatch"][0];
        auto dw = readDocument(fixture(m["weights"].get<std::string>()));
        auto dm = readDocument(fixture(m["model"].get<std::string>()));
        const DocumentDiff d = diffDocuments(*dw, *dm, KeyAlignment{});
        QCOMPARE(d.onlyA, m["unexpected"].get<std::vector<std::string>>());
        QCOMPARE(d.onlyB, m["missing"].get<std::vector<std::string>>());
        std::vector<std::string> shapeKeys;
        for (const TensorDiff &t : d.common) {
            if (t.shapeA == t.shapeB)
                continue;
            shapeKeys.push_back(t.key);
            QVERIFY(!t.valuesCompared);
            for (const auto &s : m["size_mismatch"])
                if (s["key"] == t.key) {
                    QCOMPARE(t.shapeA, s["checkpoint_shape"].get<std::vector<int64_t>>());
                    QCOMPARE(t.shapeB, s["model_shape"].get<std::vector<int64_t>>());
                }
        }
        std::vector<std::string> wanted;
        for (const auto &s : m["size_mismatch"])
            wanted.push_back(s["key"].get<std::string>());
        QCOMPARE(shapeKeys, wanted);
        const auto j = diffJson(d);
        for (const auto &c : j["changed"])
            QVERIFY(c["shape_a"] != c["shape_b"] || c.contains("max_abs"));
    }

    void knownDifferences()
    {
        MemoryDocument a, b;
        a.add<float>("w", DType::Float32, {1, 2, 0, -4}, {4});
        b.add<float>("w", DType::Float32, {1, 2.5f, 0, 4}, {4});
        const TensorDiff t = onlyCommon(diffOne(a, b));
        QVERIFY(t.valuesCompared);
        QCOMPARE(t.differing, uint64_t(2));
        QCOMPARE(t.maxAbs, 8.0);
        QCOMPARE(t.maxRel, 2.0); // -4 against 4
    }

    void nanAndInfinity()
    {
        MemoryDocument a, b;
        a.add<float>("same_nan", DType::Float32, {1, float(kNaN), float(kInf)}, {3});
        b.add<float>("same_nan", DType::Float32, {1, float(kNaN), float(kInf)}, {3});
        a.add<float>("nan_vs_number", DType::Float32, {1, float(kNaN)}, {2});
        b.add<float>("nan_vs_number", DType::Float32, {1, 2}, {2});
        auto da = a.finish(), db = b.finish();
        const DocumentDiff d = diffDocuments(*da, *db, KeyAlignment{});
        QCOMPARE(d.identical, size_t(1));
        const TensorDiff &t = d.common[1];
        QCOMPARE(t.differing, uint64_t(1));
        QVERIFY(std::isinf(t.maxAbs));
        const auto j = diffJson(d);
        QCOMPARE(j["changed"].size(), size_t(1));
        QVERIFY(j["changed"][0]["max_abs"].is_null());
        QCOMPARE(j["changed"][0]["differing"].get<int>(), 1);
        QVERIFY(jsonText(j).find("null") != std::string::npos);
    }

    void stridedAgainstContiguous()
    {
        // b holds the transpose of a 2x3 matrix stored 3x2: the same logical values.
        MemoryDocument a, b;
        a.add<float>("m", DType::Float32, {0, 1, 2, 3, 4, 5}, {2, 3});
        b.add<float>("m", DType::Float32, {9, 0, 3, 1, 4, 2, 5}, {2, 3}, {1, 2}, 1);
        const DocumentDiff d = diffOne(a, b);
        QVERIFY(d.same());
    }

    void dtypeChange()
    {
        MemoryDocument a, b;
        a.add<float>("x", DType::Float32, {0.5f, 1, 2}, {3});
        b.add<double>("x", DType::Float64, {0.5, 1, 2}, {3});
        const DocumentDiff d = diffOne(a, b);
        const TensorDiff t = onlyCommon(d);
        QVERIFY(t.valuesCompared);
        QCOMPARE(t.differing, uint64_t(0));
        QVERIFY(t.note.find("dtype differs") != std::string::npos);
        QVERIFY(!d.same());
        QCOMPARE(diffJson(d)["changed"][0]["dtype_b"].get<std::string>(), std::string("float64"));
    }

    void complexParts()
    {
        MemoryDocument a, b;
        a.add<float>("c", DType::Complex64, {1, 2, 3, 4}, {2});
        b.add<float>("c", DType::Complex64, {1, 2, 3, 4.5f}, {2});
        const TensorDiff t = onlyCommon(diffOne(a, b));
        QCOMPARE(t.differing, uint64_t(1));
        QCOMPARE(t.maxAbs, 0.5);
    }

    void int64BeyondDoublePrecision()
    {
        const int64_t big = (int64_t(1) << 60) + 1;
        MemoryDocument a, b;
        a.add<int64_t>("step", DType::Int64, {big, 7}, {2});
        b.add<int64_t>("step", DType::Int64, {big + 1, 7}, {2});
        const TensorDiff t = onlyCommon(diffOne(a, b));
        QCOMPARE(t.differing, uint64_t(1));
        QCOMPARE(t.maxAbs, 1.0);
    }

    // Over 3M elements: several blocks, both the contiguous and the strided walk, and a
    // difference in the last element only.
    void largeTensors()
    {
        const size_t n = 3u << 20;
        std::vector<float> values(n, 1.5f);
        MemoryDocument a, b;
        a.add<float>("flat", DType::Float32, values, {int64_t(n)});
        a.add<float>("view", DType::Float32, values, {int64_t(n / 2), 2}, {1, int64_t(n / 2)});
        values.back() = 2.5f;
        b.add<float>("flat", DType::Float32, values, {int64_t(n)});
        b.add<float>("view", DType::Float32, values, {int64_t(n / 2), 2}, {1, int64_t(n / 2)});
        auto da = a.finish(), db = b.finish();
        const DocumentDiff d = diffDocuments(*da, *db, KeyAlignment{});
        for (const TensorDiff &t : d.common) {
            QVERIFY(t.valuesCompared);
            QCOMPARE(t.differing, uint64_t(1));
            QCOMPARE(t.maxAbs, 1.0);
        }
        const std::atomic<bool> cancel{true};
        const DocumentDiff c = diffDocuments(*da, *db, KeyAlignment{}, &cancel);
        QCOMPARE(c.common.size(), size_t(2));
        QVERIFY(!c.common[0].valuesCompared && c.common[0].note.find("cancelled") != std::string::npos);
        QVERIFY(!c.common[1].valuesCompared);
        QVERIFY(!c.same());
    }

    void unreadableValues()
    {
        MemoryDocument a, b;
        a.add<float>("x", DType::Float32, {1}, {1});
        b.add<float>("x", DType::Float32, {1}, {1});
        auto da = a.finish(), db = b.finish();
        db->storages[0].resolved = false;
        db->storages[0].error = "member data/0 missing";
        const DocumentDiff d = diffDocuments(*da, *db, KeyAlignment{});
        QVERIFY(!d.common[0].valuesCompared);
        QVERIFY(d.common[0].note.find("member data/0 missing") != std::string::npos);
        QVERIFY(!d.same());
        QVERIFY(!diffText(d).empty());
    }

    void cliJson()
    {
        const ProcessResult r =
            cli({QStringLiteral("diff"), fx("state_dict.pt"), fx("state_dict.pt"), QStringLiteral("--json")});
        EXPECT_EXIT(r, 0);
        const json j = json::parse(r.out.toStdString(), nullptr, false);
        QVERIFY(j.is_object());
        QCOMPARE(j["identical"].get<size_t>(), expectedKeys("state_dict.pt").size());
        QCOMPARE(j["compared"].get<size_t>(), expectedKeys("state_dict.pt").size());
        QVERIFY(j["changed"].empty() && j["only_a"].empty() && j["only_b"].empty());
        QVERIFY(j.contains("a") && j.contains("b"));
    }

    void cliDiffers()
    {
        const ProcessResult r = cli(
            {QStringLiteral("diff"), fx("state_dict.pt"), fx("dataparallel_state_dict.pt"), QStringLiteral("--exact")});
        EXPECT_EXIT(r, 1);
        QVERIFY(r.out.contains("module.conv.weight"));
        const ProcessResult j =
            cli({QStringLiteral("diff"), fx("mismatch_weights.pt"), fx("state_dict.pt"), QStringLiteral("--json")});
        EXPECT_EXIT(j, 1);
        QVERIFY(json::parse(j.out.toStdString(), nullptr, false)["changed"].size() > 0);
    }

    // The usual reasons two files of one model look different, lined up before comparing.
    void alignedWrapperPrefix_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<QString>("rule");
        QTest::newRow("DataParallel") << QStringLiteral("state_dict.pt") << QStringLiteral("dataparallel_state_dict.pt")
                                      << QStringLiteral("(start) -> module.");
        QTest::newRow("undo DataParallel") << QStringLiteral("dataparallel_state_dict.pt")
                                           << QStringLiteral("state_dict.pt") << QStringLiteral("module. -> (nothing)");
        QTest::newRow("one wrapper for another")
            << QStringLiteral("prefixed_state_dict.pt") << QStringLiteral("dataparallel_state_dict.pt")
            << QStringLiteral("model. -> module.");
    }

    void alignedWrapperPrefix()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(QString, rule);
        auto da = readDocument(fixture(a.toStdString())), db = readDocument(fixture(b.toStdString()));
        const KeyAlignment al = alignKeys(*da, *db);
        QVERIFY(!al.literal());
        QCOMPARE(al.rules.size(), size_t(1));
        QCOMPARE(QString::fromStdString(al.rules[0].text()), rule);
        QCOMPARE(al.outsideA + al.outsideB, size_t(0));
        const DocumentDiff d = diffDocuments(*da, *db, al);
        QVERIFY(d.onlyA.empty() && d.onlyB.empty());
        // Every pair: B's key, A's key, and the values that the fixture's generator saved.
        const std::vector<std::string> keysA = expectedKeys(a.toStdString()), keysB = expectedKeys(b.toStdString());
        QCOMPARE(d.common.size(), keysB.size());
        for (size_t i = 0; i < d.common.size(); ++i) {
            QCOMPARE(d.common[i].key, keysB[i]);
            QCOMPARE(d.common[i].keyA, keysA[i]);
            const json &ta = *expectedTensor(a.toStdString(), keysA[i]),
                       &tb = *expectedTensor(b.toStdString(), keysB[i]);
            QCOMPARE(d.common[i].status() == DiffStatus::Identical,
                     ta["sum"] == tb["sum"] && ta["first"] == tb["first"]);
        }
        QVERIFY(d.same()); // the generator saved the same module under each wrapper
        // Literal, as --exact compares: nothing in common.
        const DocumentDiff exact = diffDocuments(*da, *db, KeyAlignment{});
        QVERIFY(exact.common.empty() && exact.onlyA.size() == keysA.size());
    }

    void alignedInnerStateDict_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("stateDict");
        QTest::addColumn<QString>("rules");
        QTest::newRow("training checkpoint")
            << QStringLiteral("checkpoint.pt") << QStringLiteral("model_state_dict") << QString();
        // Its model's weights under "model.", not the EMA copy beside them.
        QTest::newRow("Lightning checkpoint") << QStringLiteral("nested_checkpoint.pt") << QStringLiteral("state_dict")
                                              << QStringLiteral("model. -> (nothing)");
    }

    void alignedInnerStateDict()
    {
        QFETCH(QString, a);
        QFETCH(QString, stateDict);
        QFETCH(QString, rules);
        auto da = readDocument(fixture(a.toStdString())), db = readDocument(fixture("state_dict.pt"));
        const KeyAlignment al = alignKeys(*da, *db);
        QCOMPARE(QString::fromStdString(al.stateDictA), stateDict);
        QCOMPARE(al.stateDictB, std::string());
        QStringList texts;
        for (const RemapRule &r : al.rules)
            texts << QString::fromStdString(r.text());
        QCOMPARE(texts.join(QStringLiteral(", ")), rules);
        const std::string prefix = stateDict.toStdString() + ".";
        const std::vector<std::string> keysA = expectedKeys(a.toStdString());
        const size_t inside = static_cast<size_t>(
            std::count_if(keysA.begin(), keysA.end(), [&](const std::string &k) { return k.rfind(prefix, 0) == 0; }));
        QCOMPARE(al.outsideA, keysA.size() - inside);
        const DocumentDiff d = diffDocuments(*da, *db, al);
        QVERIFY(d.onlyA.empty() && d.onlyB.empty());
        QCOMPARE(d.common.size(), expectedKeys("state_dict.pt").size());
        for (const TensorDiff &t : d.common) {
            QCOMPARE(QString::fromStdString(al.keyInB(t.keyA)), QString::fromStdString(t.key));
            QCOMPARE(t.keyA.rfind(prefix, 0), size_t(0));
            QVERIFY2(t.valuesCompared, t.key.c_str());
        }
        const json j = diffJson(d);
        QCOMPARE(j["alignment"]["state_dict_a"].get<std::string>(), stateDict.toStdString());
        QCOMPARE(j["alignment"]["not_compared_a"].get<size_t>(), al.outsideA);
        QCOMPARE(j["changed"][0]["key_a"].get<std::string>(), d.common[0].keyA);
    }

    // A .bin keeps two keys on one tensor; save_pretrained's safetensors keep one of them.
    void tiedWeights()
    {
        auto bin = readDocument(fixture("hf/tiny_gpt2_bin")), st = readDocument(fixture("hf/tiny_gpt2"));
        for (const auto &[a, b] : {std::pair(bin.get(), st.get()), std::pair(st.get(), bin.get())}) {
            const DocumentDiff d = diffDocuments(*a, *b, alignKeys(*a, *b));
            QVERIFY(d.onlyA.empty() && d.onlyB.empty());
            const std::vector<TiedKey> &tied = a == bin.get() ? d.tiedA : d.tiedB;
            QCOMPARE(tied.size(), size_t(1));
            QCOMPARE(tied[0].key, std::string("lm_head.weight"));
            QCOMPARE(tied[0].tiedTo, std::string("transformer.wte.weight"));
            QVERIFY(d.same());
            QCOMPARE(d.common.size(), expectedKeys("hf/tiny_gpt2").size());
        }
        // Two keys on two tensors that only look alike are not tied.
        auto sd = readDocument(fixture("state_dict.pt")), dt = readDocument(fixture("dtypes.pt"));
        QVERIFY(diffDocuments(*sd, *dt, KeyAlignment{}).tiedA.empty());
    }

    // Files that agree, or have nothing in common, are compared as they are.
    void literalAlignment()
    {
        auto sd = readDocument(fixture("state_dict.pt")), dt = readDocument(fixture("dtypes.pt"));
        QVERIFY(alignKeys(*sd, *sd).literal());
        QVERIFY(alignKeys(*sd, *dt).literal());
        auto ck = readDocument(fixture("checkpoint.pt"));
        QVERIFY(alignKeys(*ck, *ck).literal()); // optimizer state and all
    }

    void cliAlignsUnlessExact()
    {
        const ProcessResult r = cli({QStringLiteral("diff"), fx("dataparallel_state_dict.pt"), fx("state_dict.pt")});
        EXPECT_EXIT(r, 0);
        QVERIFY2(r.out.contains("'module.' taken off A's keys"), r.out.constData());
        const ProcessResult exact = cli({QStringLiteral("diff"), fx("dataparallel_state_dict.pt"), fx("state_dict.pt"),
                                         QStringLiteral("--exact"), QStringLiteral("--json")});
        EXPECT_EXIT(exact, 1);
        const json j = json::parse(exact.out.toStdString(), nullptr, false);
        QVERIFY(j["alignment"]["literal"].get<bool>());
        QCOMPARE(j["only_a"].size(), expectedKeys("dataparallel_state_dict.pt").size());
    }

    void cliErrors()
    {
        const ProcessResult missing = cli({QStringLiteral("diff"), fx("state_dict.pt"), fx("no_such_file.pt")});
        EXPECT_EXIT(missing, 2);
        QVERIFY(missing.out.isEmpty());
        QVERIFY(missing.err.contains("no_such_file.pt"));
        const ProcessResult oneFile = cli({QStringLiteral("diff"), fx("state_dict.pt")});
        EXPECT_EXIT(oneFile, 2);
        const ProcessResult badOption =
            cli({QStringLiteral("diff"), fx("state_dict.pt"), fx("state_dict.pt"), QStringLiteral("--nope")});
        EXPECT_EXIT(badOption, 2);
    }
};

QTEST_GUILESS_MAIN(DiffTest)
#include "tst_diff.moc"
