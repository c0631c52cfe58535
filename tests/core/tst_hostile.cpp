// Every hostile fixture (tests/fixtures/hostile, written by make_hostile.py) read through
// the public entry point: the verdict must be one the expectations accept, the dangerous
// globals must be named, broken tensors reported and good ones still readable, and no
// file may take long. A file the reader could not finish never counts as "safe".
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/stats/tensorstats.h"

#include <QElapsedTimer>
#include <QtTest>

#include <fstream>
#include <set>

using nlohmann::json;

namespace {

const json &expectations()
{
    static const json j = [] {
        std::ifstream in(TE_FIXTURES_DIR "/hostile/expected_hostile.json");
        return in ? json::parse(in, nullptr, false) : json();
    }();
    return j;
}

QString joined(const std::set<std::string> &names)
{
    QStringList out;
    for (const auto &n : names)
        out << QString::fromStdString(n);
    return out.join(QLatin1String(", "));
}

const te::TensorInfo *tensorByKey(const te::Document &doc, const std::string &key)
{
    for (const auto &e : doc.entries)
        if (e.key == key)
            return &doc.tensors[static_cast<size_t>(e.tensor)];
    return nullptr;
}

} // namespace

class HostileTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY2(expectations().is_object(), "tests/fixtures/hostile/expected_hostile.json is missing or not JSON");
        QVERIFY(expectations().size() >= 40);
    }

    void hostileFile_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto &[name, rule] : expectations().items())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }

    void hostileFile()
    {
        QFETCH(QString, name);
        const json &rule = expectations()[name.toStdString()];
        const std::string path = TE_FIXTURES_DIR "/hostile/" + name.toStdString();

        QElapsedTimer timer;
        timer.start();
        std::unique_ptr<te::Document> doc;
        QString readError;
        try {
            doc = te::readDocument(path);
        } catch (const te::ReadError &e) {
            readError = QString::fromStdString(e.what());
        }
        const qint64 elapsed = timer.elapsed();

        // A file that was not read to the end is "unreadable" unless what was read is
        // already dangerous: the scanner must never call a partial read safe.
        QString outcome;
        if (!doc)
            outcome = QStringLiteral("unreadable");
        else if (!doc->security.complete && doc->security.verdict != "dangerous")
            outcome = QStringLiteral("unreadable");
        else
            outcome = QString::fromStdString(doc->security.verdict);

        std::set<std::string> named;
        if (doc)
            for (const auto &g : doc->security.globals)
                named.insert(g.name);
        const QString context =
            QStringLiteral("outcome %1 (%2), globals: %3")
                .arg(outcome,
                     doc ? QString::fromStdString(doc->error.empty() ? std::string("no error") : doc->error)
                         : readError,
                     joined(named));

        QStringList accepted;
        for (const auto &v : rule["accept_verdicts"])
            accepted << QString::fromStdString(v.get<std::string>());
        QVERIFY2(accepted.contains(outcome),
                 qPrintable(QStringLiteral("accepted: %1; ").arg(accepted.join(QLatin1String(", "))) + context));
        QVERIFY2(outcome != QLatin1String("safe") || doc->security.complete, qPrintable(context));

        if (outcome != QLatin1String("unreadable")) {
            for (const auto &n : rule["must_name"])
                QVERIFY2(named.count(n.get<std::string>()),
                         qPrintable(QStringLiteral("%1 not named; ").arg(QString::fromStdString(n)) + context));
        }

        if (rule.value("read_error", false))
            QVERIFY2(!doc || !doc->error.empty(), qPrintable(QStringLiteral("no read error reported; ") + context));

        if (rule.value("tensor_error", false)) {
            QVERIFY2(doc, qPrintable(context));
            for (const auto &k : rule["tensor_error_keys"]) {
                const te::TensorInfo *t = tensorByKey(*doc, k.get<std::string>());
                QVERIFY2(t, qPrintable(QStringLiteral("no tensor %1").arg(QString::fromStdString(k))));
                QVERIFY2(!t->error.empty(),
                         qPrintable(QStringLiteral("%1 has no error").arg(QString::fromStdString(k))));
                // Reported broken means not read either.
                QVERIFY(!te::computeStats(*doc, *t).ok);
                std::string error;
                QVERIFY(te::readValues(*doc, *t, 16, nullptr, &error).empty());
                QVERIFY(!error.empty());
            }
        }
        if (rule.contains("good_tensor_keys")) {
            QVERIFY2(doc, qPrintable(context));
            for (const auto &k : rule["good_tensor_keys"]) {
                const te::TensorInfo *t = tensorByKey(*doc, k.get<std::string>());
                QVERIFY2(t, qPrintable(QStringLiteral("no tensor %1").arg(QString::fromStdString(k))));
                QVERIFY2(t->error.empty(), t->error.c_str());
                const te::TensorStats st = te::computeStats(*doc, *t);
                QVERIFY2(st.ok, st.error.c_str());
                QCOMPARE(st.count, static_cast<uint64_t>(t->numel()));
            }
        }

        QVERIFY2(elapsed < 5000, qPrintable(QStringLiteral("took %1 ms").arg(elapsed)));
    }

    // Not in the expectations: the bytes of a hostile pickle run from memory, with a
    // caller's tighter limits, must fail cleanly rather than be read as safe.
    void tighterLimitsFailClosed()
    {
        std::ifstream in(TE_FIXTURES_DIR "/hostile/deep_nesting.pkl", std::ios::binary);
        QVERIFY(in);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        te::ReadOptions options;
        options.limits.maxStack = 1000;
        std::unique_ptr<te::Document> doc;
        try {
            doc = te::readDocument(te::MappedFile::fromBytes(bytes, "deep_nesting.pkl"), options);
        } catch (const te::ReadError &) {
            return; // unreadable: fine
        }
        QVERIFY(doc);
        QVERIFY(!doc->error.empty());
        QVERIFY(!doc->security.complete);
        QVERIFY(doc->security.verdict != "safe");
    }
};

QTEST_GUILESS_MAIN(HostileTest)
#include "tst_hostile.moc"
