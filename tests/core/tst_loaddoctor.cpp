// The loading doctor at scale, on state dicts built in memory: deep keys, many renamed
// layers, and the doctor's quick count of a candidate rule, which must agree with a full
// check for every kind of rule it tries (prefixes, renames, batch counts filled in).
#include "core/diagnose/loaddiagnosis.h"

#include <QtTest>
#include <random>
#include <regex>
#include <set>

using namespace te;

namespace {

KeySpec keyOf(const std::string &name, std::vector<int64_t> shape = {4}, DType dtype = DType::Float32)
{
    KeySpec k;
    k.key = name;
    k.shape = std::move(shape);
    k.dtype = dtype;
    k.elements = 1;
    for (int64_t d : k.shape)
        k.elements *= static_cast<uint64_t>(d);
    return k;
}

ExpectedModel modelOf(const std::vector<KeySpec> &keys)
{
    ExpectedModel m;
    m.className = "Net";
    m.keys = keys;
    return m;
}

// A state dict file in memory, its keys under the root.
std::unique_ptr<Document> documentOf(const std::vector<KeySpec> &keys)
{
    auto doc = std::make_unique<Document>();
    for (const auto &k : keys) {
        TensorInfo t;
        t.shape = k.shape;
        t.dtype = k.dtype;
        doc->tensors.push_back(t);
        doc->entries.push_back({k.key, static_cast<int>(doc->tensors.size() - 1)});
    }
    doc->stateDicts = {""};
    return doc;
}

std::vector<KeySpec> prefixed(const std::string &prefix, std::vector<KeySpec> keys)
{
    for (auto &k : keys)
        k.key = prefix + k.key;
    return keys;
}

std::string chain(int depth)
{
    std::string s;
    for (int i = 0; i < depth; ++i)
        s += (i ? ".b" : "b") + std::to_string(i);
    return s;
}

} // namespace

class LoadDoctorTest : public QObject {
    Q_OBJECT
private slots:
    // Keys 300 modules deep: a key that leaves the model's modules halfway down is flagged
    // by the module where it leaves, and the walk costs the key's length, not its depth
    // times its length.
    void deepKeys()
    {
        const std::string deep = chain(300), half = chain(150);
        std::vector<KeySpec> model, weights;
        for (int j = 0; j < 2000; ++j)
            model.push_back(keyOf(deep + ".w" + std::to_string(j)));
        weights = model;
        weights[7].key = half + ".x.w7";
        weights[9].key = deep + ".w9.extra";
        weights[11].key = deep + ".w11x";
        const ExpectedModel m = modelOf(model);
        const LoadReport r = checkLoad(WeightsSource{"", weights, false, {}}, m, {});
        QCOMPARE(r.missing, (std::vector<std::string>{deep + ".w7", deep + ".w9", deep + ".w11"}));
        // Module b0...b149 comes first in the recursion. A key under a parameter's name is
        // not flagged: PyTorch looks at the name after the module's prefix up to its dot.
        QCOMPARE(r.unexpected, (std::vector<std::string>{half + ".x.w7", deep + ".w11x"}));
        QCOMPARE(r.loaded.size(), size_t(1997));

        // The same keys behind DataParallel's prefix: stripping it loads all but the two.
        auto doc = documentOf(prefixed("module.", weights));
        const LoadReport d = diagnoseLoad(*doc, "", m, {});
        QCOMPARE(d.loaded.size(), size_t(0));
        QVERIFY(!d.suggestions.empty());
        QCOMPARE(d.suggestions.front().kind, std::string("strip_prefix"));
        QCOMPARE(d.suggestions.front().from, std::string("module."));
        QCOMPARE(d.suggestions.front().fixes, 1997);
    }

    // The module tree as the reference names it, out of order: the recursion still goes
    // parents first, and a key under a module the model lacks is flagged by the root.
    void givenModuleTree()
    {
        ExpectedModel m = modelOf({keyOf("a.b.c.w"), keyOf("a.w")});
        m.modulePaths = {"", "a.b.c", "a", "a.b", "x.y"};
        const std::vector<KeySpec> weights{keyOf("a.b.c.w"), keyOf("a.w"), keyOf("x.y.z"), keyOf("a.b.q")};
        const LoadReport r = checkLoad(WeightsSource{"", weights, false, {}}, m, {});
        QCOMPARE(r.unexpected, (std::vector<std::string>{"x.y.z", "a.b.q"}));
        QCOMPARE(r.loaded, (std::vector<std::string>{"a.w", "a.b.c.w"}));
    }

    // A reference key that starts with a dot: the recursion checks '.w' as 'w' under the
    // root. With a 'w' as well, both check 'w' and the checkpoint's '.w' is unexpected;
    // without one, the check says it cannot go on (this used to abort the CLI).
    void keyWithLeadingDot()
    {
        const std::vector<KeySpec> both{keyOf(".w"), keyOf("w")};
        const LoadReport r = checkLoad(WeightsSource{"", both, false, {}}, modelOf(both), {});
        QCOMPARE(r.loaded, (std::vector<std::string>{"w", "w"}));
        QCOMPARE(r.unexpected, std::vector<std::string>{".w"});
        const std::vector<KeySpec> alone{keyOf(".w"), keyOf("a.b")};
        std::string error;
        try {
            checkLoad(WeightsSource{"", alone, false, {}}, modelOf(alone), {});
        } catch (const std::runtime_error &e) {
            error = e.what();
        }
        QVERIFY2(error.find("'.w'") != std::string::npos, error.c_str());
    }

    // Converted checkpoints name every norm layer's parameters gamma and beta: the doctor
    // tries a rename per missing key (up to 64); the two that fix every layer remain, the
    // renames of single keys they cover are dropped.
    void manyRenamedLayers()
    {
        std::vector<KeySpec> model, weights;
        for (int i = 0; i < 3000; ++i) {
            const std::string layer = "layers." + std::to_string(i) + ".";
            for (const char *name : {"fc.weight", "fc.bias"})
                model.push_back(keyOf(layer + name, {8}));
            model.push_back(keyOf(layer + "norm.weight"));
            model.push_back(keyOf(layer + "norm.bias"));
        }
        weights = model;
        for (auto &k : weights) {
            if (k.key.size() > 12 && k.key.compare(k.key.size() - 12, 12, ".norm.weight") == 0)
                k.key.replace(k.key.size() - 6, 6, "gamma");
            else if (k.key.size() > 10 && k.key.compare(k.key.size() - 10, 10, ".norm.bias") == 0)
                k.key.replace(k.key.size() - 4, 4, "beta");
        }
        const ExpectedModel m = modelOf(model);
        auto doc = documentOf(weights);
        const LoadReport r = diagnoseLoad(*doc, "", m, {});
        QCOMPARE(r.loaded.size(), size_t(6000));
        // Two suggestions of equal rank, in the order the ranking leaves them.
        QCOMPARE(r.suggestions.size(), size_t(2));
        std::set<std::string> renames;
        for (const auto &s : r.suggestions) {
            QCOMPARE(s.kind, std::string("rename"));
            QCOMPARE(s.fixes, 3000);
            renames.insert(s.from + " -> " + s.to);
        }
        QCOMPARE(renames, (std::set<std::string>{"re:\\.gamma$ -> .weight", "re:\\.beta$ -> .bias"}));
        QVERIFY(checkLoad(weightsFrom(*doc, ""), m, {r.suggestions[0].rule, r.suggestions[1].rule}).strictOk);
    }

    // The doctor counts a candidate rule by the keys it renames; that count must be the
    // full check's for every rule: prefixes stripped, added and replaced, renames of one
    // key or of a last name, rules onto names of other shapes, duplicate keys, and the
    // BatchNorm counts load_state_dict fills in once any rule is applied.
    void trialsAgreeWithChecks()
    {
        std::mt19937 rng(7);
        auto pick = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
        const std::vector<std::string> segments{"a", "b", "layers", "0", "1", "bn", "module", "norm"};
        const std::vector<std::string> names{"weight", "bias", "gamma", "running_mean", "num_batches_tracked"};
        for (int round = 0; round < 40; ++round) {
            std::vector<KeySpec> model;
            for (int i = 0; i < 120; ++i) {
                std::string key;
                for (size_t s = pick(4) + 1; s > 0; --s)
                    key += segments[pick(segments.size())] + ".";
                model.push_back(keyOf(key + names[pick(names.size())], {static_cast<int64_t>(pick(3) + 1)}));
                if (pick(20) == 0)
                    model.push_back(model.back()); // a key twice
            }
            ExpectedModel m = modelOf(model);
            m.normModulesFillingBatchCount = {"bn", "a.bn", "a.bn", "layers.0"};
            WeightsSource w;
            for (const auto &k : model)
                if (pick(10) != 0)
                    w.keys.push_back(
                        keyOf((pick(3) == 0 ? "module." : "") + k.key, {static_cast<int64_t>(pick(3) + 1)}));
            w.keys.push_back(keyOf("extra.gamma"));
            w.keys.push_back(w.keys[pick(w.keys.size())]); // a key twice
            w.hasMetadata = round % 2 == 0;
            w.versions["bn"] = 2;
            const LoadChecker checker(m);
            const RuleTrials trials(checker, w);
            auto anyPrefix = [&](const std::string &key) {
                const size_t dot = key.find('.', pick(key.size()));
                return dot == std::string::npos ? std::string() : key.substr(0, dot + 1);
            };
            auto escaped = [](const std::string &s) {
                std::string out;
                for (char c : s)
                    out += c == '.' ? std::string("\\.") : std::string(1, c);
                return out;
            };
            for (int t = 0; t < 40; ++t) {
                const std::string from = w.keys[pick(w.keys.size())].key, to = model[pick(model.size())].key;
                const std::vector<RemapRule> candidates{
                    {RemapRule::Kind::Prefix, anyPrefix(from), ""},
                    {RemapRule::Kind::Prefix, "", anyPrefix(to)},
                    {RemapRule::Kind::Prefix, anyPrefix(from), anyPrefix(to)},
                    {RemapRule::Kind::Regex, "^" + escaped(from) + "$", to},
                    {RemapRule::Kind::Regex, "\\." + escaped(from.substr(from.rfind('.') + 1)) + "$", ".weight"},
                };
                for (const auto &rule : candidates) {
                    const LoadCount full = checker.count(w, {rule});
                    const size_t atLeast = pick(2) ? 0 : pick(model.size());
                    const auto tried = trials.count(rule, atLeast);
                    const QByteArray what = QByteArray::fromStdString(rule.text());
                    if (!tried) {
                        QVERIFY2(full.loaded.size() < atLeast, what.constData());
                        continue;
                    }
                    QVERIFY2(tried->loaded == full.loaded, what.constData());
                    QVERIFY2(tried->missing == full.missing, what.constData());
                    QVERIFY2(tried->unexpected == full.unexpected, what.constData());
                    QVERIFY2(tried->shapeMismatch == full.shapeMismatch, what.constData());
                    const LoadReport report = checker.check(w, {rule});
                    QCOMPARE(full.loaded.size(), report.loaded.size());
                    QCOMPARE(full.missing, report.missing.size());
                    QCOMPARE(full.unexpected, report.unexpected.size());
                }
            }
        }
    }

    // Rules whose pattern is plain text are skipped on keys without that text; that must
    // not change what any pattern does.
    void regexRules_data()
    {
        QTest::addColumn<QByteArray>("pattern");
        QTest::addColumn<QByteArray>("replacement");
        QTest::addColumn<QByteArray>("key");
        QTest::newRow("suffix") << QByteArray("\\.gamma$") << QByteArray(".weight") << QByteArray("bn.gamma");
        QTest::newRow("suffix inside") << QByteArray("\\.gamma$") << QByteArray(".weight") << QByteArray("bn.gamma.x");
        QTest::newRow("anchored") << QByteArray("^module\\.") << QByteArray() << QByteArray("module.module.x");
        QTest::newRow("every match") << QByteArray("\\.0\\.") << QByteArray(".1.") << QByteArray("a.0.0.b.0.c");
        QTest::newRow("escaped dollar") << QByteArray("x\\$") << QByteArray("y") << QByteArray("ax$b");
        QTest::newRow("escaped backslash") << QByteArray("a\\\\b") << QByteArray("c") << QByteArray("xa\\b");
        QTest::newRow("class") << QByteArray("\\d") << QByteArray("N") << QByteArray("layer1.2");
        QTest::newRow("group") << QByteArray("^(\\w+)\\.b") << QByteArray("$1.c") << QByteArray("aa.b.b");
        QTest::newRow("alternation") << QByteArray("gamma|beta") << QByteArray("w") << QByteArray("bn.beta");
        QTest::newRow("any character") << QByteArray("a.c") << QByteArray("x") << QByteArray("abc.a.c");
        QTest::newRow("empty") << QByteArray() << QByteArray("-") << QByteArray("ab");
        QTest::newRow("anchors only") << QByteArray("^$") << QByteArray("x") << QByteArray();
        QTest::newRow("invalid, changes nothing") << QByteArray("([") << QByteArray("x") << QByteArray("a([");
    }

    void regexRules()
    {
        QFETCH(QByteArray, pattern);
        QFETCH(QByteArray, replacement);
        QFETCH(QByteArray, key);
        const RemapRule rule{RemapRule::Kind::Regex, pattern.toStdString(), replacement.toStdString()};
        std::string expected = key.toStdString();
        try {
            expected = std::regex_replace(expected, std::regex(rule.from), rule.to);
        } catch (const std::regex_error &) { }
        QCOMPARE(applyRules(key.toStdString(), {rule}), expected);
        QCOMPARE(applyRules(std::vector<KeySpec>{keyOf(key.toStdString())}, {rule}),
                 std::vector<std::string>{expected});
    }
};

QTEST_GUILESS_MAIN(LoadDoctorTest)
#include "tst_loaddoctor.moc"
