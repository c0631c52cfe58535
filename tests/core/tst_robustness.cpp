// Every real fixture cut short at many points and with random single-byte flips, read
// from memory: the reader must throw ReadError or return a document, and everything done
// with that document afterwards (keys, statistics, the JSON report) must not crash.
// Built to run under AddressSanitizer, where an out-of-bounds read fails the run.
#include "core/diagnose/documentdiff.h"
#include "core/export/statedictwriter.h"
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/report/inspectreport.h"
#include "core/report/valuejson.h"
#include "core/stats/tensorstats.h"

#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <random>

namespace {

constexpr int kTruncations = 50;
constexpr int kFlips = 50;
// Statistics walk every element; above this size a mutated copy is inspected without
// them, so the suite stays within its time under AddressSanitizer.
constexpr size_t kStatsSizeLimit = 4 * 1024 * 1024;

std::string readAll(const QString &path)
{
    std::ifstream in(path.toStdString(), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Where flips do the most damage: the pickles and the archive's directory. Tensor data
// makes up most of a file and a flip there only changes a number.
std::vector<std::pair<uint64_t, uint64_t>> structuralRanges(const std::string &bytes)
{
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    const uint64_t size = bytes.size();
    ranges.push_back({0, std::min<uint64_t>(size, 4096)});
    ranges.push_back({size - std::min<uint64_t>(size, 2048), size});
    try {
        auto doc = te::readDocument(te::MappedFile::fromBytes(bytes, "original"));
        if (doc->zip) {
            for (const auto &e : doc->zip->entries()) {
                const bool pickle = e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".pkl") == 0;
                if (pickle && e.compressedSize > 0)
                    ranges.push_back({e.dataOffset, e.dataOffset + e.compressedSize});
            }
        }
    } catch (const te::ReadError &) { }
    return ranges;
}

} // namespace

// Calls f(bytes, description) for every mutated copy of the original: truncations at
// evenly spread points, then single-byte flips, half anywhere, half in the structure.
template <typename F> void forEachMutation(const std::string &original, const QString &path, F &&f)
{
    for (int i = 0; i < kTruncations; ++i) {
        const size_t at = original.size() * static_cast<size_t>(i) / kTruncations;
        f(original.substr(0, at), QStringLiteral("truncated at %1").arg(at));
    }
    // Seeded per file name (FNV-1a, the same on every platform) so a failure names a
    // reproducible case.
    uint64_t seed = 0xcbf29ce484222325u;
    for (char c : QFileInfo(path).fileName().toStdString())
        seed = (seed ^ static_cast<uint8_t>(c)) * 0x100000001b3u;
    std::mt19937_64 random(seed);
    const auto ranges = structuralRanges(original);
    for (int i = 0; i < kFlips; ++i) {
        uint64_t at;
        if (i % 2 == 0) {
            at = random() % original.size();
        } else {
            const auto &r = ranges[random() % ranges.size()];
            at = r.first + random() % std::max<uint64_t>(r.second - r.first, 1);
        }
        const auto mask = static_cast<char>(1 + random() % 255);
        std::string copy = original;
        copy[at] = static_cast<char>(copy[at] ^ mask);
        f(std::move(copy),
          QStringLiteral("byte %1 xor 0x%2").arg(at).arg(static_cast<uint8_t>(mask), 2, 16, QLatin1Char('0')));
    }
}

class RobustnessTest : public QObject {
    Q_OBJECT

private:
    // Returns an empty string when all went well, otherwise what went wrong. `dump` also
    // serialises the report as the CLI's --json does, which needs valid UTF-8 throughout.
    static QString survive(std::string bytes, const QString &what, bool stats, bool dump = false)
    {
        std::unique_ptr<te::Document> doc;
        try {
            doc = te::readDocument(te::MappedFile::fromBytes(std::move(bytes), what.toStdString()));
        } catch (const te::ReadError &) {
            return {};
        } catch (const std::exception &e) {
            return what + QLatin1String(": readDocument threw a non-ReadError: ") + QString::fromUtf8(e.what());
        }
        if (!doc)
            return what + QLatin1String(": readDocument returned null");
        try {
            const nlohmann::ordered_json report = te::inspectJson(*doc, stats);
            if (!report.contains("tensors"))
                return what + QLatin1String(": report without tensors");
            for (const auto &t : doc->tensors) {
                std::vector<double> imag;
                te::readValues(*doc, t, 64, &imag);
            }
            (void)te::inspectText(*doc, false);
            if (dump)
                (void)te::jsonText(report);
        } catch (const std::exception &e) {
            return what + QLatin1String(": report threw: ") + QString::fromUtf8(e.what());
        }
        return {};
    }

    static void addFileRows()
    {
        QTest::addColumn<QString>("path");
        // The malformed fixtures too: each is one broken value away from a good file, so a
        // mutation of it reaches the paths that degrade per value.
        const QStringList dirs = {QStringLiteral(TE_FIXTURES_DIR), QStringLiteral(TE_SOURCE_DIR "/resources/demo"),
                                  QStringLiteral(TE_FIXTURES_DIR "/malformed")};
        for (const QString &dir : dirs)
            for (const QString &name : QDir(dir).entryList({QStringLiteral("*.pt")}, QDir::Files, QDir::Name))
                QTest::newRow(qPrintable(name)) << dir + QLatin1Char('/') + name;
    }

private slots:
    void initTestCase()
    {
        // Every real fixture takes part: 17 made by make_fixtures.py and the two demos.
        QVERIFY(QDir(QStringLiteral(TE_FIXTURES_DIR)).entryList({QStringLiteral("*.pt")}, QDir::Files).size() >= 17);
        QVERIFY(QDir(QStringLiteral(TE_SOURCE_DIR "/resources/demo")).entryList({QStringLiteral("*.pt")}).size() >= 2);
        QVERIFY(QDir(QStringLiteral(TE_FIXTURES_DIR "/malformed")).entryList({QStringLiteral("*.pt")}).size() >= 20);
    }

    // Reading, keys, statistics and values of every mutated copy: no crash, no exception
    // other than ReadError.
    void mutated_data() { addFileRows(); }
    void mutated()
    {
        QFETCH(QString, path);
        const std::string original = readAll(path);
        QVERIFY(original.size() > 100);
        const bool stats = original.size() <= kStatsSizeLimit;
        QElapsedTimer timer;
        timer.start();
        QString failure = survive(original, path, true);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        int cases = 0;
        QStringList failures;
        forEachMutation(original, path, [&](std::string bytes, const QString &what) {
            ++cases;
            const QString f = survive(std::move(bytes), what, stats);
            if (!f.isEmpty())
                failures << f;
        });
        QCOMPARE(cases, kTruncations + kFlips);
        QVERIFY2(failures.isEmpty(),
                 qPrintable(QStringLiteral("%1 of %2 cases failed, e.g.\n").arg(failures.size()).arg(cases) +
                            failures.mid(0, 5).join(QLatin1Char('\n'))));
        qDebug("%s: %lld ms", qPrintable(QFileInfo(path).fileName()), timer.elapsed());
    }

    // The same copies reported as `inspect --json` does: the report must serialise,
    // whatever bytes the damaged file put into its keys, names and messages.
    void mutatedReportIsJson_data() { addFileRows(); }
    void mutatedReportIsJson()
    {
        QFETCH(QString, path);
        const std::string original = readAll(path);
        QVERIFY(original.size() > 100);
        QString failure = survive(original, path, false, true);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        int cases = 0;
        QStringList failures;
        forEachMutation(original, path, [&](std::string bytes, const QString &what) {
            ++cases;
            const QString f = survive(std::move(bytes), what, false, true);
            if (!f.isEmpty())
                failures << f;
        });
        QCOMPARE(cases, kTruncations + kFlips);
        QVERIFY2(failures.isEmpty(),
                 qPrintable(QStringLiteral("%1 of %2 cases failed, e.g.\n").arg(failures.size()).arg(cases) +
                            failures.mid(0, 3).join(QLatin1Char('\n'))));
    }

    // A checkpoint being rewritten while it is open (torch.save truncates the file it writes
    // to): the pages past the new end raise SIGBUS when read through the map. Every reader
    // of tensor bytes must survive that and say what happened, and an export must not
    // leave a file behind.
    void truncatedWhileOpen()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("changing.pt"));
        QVERIFY(QFile::copy(QStringLiteral(TE_FIXTURES_DIR "/torchvision_traced.pt"), path));
        std::unique_ptr<te::Document> doc = te::readDocument(path.toStdString());
        std::unique_ptr<te::Document> same =
            te::readDocument(QStringLiteral(TE_FIXTURES_DIR "/torchvision_traced.pt").toStdString());
        QVERIFY(doc->tensors.size() > 10);
        QVERIFY(!doc->file->changedOnDisk());
        {
            QFile f(path);
            QVERIFY(f.resize(4096));
        }
        QVERIFY(doc->file->changedOnDisk());
        int damaged = 0;
        for (const auto &t : doc->tensors) {
            const te::TensorStats st = te::computeStats(*doc, t);
            std::string error;
            const std::vector<double> values = te::readValues(*doc, t, 16, nullptr, &error);
            if (!st.ok) {
                QVERIFY2(st.error.find("cut short") != std::string::npos, st.error.c_str());
                QVERIFY(values.empty());
                QVERIFY2(error.find("cut short") != std::string::npos, error.c_str());
                ++damaged;
            }
        }
        QVERIFY(doc->file->damaged());
        QVERIFY2(damaged > 0, "no tensor noticed the truncation");

        const te::DocumentDiff diff = te::diffDocuments(*doc, *same, te::alignKeys(*doc, *same));
        bool noted = false;
        for (const auto &d : diff.common)
            noted |= d.note.find("cut short") != std::string::npos && !d.valuesCompared;
        QVERIFY2(noted, "the diff did not say that values could not be compared");

        std::vector<te::NamedTensor> all;
        for (const auto &e : doc->entries)
            all.push_back({e.key, doc.get(), e.tensor});
        // The user's earlier export at that path must survive a failed one untouched.
        const QString out = dir.filePath(QStringLiteral("export.safetensors"));
        {
            QFile previous(out);
            QVERIFY(previous.open(QIODevice::WriteOnly));
            previous.write("the user's earlier export");
        }
        bool threw = false;
        try {
            te::writeSafetensors(out.toStdString(), all);
        } catch (const std::runtime_error &e) {
            threw = std::string(e.what()).find("cut short") != std::string::npos;
        }
        QVERIFY2(threw, "the export did not fail on the damaged file");
        QFile previous(out);
        QVERIFY(previous.open(QIODevice::ReadOnly));
        QCOMPARE(previous.readAll(), QByteArray("the user's earlier export"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
                 (QStringList{QStringLiteral("changing.pt"), QStringLiteral("export.safetensors")}));

        // Opening it now is an ordinary truncated file: an error, not a crash.
        bool unreadable = false;
        try {
            te::readDocument(path.toStdString());
        } catch (const te::ReadError &) {
            unreadable = true;
        }
        QVERIFY(unreadable);
    }

    // The smallest inputs: nothing, one byte, a lone zip signature.
    void tinyInputs_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("NUL and STOP") << QByteArray("\0.", 2);
        QTest::newRow("STOP") << QByteArray(".");
        QTest::newRow("PROTO") << QByteArray("\x80\x02");
        QTest::newRow("zip local header") << QByteArray("PK\x03\x04");
        QTest::newRow("zip end record") << QByteArray("PK\x05\x06", 4) + QByteArray(18, '\0');
        QTest::newRow("legacy magic only") << QByteArray("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.");
        QTest::newRow("tar header") << QByteArray(257, 'a') + QByteArray("ustar") + QByteArray(250, '\0');
    }
    void tinyInputs()
    {
        QFETCH(QByteArray, bytes);
        const QString failure = survive(bytes.toStdString(), QStringLiteral("tiny input"), true, true);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }
};

QTEST_GUILESS_MAIN(RobustnessTest)
#include "tst_robustness.moc"
