// Checks what the reader understands of every real fixture against what PyTorch itself
// recorded when it wrote them (tests/fixtures/expected.json, made by make_fixtures.py):
// format, keys in order, shapes, dtypes, devices, strides, values, state dicts, modules,
// tied storages and metadata. These files come from torch.save, so nothing may fail.
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/report/inspectreport.h"
#include "core/report/valuejson.h"
#include "core/stats/tensorgrid.h"
#include "core/stats/tensorstats.h"
#include "tests/support/fixtureexpectations.h"

#include <QtTest>

#include <map>
#include <memory>
#include <set>
#include <sstream>

using nlohmann::json;
using namespace te::testing;

namespace {

std::vector<int64_t> ints(const json &v)
{
    std::vector<int64_t> out;
    for (const auto &i : v)
        out.push_back(i.get<int64_t>());
    return out;
}

QString text(const std::vector<int64_t> &v)
{
    QStringList parts;
    for (int64_t i : v)
        parts << QString::number(i);
    return QLatin1Char('[') + parts.join(QLatin1String(", ")) + QLatin1Char(']');
}

QString text(const std::vector<std::string> &v)
{
    QStringList parts;
    for (const auto &s : v)
        parts << QString::fromStdString(s);
    return QLatin1Char('[') + parts.join(QLatin1String(", ")) + QLatin1Char(']');
}

} // namespace

// Every test function starts the same way: its row's file, opened once, and its expectations.
#define OPEN_DOCUMENT()                                                                                                \
    QFETCH(QString, path);                                                                                             \
    QFETCH(QByteArray, want);                                                                                          \
    const json w = json::parse(want.toStdString());                                                                    \
    const te::Document *doc = document(path);                                                                          \
    QVERIFY2(doc, qPrintable(QStringLiteral("readDocument threw: ") + m_errors[path]))

class FixturesTest : public QObject {
    Q_OBJECT

private:
    // Opened once per file: every test function looks at the same document.
    const te::Document *document(const QString &path)
    {
        auto it = m_docs.find(path);
        if (it != m_docs.end())
            return it->second.get();
        std::unique_ptr<te::Document> doc;
        try {
            doc = te::readDocument(path.toStdString());
        } catch (const te::ReadError &e) {
            m_errors[path] = QString::fromStdString(e.what());
        }
        const te::Document *raw = doc.get();
        m_docs[path] = std::move(doc);
        return raw;
    }

    // Each row: the file and its entry of expected.json, handed over as JSON text; only
    // files whose entry records `required` when that is given.
    void addRows(const char *required = nullptr)
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("want");
        const std::pair<const char *, QString> sections[] = {
            {"files", QStringLiteral(TE_FIXTURES_DIR)},
            {"demo", QStringLiteral(TE_SOURCE_DIR "/resources/demo")},
        };
        for (const auto &[section, dir] : sections) {
            for (const auto &[name, entry] : expected()[section].items()) {
                if (required && !entry.contains(required))
                    continue;
                QTest::newRow(name.c_str())
                    << dir + QLatin1Char('/') + QString::fromStdString(name) << QByteArray::fromStdString(entry.dump());
            }
        }
    }

    std::map<QString, std::unique_ptr<te::Document>> m_docs;
    std::map<QString, QString> m_errors;

private slots:
    void initTestCase()
    {
        QVERIFY2(expected().is_object(), "tests/fixtures/expected.json is missing or not JSON");
        QVERIFY(expected()["files"].size() >= 17);
        QVERIFY(expected()["demo"].size() >= 2);
    }

    void readsWithoutError_data() { addRows(); }
    void readsWithoutError()
    {
        OPEN_DOCUMENT();
        QVERIFY2(doc->error.empty(), doc->error.c_str());
        QVERIFY(doc->security.complete);
        for (const auto &e : doc->entries) {
            const te::TensorInfo &t = doc->tensors[static_cast<size_t>(e.tensor)];
            QVERIFY2(t.error.empty(), qPrintable(QString::fromStdString(e.key + ": " + t.error)));
        }
        // Unkeyed tensors too (TorchScript constants): every storage of a real file resolves.
        for (const auto &t : doc->tensors)
            QVERIFY2(t.error.empty(), t.error.c_str());
        for (const auto &s : doc->storages)
            QVERIFY2(s.resolved && s.error.empty(), (s.key + ": " + s.error).c_str());
    }

    // The CLI writes the inspect document tensor by tensor; it must be the same text as the
    // whole document dumped at once, with and without statistics.
    void streamedInspectJson_data() { addRows(); }
    void streamedInspectJson()
    {
        OPEN_DOCUMENT();
        Q_UNUSED(w);
        for (bool stats : {false, true}) {
            std::ostringstream streamed;
            te::writeInspectJson(streamed, *doc, stats);
            const std::string whole = te::jsonText(te::inspectJson(*doc, stats), 2);
            QCOMPARE(QString::fromStdString(streamed.str()), QString::fromStdString(whole));
        }
    }

    void format_data() { addRows(); }
    void format()
    {
        OPEN_DOCUMENT();
        QCOMPARE(QString::fromLatin1(te::formatName(doc->format)), QString::fromStdString(w["format"]));
        if (w.contains("pickle_protocol"))
            QCOMPARE(doc->pickleProtocol, w["pickle_protocol"].get<int>());
    }

    // Every global PyTorch's own pickletools pass saw must be reported by the scanner.
    void pickleGlobals_data() { addRows("pickle_globals"); }
    void pickleGlobals()
    {
        OPEN_DOCUMENT();
        std::set<std::string> seen;
        for (const auto &g : doc->security.globals)
            seen.insert(g.name);
        for (const auto &g : w["pickle_globals"])
            QVERIFY2(seen.count(g.get<std::string>()), g.get<std::string>().c_str());
    }

    void tensorKeys_data() { addRows(); }
    void tensorKeys()
    {
        OPEN_DOCUMENT();
        std::vector<std::string> actual, wanted;
        for (const auto &e : doc->entries)
            actual.push_back(e.key);
        for (const auto &t : w["tensors"])
            wanted.push_back(t["key"]);
        QCOMPARE(text(actual), text(wanted));
    }

    // Every property of every tensor; all differences of a file are listed at once.
    void tensorLayout_data() { addRows(); }
    void tensorLayout()
    {
        OPEN_DOCUMENT();
        QCOMPARE(doc->entries.size(), w["tensors"].size());
        QStringList differences;
        auto check = [&](const std::string &key, const char *what, const QString &actual, const QString &wanted) {
            if (actual != wanted)
                differences << QStringLiteral("%1: %2 is %3, expected %4")
                                   .arg(QString::fromStdString(key), QLatin1String(what), actual, wanted);
        };
        auto flag = [](bool b) { return b ? QStringLiteral("true") : QStringLiteral("false"); };
        for (size_t i = 0; i < doc->entries.size(); ++i) {
            const json &e = w["tensors"][i];
            const te::TensorInfo &t = doc->tensors[static_cast<size_t>(doc->entries[i].tensor)];
            const std::string &key = doc->entries[i].key;
            if (t.storage < 0 || static_cast<size_t>(t.storage) >= doc->storages.size()) {
                differences << QString::fromStdString(key + ": no storage");
                continue;
            }
            const te::StorageInfo &s = doc->storages[static_cast<size_t>(t.storage)];
            check(key, "shape", text(t.shape), text(ints(e["shape"])));
            check(key, "dtype", QString::fromLatin1(te::dtypeName(t.dtype)), QString::fromStdString(e["dtype"]));
            check(key, "saved device", QString::fromStdString(s.location.str()),
                  QString::fromStdString(e["saved_device"]));
            if (e.contains("stride"))
                check(key, "stride", text(t.strides), text(ints(e["stride"])));
            if (e.contains("storage_offset"))
                check(key, "storage offset", QString::number(t.storageOffset),
                      QString::number(e["storage_offset"].get<int64_t>()));
            if (e.contains("is_parameter"))
                check(key, "is_parameter", flag(t.isParameter), flag(e["is_parameter"].get<bool>()));
            if (e.contains("requires_grad"))
                check(key, "requires_grad", flag(t.requiresGrad), flag(e["requires_grad"].get<bool>()));
        }
        QVERIFY2(differences.isEmpty(), qPrintable(differences.join(QLatin1Char('\n'))));
    }

    void sums_data() { addRows(); }
    void sums()
    {
        OPEN_DOCUMENT();
        QCOMPARE(doc->entries.size(), w["tensors"].size());
        for (size_t i = 0; i < doc->entries.size(); ++i) {
            const json &e = w["tensors"][i];
            const te::TensorInfo &t = doc->tensors[static_cast<size_t>(doc->entries[i].tensor)];
            const std::string key = doc->entries[i].key;
            const te::TensorStats st = te::computeStats(*doc, t);
            QVERIFY2(st.ok, (key + ": " + st.error).c_str());
            if (e["sum"].is_null()) {
                // PyTorch's sum was NaN/Inf: the finite part and the counts carry the check.
                QVERIFY2(close(st.finiteSum, e["finite_sum"].get<double>()),
                         qPrintable(QStringLiteral("%1: finite sum %2, expected %3")
                                        .arg(QString::fromStdString(key))
                                        .arg(st.finiteSum, 0, 'g', 17)
                                        .arg(e["finite_sum"].get<double>(), 0, 'g', 17)));
                QCOMPARE(st.nans, e["nan_count"].get<uint64_t>());
                QCOMPARE(st.posInfs, e["posinf_count"].get<uint64_t>());
                QCOMPARE(st.negInfs, e["neginf_count"].get<uint64_t>());
                continue;
            }
            QVERIFY2(close(st.sum, number(e["sum"])), qPrintable(QStringLiteral("%1: sum %2, expected %3")
                                                                     .arg(QString::fromStdString(key))
                                                                     .arg(st.sum, 0, 'g', 17)
                                                                     .arg(number(e["sum"]), 0, 'g', 17)));
            if (e.contains("sum_imag"))
                QVERIFY2(close(st.sumImag, number(e["sum_imag"])),
                         qPrintable(QStringLiteral("%1: imaginary sum %2, expected %3")
                                        .arg(QString::fromStdString(key))
                                        .arg(st.sumImag, 0, 'g', 17)
                                        .arg(number(e["sum_imag"]), 0, 'g', 17)));
        }
    }

    void firstValues_data() { addRows(); }
    void firstValues()
    {
        OPEN_DOCUMENT();
        QCOMPARE(doc->entries.size(), w["tensors"].size());
        for (size_t i = 0; i < doc->entries.size(); ++i) {
            const json &e = w["tensors"][i];
            if (!e.contains("first"))
                continue;
            const te::TensorInfo &t = doc->tensors[static_cast<size_t>(doc->entries[i].tensor)];
            const QString key = QString::fromStdString(doc->entries[i].key);
            std::vector<double> imag;
            std::string error;
            const std::vector<double> got = te::readValues(*doc, t, e["first"].size(), &imag, &error);
            QVERIFY2(error.empty(), qPrintable(key + QLatin1String(": ") + QString::fromStdString(error)));
            QCOMPARE(key + QString::number(got.size()), key + QString::number(e["first"].size()));
            for (size_t k = 0; k < got.size(); ++k) {
                const double wanted = number(e["first"][k]);
                QVERIFY2(close(got[k], wanted), qPrintable(QStringLiteral("%1[%2] = %3, expected %4")
                                                               .arg(key)
                                                               .arg(k)
                                                               .arg(got[k], 0, 'g', 17)
                                                               .arg(wanted, 0, 'g', 17)));
                if (e.contains("first_imag")) {
                    const double wantedImag = number(e["first_imag"][k]);
                    QVERIFY2(close(imag.at(k), wantedImag),
                             qPrintable(QStringLiteral("%1[%2] imaginary = %3, expected %4")
                                            .arg(key)
                                            .arg(k)
                                            .arg(imag.at(k), 0, 'g', 17)
                                            .arg(wantedImag, 0, 'g', 17)));
                }
            }
        }
    }

    // t[i, ...] read through the view indexLeading makes equals the same elements of the
    // whole tensor read in row-major order, for contiguous, transposed, channels-last and
    // expanded (stride 0) tensors as torch saved them.
    void indexLeadingDimensions()
    {
        const te::Document *doc = document(QStringLiteral(TE_FIXTURES_DIR "/dtypes.pt"));
        QVERIFY(doc);
        auto tensor = [&](const char *key) -> const te::TensorInfo * {
            for (const auto &e : doc->entries)
                if (e.key == key)
                    return &doc->tensors[static_cast<size_t>(e.tensor)];
            return nullptr;
        };
        // transposed = arange(12).reshape(3, 4).t(): element [i][j] is 4j + i.
        const te::TensorInfo *transposed = tensor("transposed");
        QVERIFY(transposed);
        QCOMPARE(te::readValues(*doc, te::indexLeading(*transposed, {2}), 8), (std::vector<double>{2, 6, 10}));
        for (const char *key : {"float32", "transposed", "channels_last", "expanded", "int32"}) {
            const te::TensorInfo *t = tensor(key);
            QVERIFY2(t, key);
            const std::vector<double> whole = te::readValues(*doc, *t, 1 << 20);
            // Every index of the leading dimensions (all but the last two, or the first of two).
            const size_t lead = t->shape.size() > 2 ? t->shape.size() - 2 : 1;
            int64_t inner = 1;
            for (size_t d = lead; d < t->shape.size(); ++d)
                inner *= t->shape[d];
            std::vector<int64_t> at(lead, 0);
            for (size_t first = 0; first < whole.size(); first += static_cast<size_t>(inner)) {
                const te::TensorInfo view = te::indexLeading(*t, at);
                QVERIFY2(view.error.empty(), view.error.c_str());
                QCOMPARE(view.shape,
                         std::vector<int64_t>(t->shape.begin() + static_cast<std::ptrdiff_t>(lead), t->shape.end()));
                std::string error;
                const std::vector<double> part = te::readValues(*doc, view, 1 << 20, nullptr, &error);
                QVERIFY2(error.empty(), error.c_str());
                QCOMPARE(part, std::vector<double>(whole.begin() + static_cast<std::ptrdiff_t>(first),
                                                   whole.begin() + static_cast<std::ptrdiff_t>(first) + inner));
                for (size_t d = lead; d-- > 0;) // the next index, the last dimension fastest
                    if (++at[d] < t->shape[d])
                        break;
                    else
                        at[d] = 0;
            }
        }
        // Out of range, negative and too many indices name what is wrong.
        QVERIFY(te::indexLeading(*transposed, {4}).error.find("out of range for dimension 0 of size 4") !=
                std::string::npos);
        QVERIFY(!te::indexLeading(*transposed, {-1}).error.empty());
        QVERIFY(te::indexLeading(*transposed, {0, 0, 0}).error.find("3 dimensions into a tensor of 2") !=
                std::string::npos);
        std::string error;
        QVERIFY(te::readValues(*doc, te::indexLeading(*transposed, {4}), 8, nullptr, &error).empty());
        QVERIFY(!error.empty());
    }

    // A tensor reduced to a grid of cells: every element its own cell equals the values
    // read in row-major order; blocks take the mean of their finite values, or the value
    // of largest magnitude; a tensor without elements has no picture.
    void gridOfCells()
    {
        const te::Document *doc = document(QStringLiteral(TE_FIXTURES_DIR "/dtypes.pt"));
        QVERIFY(doc);
        auto tensor = [&](const char *key) -> const te::TensorInfo & {
            for (const auto &e : doc->entries)
                if (e.key == key)
                    return doc->tensors[static_cast<size_t>(e.tensor)];
            throw std::runtime_error(key);
        };
        for (const char *key : {"float32", "transposed", "expanded", "int32", "channels_last", "scalar_0d"}) {
            const te::TensorInfo &t = tensor(key);
            const te::TensorGrid g = te::reduceToGrid(*doc, t, 1024, 1024, te::GridReduction::Mean);
            QVERIFY2(g.ok, key);
            QCOMPARE(g.blockRows * g.blockColumns, int64_t(1));
            QCOMPARE(g.cells, te::readValues(*doc, t, 1 << 20));
            QCOMPARE(static_cast<int64_t>(g.cellColumns), t.shape.empty() ? int64_t(1) : t.shape.back());
        }
        // transposed[i][j] = 4j + i, 4 x 3, in blocks of 2 x 2.
        const te::TensorGrid mean = te::reduceToGrid(*doc, tensor("transposed"), 2, 2, te::GridReduction::Mean);
        QCOMPARE(mean.cellRows, 2);
        QCOMPARE(mean.cellColumns, 2);
        QCOMPARE(mean.cells, (std::vector<double>{2.5, 8.5, 4.5, 10.5}));
        QCOMPARE(mean.min, 2.5);
        QCOMPARE(mean.max, 10.5);
        const te::TensorGrid big = te::reduceToGrid(*doc, tensor("transposed"), 2, 2, te::GridReduction::MaxAbs);
        QCOMPARE(big.cells, (std::vector<double>{5, 9, 7, 11}));
        // [1, nan, inf, -inf, 2.5] in blocks of three: only finite values count.
        const te::TensorGrid odd = te::reduceToGrid(*doc, tensor("nan_inf"), 1, 2, te::GridReduction::Mean);
        QCOMPARE(odd.cells, (std::vector<double>{1.0, 2.5}));
        const te::TensorGrid signs = te::reduceToGrid(*doc, tensor("int8"), 1, 2, te::GridReduction::MaxAbs);
        QCOMPARE(signs.cells, (std::vector<double>{-128, 127})); // [-128, -1, 0 | 1, 127]
        // Every block size, both reductions, on contiguous float32 (read a row at a time)
        // and on other layouts and dtypes (read element by element): the cells equal
        // those computed here from the values.
        for (const char *key : {"a", "float32", "slice_offset", "transposed", "int32", "nan_inf", "float64"}) {
            const te::TensorInfo &t = tensor(key);
            const std::vector<double> v = te::readValues(*doc, t, 1 << 20);
            const int64_t columns = t.shape.back(), rows = static_cast<int64_t>(v.size()) / columns;
            for (int cells : {1, 2, 3}) {
                for (auto how : {te::GridReduction::Mean, te::GridReduction::MaxAbs}) {
                    const te::TensorGrid g = te::reduceToGrid(*doc, t, cells, cells, how);
                    QVERIFY2(g.ok, key);
                    for (int cr = 0; cr < g.cellRows; ++cr) {
                        for (int cc = 0; cc < g.cellColumns; ++cc) {
                            double sum = 0, best = 0;
                            int n = 0;
                            for (int64_t r = cr * g.blockRows; r < std::min(rows, (cr + 1) * g.blockRows); ++r)
                                for (int64_t c = cc * g.blockColumns; c < std::min(columns, (cc + 1) * g.blockColumns);
                                     ++c) {
                                    const double x = v[static_cast<size_t>(r * columns + c)];
                                    if (!std::isfinite(x))
                                        continue;
                                    sum += x;
                                    if (n++ == 0 || std::fabs(x) > std::fabs(best))
                                        best = x;
                                }
                            const double got = g.cells[static_cast<size_t>(cr * g.cellColumns + cc)];
                            const double want = n == 0 ? std::nan("") : how == te::GridReduction::Mean ? sum / n : best;
                            QVERIFY2((std::isnan(got) && std::isnan(want)) || std::fabs(got - want) < 1e-12,
                                     qPrintable(QStringLiteral("%1 cell %2,%3 of %4: %5, expected %6")
                                                    .arg(QString::fromLatin1(key))
                                                    .arg(cr)
                                                    .arg(cc)
                                                    .arg(cells)
                                                    .arg(got)
                                                    .arg(want)));
                        }
                    }
                }
            }
        }
        const te::TensorGrid none = te::reduceToGrid(*doc, tensor("empty"), 8, 8, te::GridReduction::Mean);
        QVERIFY(!none.ok);
        QVERIFY(none.error.find("no elements") != std::string::npos);
    }

    void stateDicts_data() { addRows("state_dicts"); }
    void stateDicts()
    {
        OPEN_DOCUMENT();
        QCOMPARE(text(doc->stateDicts), text(w["state_dicts"].get<std::vector<std::string>>()));
    }

    void optimizers_data() { addRows("optimizer_state_dicts"); }
    void optimizers()
    {
        OPEN_DOCUMENT();
        std::vector<std::string> paths;
        for (const auto &o : doc->optimizers)
            paths.push_back(o.path);
        QCOMPARE(text(paths), text(w["optimizer_state_dicts"].get<std::vector<std::string>>()));
    }

    void modules_data() { addRows("modules"); }
    void modules()
    {
        OPEN_DOCUMENT();
        QStringList actual, wanted;
        for (const auto &m : doc->modules)
            actual << QString::fromStdString(m.path + " " + m.className);
        for (const auto &m : w["modules"])
            wanted << QString::fromStdString(m["path"].get<std::string>() + " " + m["class"].get<std::string>());
        QCOMPARE(actual, wanted);
    }

    // Tied weights: which keys share a storage. Order means nothing here.
    void sharedStorage_data() { addRows("shared_storage"); }
    void sharedStorage()
    {
        OPEN_DOCUMENT();
        auto normalise = [](std::vector<std::vector<std::string>> groups) {
            std::set<std::set<std::string>> out;
            for (auto &g : groups)
                out.insert(std::set<std::string>(g.begin(), g.end()));
            QStringList printed;
            for (const auto &g : out)
                printed << text(std::vector<std::string>(g.begin(), g.end()));
            return printed;
        };
        QCOMPARE(normalise(doc->sharedStorageGroups()),
                 normalise(w["shared_storage"].get<std::vector<std::vector<std::string>>>()));
    }

    void metadata_data() { addRows("metadata"); }
    void metadata()
    {
        OPEN_DOCUMENT();
        for (const auto &[key, value] : w["metadata"].items()) {
            QVERIFY2(doc->metadata.contains(key),
                     qPrintable(QStringLiteral("metadata key %1 missing; have %2")
                                    .arg(QString::fromStdString(key), QString::fromStdString(doc->metadata.dump()))));
            const auto &got = doc->metadata[key];
            const QString what = QString::fromStdString(key + ": " + got.dump() + ", expected " + value.dump());
            if (value.is_number_float())
                QVERIFY2(got.is_number() && close(got.get<double>(), value.get<double>()), qPrintable(what));
            else
                QVERIFY2(json::parse(got.dump()) == value, qPrintable(what));
        }
    }
};

QTEST_GUILESS_MAIN(FixturesTest)
#include "tst_fixtures.moc"
