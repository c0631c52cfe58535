// Exports of state dicts as torch.save zips and safetensors files: read back by our own
// reader with identical values, read by PyTorch itself (when python3-torch is installed)
// with the values expected.json recorded, and failures that leave nothing behind.
#include "core/export/picklewriter.h"
#include "core/export/statedictwriter.h"
#include "core/formats/documentreader.h"
#include "core/stats/tensorstats.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

using namespace te;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// The tensors of one fixture to export, under the names a state dict would use.
struct ExportSet {
    std::unique_ptr<Document> doc;
    std::vector<NamedTensor> tensors;
};

ExportSet exportSet(const std::string &fixture, const std::string &prefix)
{
    ExportSet set;
    set.doc = readDocument(std::string(TE_FIXTURES_DIR "/") + fixture);
    for (const TensorEntry &e : set.doc->entries)
        if (e.key.compare(0, prefix.size(), prefix) == 0)
            set.tensors.push_back({e.key.substr(prefix.size()), set.doc.get(), e.tensor});
    return set;
}

// The fixtures exported by the suite and the key prefix stripped from each.
const std::vector<std::pair<std::string, std::string>> &exportFixtures()
{
    static const std::vector<std::pair<std::string, std::string>> f = {
        {"state_dict.pt", ""}, {"dtypes.pt", ""}, {"checkpoint.pt", "model_state_dict."}};
    return f;
}

void addFixtureRows()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("prefix");
    for (const auto &[fixture, prefix] : exportFixtures())
        QTest::newRow(fixture.c_str()) << QString::fromStdString(fixture) << QString::fromStdString(prefix);
}

std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape)
{
    std::vector<int64_t> strides(shape.size());
    int64_t step = 1;
    for (size_t d = shape.size(); d-- > 0;) {
        strides[d] = step;
        step *= std::max<int64_t>(shape[d], 1);
    }
    return strides;
}

// Exact equality, with NaN equal to NaN: the bytes were copied, not converted.
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

bool sameValues(const std::vector<double> &a, const std::vector<double> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i]))
            return false;
    return true;
}

bool close(double actual, double wanted)
{
    return std::fabs(actual - wanted) <= 1e-6 * std::max(std::fabs(actual), std::fabs(wanted)) + 1e-9;
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

QStringList dirEntries(const QTemporaryDir &dir)
{
    return QDir(dir.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System);
}

std::string pathIn(const QTemporaryDir &dir, const char *name)
{
    return dir.filePath(QLatin1String(name)).toStdString();
}

std::string shapeText(const std::vector<int64_t> &v)
{
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

const json &expected()
{
    static const json j = [] {
        std::ifstream in(TE_FIXTURES_DIR "/expected.json");
        return json::parse(in, nullptr, false);
    }();
    return j;
}

// Runs /usr/bin/python3 on a script; false (and no output) when it cannot start.
bool runPython(const QString &script, const QStringList &args, QByteArray *out, QByteArray *err, int *exitCode,
               int timeoutMs = 300000)
{
    QProcess p;
    p.start(QStringLiteral("/usr/bin/python3"), QStringList{QStringLiteral("-c"), script} + args);
    if (!p.waitForStarted(10000))
        return false;
    p.waitForFinished(timeoutMs);
    *out = p.readAllStandardOutput();
    *err = p.readAllStandardError();
    *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return true;
}

// Loads each exported zip both ways torch.load can, and parses each safetensors file with
// struct and json only, checking its layout; prints what PyTorch sees as JSON.
const char *kPythonCheck = R"PY(
import collections, json, math, struct, sys
import torch

DT = {"BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16, "I32": torch.int32,
      "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32,
      "F64": torch.float64, "C64": torch.complex64}

def summary(key, t):
    d = t.detach()
    rec = {"key": key, "shape": list(d.shape), "dtype": str(d.dtype).replace("torch.", ""),
           "contiguous": d.is_contiguous() and d.storage_offset() == 0}
    if d.is_complex():
        rec["sum"] = d.real.double().sum().item()
        rec["sum_imag"] = d.imag.double().sum().item()
    elif d.dtype == torch.bool:
        rec["sum"] = int(d.sum().item())
    else:
        dd = d.double()
        finite = torch.isfinite(dd)
        rec["sum"] = dd.sum().item() if bool(finite.all()) else None
        rec["finite_sum"] = dd[finite].sum().item()
    return rec

out = {}
args = sys.argv[1:]
for name, zpath, spath in zip(args[0::3], args[1::3], args[2::3]):
    full = torch.load(zpath, weights_only=False)
    safe = torch.load(zpath, weights_only=True)
    assert type(full) is collections.OrderedDict, type(full)
    assert type(safe) is collections.OrderedDict, type(safe)
    zrecs = [summary(k, v) for k, v in full.items()]
    assert zrecs == [summary(k, v) for k, v in safe.items()], "weights_only=True differs"
    ptrs = [v.storage().data_ptr() for v in full.values() if v.numel()]
    assert len(set(ptrs)) == len(ptrs), "tensors share storages"

    data = open(spath, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    assert n % 8 == 0, n
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=collections.OrderedDict)
    body = data[8 + n:]
    meta = header.pop("__metadata__")
    assert meta["format"] == "pt", meta
    pos = 0
    srecs = []
    for key, e in header.items():
        begin, end = e["data_offsets"]
        assert begin == pos, (key, begin, pos)
        dt = DT[e["dtype"]]
        numel = math.prod(e["shape"])
        assert end - begin == numel * torch.empty(0, dtype=dt).element_size(), (key, begin, end)
        if numel:
            t = torch.frombuffer(bytearray(body[begin:end]), dtype=dt).reshape(e["shape"])
        else:
            t = torch.empty(e["shape"], dtype=dt)
        srecs.append(summary(key, t))
        pos = end
    assert pos == len(body), (pos, len(body))
    out[name] = {"zip": zrecs, "safetensors": srecs}
print(json.dumps(out))
)PY";

} // namespace

class ExportTest : public QObject {
    Q_OBJECT
private slots:
    void pickleIntegers_data()
    {
        QTest::addColumn<qint64>("value");
        QTest::addColumn<QByteArray>("hex"); // as Python's pickle.dumps(value, 2) writes it
        QTest::newRow("0") << qint64(0) << QByteArray("4b00");
        QTest::newRow("255") << qint64(255) << QByteArray("4bff");
        QTest::newRow("256") << qint64(256) << QByteArray("4d0001");
        QTest::newRow("65536") << qint64(65536) << QByteArray("4a00000100");
        QTest::newRow("-1") << qint64(-1) << QByteArray("4affffffff");
        QTest::newRow("2^31") << qint64(2147483648LL) << QByteArray("8a050000008000");
        QTest::newRow("-2^31-1") << qint64(-2147483649LL) << QByteArray("8a05ffffff7fff");
        QTest::newRow("2^40") << qint64(1LL << 40) << QByteArray("8a06000000000001");
        QTest::newRow("-2^40") << qint64(-(1LL << 40)) << QByteArray("8a060000000000ff");
        QTest::newRow("int64 max") << qint64(INT64_MAX) << QByteArray("8a08ffffffffffffff7f");
        QTest::newRow("int64 min") << qint64(INT64_MIN) << QByteArray("8a080000000000000080");
    }

    void pickleIntegers()
    {
        QFETCH(qint64, value);
        QFETCH(QByteArray, hex);
        PickleWriter w;
        w.integer(value);
        const std::string &b = w.bytes();
        QCOMPARE(QByteArray(b.data() + 2, int(b.size() - 2)).toHex(), hex); // after PROTO 2
    }

    void roundTripTorch_data() { addFixtureRows(); }

    void roundTripTorch()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, prefix);
        const ExportSet set = exportSet(fixture.toStdString(), prefix.toStdString());
        QVERIFY(!set.tensors.empty());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string out = pathIn(dir, "exported.pt");
        writeTorchStateDict(out, set.tensors);
        QCOMPARE(dirEntries(dir), QStringList{QStringLiteral("exported.pt")});

        const auto back = readDocument(out);
        QCOMPARE(back->format, FileFormat::TorchZip);
        QVERIFY2(back->error.empty(), back->error.c_str());
        QCOMPARE(back->security.verdict, std::string("safe"));
        QVERIFY(back->security.weightsOnlyLoadable);
        QCOMPARE(back->entries.size(), set.tensors.size());
        QCOMPARE(back->stateDicts, std::vector<std::string>{""});
        std::set<int> storages;
        for (size_t i = 0; i < set.tensors.size(); ++i) {
            const NamedTensor &src = set.tensors[i];
            const TensorInfo &a = src.doc->tensors[size_t(src.tensor)];
            const TensorEntry &e = back->entries[i];
            const TensorInfo &b = back->tensors[size_t(e.tensor)];
            const QByteArray what = QByteArray::fromStdString(src.key);
            QVERIFY2(e.key == src.key, what);
            QVERIFY2(b.error.empty(), (what + ": " + QByteArray::fromStdString(b.error)).constData());
            QVERIFY2(b.shape == a.shape, what);
            QVERIFY2(b.dtype == a.dtype, what);
            QVERIFY2(b.strides == rowMajorStrides(a.shape), (what + " " + shapeText(b.strides).c_str()).constData());
            QCOMPARE(b.storageOffset, int64_t(0));
            QVERIFY2(storages.insert(b.storage).second, what + " shares a storage");
            const StorageInfo &s = back->storages[size_t(b.storage)];
            QCOMPARE(s.location, std::string("cpu"));
            QCOMPARE(s.numel, uint64_t(a.numel()));
            QCOMPARE(s.nbytes, a.nbytes());

            std::vector<double> imagA, imagB;
            std::string errA, errB;
            const auto valuesA = readValues(*src.doc, a, size_t(a.numel()), &imagA, &errA);
            const auto valuesB = readValues(*back, b, size_t(b.numel()), &imagB, &errB);
            QVERIFY2(errB.empty(), errB.c_str());
            QCOMPARE(valuesB.size(), size_t(a.numel()));
            QVERIFY2(sameValues(valuesA, valuesB), what);
            QVERIFY2(sameValues(imagA, imagB), what);
            const TensorStats sa = computeStats(*src.doc, a), sb = computeStats(*back, b);
            QVERIFY(sa.ok == sb.ok);
            QVERIFY2(same(sa.sum, sb.sum) && sa.finiteSum == sb.finiteSum && sa.sumImag == sb.sumImag, what);
            QCOMPARE(sb.count, sa.count);
            QCOMPARE(sb.nans, sa.nans);
        }

        // The layout torch.load expects: data.pkl first, every member under the file's
        // name, storages stored and 64-byte aligned, version last.
        const auto &members = back->zip->entries();
        QVERIFY(!members.empty());
        QCOMPARE(members.front().name, std::string("exported/data.pkl"));
        QCOMPARE(std::string(members.back().name), std::string("exported/version"));
        QCOMPARE(std::string(back->zip->read(members.back())), std::string("3\n"));
        QCOMPARE(members.size(), set.tensors.size() + 2);
        for (const ZipEntry &m : members) {
            QVERIFY2(m.method == 0, std::string(m.name).c_str());
            QVERIFY2(m.dataOffset % 64 == 0, std::string(m.name).c_str());
        }
    }

    void roundTripSafetensors_data() { addFixtureRows(); }

    void roundTripSafetensors()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, prefix);
        const ExportSet set = exportSet(fixture.toStdString(), prefix.toStdString());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string out = pathIn(dir, "exported.safetensors");
        writeSafetensors(out, set.tensors, {{"source", fixture.toStdString()}, {"exporter", "tst_export"}});
        QCOMPARE(dirEntries(dir), QStringList{QStringLiteral("exported.safetensors")});

        const std::string bytes = readFile(out);
        QVERIFY(bytes.size() >= 8);
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i)
            n = (n << 8) | uint8_t(bytes[size_t(i)]);
        QCOMPARE(n % 8, uint64_t(0));
        QVERIFY(8 + n <= bytes.size());
        const ordered_json header = ordered_json::parse(bytes.substr(8, n));
        QVERIFY(header.is_object());
        QCOMPARE(header.size(), set.tensors.size() + 1);
        auto it = header.begin();
        QCOMPARE(it.key(), std::string("__metadata__"));
        QCOMPARE(
            it.value().dump(),
            ordered_json({{"format", "pt"}, {"exporter", "tst_export"}, {"source", fixture.toStdString()}}).dump());
        const std::string_view data(bytes.data() + 8 + n, bytes.size() - 8 - n);
        uint64_t position = 0;
        for (const NamedTensor &src : set.tensors) {
            ++it;
            const TensorInfo &a = src.doc->tensors[size_t(src.tensor)];
            const QByteArray what = QByteArray::fromStdString(src.key);
            QVERIFY2(it.key() == src.key, what);
            const ordered_json &e = it.value();
            QVERIFY2(dtypeFromSafetensors(e.at("dtype").get<std::string>()) == a.dtype, what);
            QVERIFY2(e.at("shape").get<std::vector<int64_t>>() == a.shape, what);
            const auto offsets = e.at("data_offsets").get<std::vector<uint64_t>>();
            QCOMPARE(offsets.size(), size_t(2));
            QCOMPARE(offsets[0], position);
            QCOMPARE(offsets[1] - offsets[0], a.nbytes());
            position = offsets[1];

            std::vector<double> imag;
            const auto values = readValues(*src.doc, a, size_t(a.numel()), &imag);
            const size_t item = size_t(dtypeItemSize(a.dtype));
            for (size_t k = 0; k < values.size(); ++k) {
                double im = 0;
                const double v =
                    decodeElement(a.dtype, reinterpret_cast<const uint8_t *>(data.data()) + offsets[0] + k * item, &im);
                QVERIFY2(same(v, values[k]), what + " element " + QByteArray::number(qulonglong(k)));
                if (!imag.empty())
                    QVERIFY2(same(im, imag[k]), what);
            }
        }
        QCOMPARE(position, uint64_t(data.size()));
    }

    void archivePrefix_data()
    {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QString>("prefix");
        QTest::newRow("plain") << QStringLiteral("model.pt") << QStringLiteral("model");
        QTest::newRow("punctuation") << QStringLiteral("my-model.v2.bin") << QStringLiteral("my_model_v2");
        QTest::newRow("no extension") << QStringLiteral("weights") << QStringLiteral("weights");
        QTest::newRow("spaces") << QStringLiteral("a b.pth") << QStringLiteral("a_b");
    }

    void archivePrefix()
    {
        QFETCH(QString, fileName);
        QFETCH(QString, prefix);
        const ExportSet set = exportSet("state_dict.pt", "");
        QTemporaryDir dir;
        const std::string out = dir.filePath(fileName).toStdString();
        writeTorchStateDict(out, {set.tensors.front()});
        const auto back = readDocument(out);
        const std::string want = prefix.toStdString() + "/";
        for (const ZipEntry &m : back->zip->entries())
            QVERIFY2(m.name.compare(0, want.size(), want) == 0, std::string(m.name).c_str());
        QCOMPARE(back->entries.size(), size_t(1));
    }

    void emptyStateDict()
    {
        QTemporaryDir dir;
        const std::string out = pathIn(dir, "empty.pt");
        writeTorchStateDict(out, {});
        const auto back = readDocument(out);
        QVERIFY2(back->error.empty(), back->error.c_str());
        QVERIFY(back->entries.empty());
        QVERIFY(back->root);

        const std::string st = pathIn(dir, "empty.safetensors");
        writeSafetensors(st, {});
        const std::string bytes = readFile(st);
        QVERIFY(bytes.size() >= 8);
        QCOMPARE(ordered_json::parse(bytes.substr(8)).dump(), std::string(R"({"__metadata__":{"format":"pt"}})"));
    }

    void replacesExistingFile()
    {
        QTemporaryDir dir;
        const std::string out = pathIn(dir, "model.pt");
        std::ofstream(out) << "old contents";
        const ExportSet set = exportSet("state_dict.pt", "");
        writeTorchStateDict(out, set.tensors);
        QCOMPARE(readDocument(out)->entries.size(), set.tensors.size());
        QCOMPARE(dirEntries(dir), QStringList{QStringLiteral("model.pt")});
    }

    void pytorchReads()
    {
        QByteArray out, err;
        int code = -1;
        if (!runPython(QStringLiteral("import torch"), {}, &out, &err, &code, 120000) || code != 0)
            QSKIP("python3-torch is not installed: /usr/bin/python3 cannot import torch");
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QStringList args;
        for (const auto &[fixture, prefix] : exportFixtures()) {
            const ExportSet set = exportSet(fixture, prefix);
            const QString base = dir.filePath(QString::fromStdString(fixture).section(QLatin1Char('.'), 0, 0));
            writeTorchStateDict((base + QStringLiteral(".pt")).toStdString(), set.tensors);
            writeSafetensors((base + QStringLiteral(".safetensors")).toStdString(), set.tensors);
            args << QString::fromStdString(fixture) << base + QStringLiteral(".pt")
                 << base + QStringLiteral(".safetensors");
        }
        QVERIFY(runPython(QString::fromUtf8(kPythonCheck), args, &out, &err, &code));
        QVERIFY2(code == 0, err.constData());
        const json seen = json::parse(out.constData(), nullptr, false);
        QVERIFY2(seen.is_object(), out.constData());

        for (const auto &[fixture, prefix] : exportFixtures()) {
            std::vector<json> want;
            for (const json &t : expected().at("files").at(fixture).at("tensors")) {
                const std::string key = t.at("key").get<std::string>();
                if (key.compare(0, prefix.size(), prefix) == 0) {
                    json w = t;
                    w["key"] = key.substr(prefix.size());
                    want.push_back(w);
                }
            }
            QVERIFY(!want.empty());
            for (const char *format : {"zip", "safetensors"}) {
                const json &got = seen.at(fixture).at(format);
                const QByteArray where = QByteArray::fromStdString(fixture) + " " + format;
                QCOMPARE(got.size(), want.size());
                for (size_t i = 0; i < want.size(); ++i) {
                    const json &g = got[i], &w = want[i];
                    const QByteArray what = where + ": " + QByteArray::fromStdString(w["key"].get<std::string>());
                    QVERIFY2(g.at("key") == w.at("key"), what);
                    QVERIFY2(g.at("shape") == w.at("shape"), what);
                    QVERIFY2(g.at("dtype") == w.at("dtype"), what);
                    QVERIFY2(g.at("contiguous").get<bool>(), what);
                    if (w.at("sum").is_null()) {
                        QVERIFY2(g.at("sum").is_null(), what);
                        QVERIFY2(close(g.at("finite_sum").get<double>(), w.at("finite_sum").get<double>()), what);
                    } else {
                        QVERIFY2(close(g.at("sum").get<double>(), w.at("sum").get<double>()), what);
                    }
                    if (w.contains("sum_imag"))
                        QVERIFY2(close(g.at("sum_imag").get<double>(), w.at("sum_imag").get<double>()), what);
                }
            }
        }
    }

    void brokenTensorThrows_data()
    {
        QTest::addColumn<bool>("safetensors");
        QTest::addColumn<bool>("unresolved"); // the storage's bytes are missing, not the tensor bad
        QTest::newRow("torch, tensor error") << false << false;
        QTest::newRow("torch, storage unresolved") << false << true;
        QTest::newRow("safetensors, tensor error") << true << false;
        QTest::newRow("safetensors, storage unresolved") << true << true;
    }

    void brokenTensorThrows()
    {
        QFETCH(bool, safetensors);
        QFETCH(bool, unresolved);
        ExportSet set = exportSet("state_dict.pt", "");
        Document &doc = *set.doc;
        TensorInfo *broken = nullptr;
        for (const NamedTensor &n : set.tensors)
            if (n.key == "fc.weight")
                broken = &doc.tensors[size_t(n.tensor)];
        QVERIFY(broken);
        if (unresolved) {
            doc.storages[size_t(broken->storage)].resolved = false;
            doc.storages[size_t(broken->storage)].error = "data/3 is missing";
        } else {
            broken->error = "needs 40 elements of its storage, which holds 32";
        }
        QTemporaryDir dir;
        const std::string out = pathIn(dir, safetensors ? "out.safetensors" : "out.pt");
        try {
            if (safetensors)
                writeSafetensors(out, set.tensors);
            else
                writeTorchStateDict(out, set.tensors);
            QFAIL("the export succeeded");
        } catch (const std::runtime_error &e) {
            QVERIFY2(std::strstr(e.what(), "fc.weight"), e.what());
        }
        QCOMPARE(dirEntries(dir), QStringList());
    }

    void failureKeepsOldFile()
    {
        ExportSet set = exportSet("state_dict.pt", "");
        set.doc->tensors[size_t(set.tensors.back().tensor)].error = "broken";
        QTemporaryDir dir;
        const std::string out = pathIn(dir, "model.pt");
        std::ofstream(out) << "old contents";
        QVERIFY_EXCEPTION_THROWN(writeTorchStateDict(out, set.tensors), std::runtime_error);
        QVERIFY_EXCEPTION_THROWN(writeSafetensors(out, set.tensors), std::runtime_error);
        QCOMPARE(readFile(out), std::string("old contents"));
        QCOMPARE(dirEntries(dir), QStringList{QStringLiteral("model.pt")});
    }

    void unsupportedDtype_data()
    {
        QTest::addColumn<bool>("safetensors");
        QTest::addColumn<int>("dtype");
        QTest::addColumn<QString>("name");
        QTest::newRow("torch uint16") << false << int(DType::UInt16) << QStringLiteral("uint16");
        QTest::newRow("torch float8") << false << int(DType::Float8E4M3FN) << QStringLiteral("float8_e4m3fn");
        QTest::newRow("torch qint8") << false << int(DType::QInt8) << QStringLiteral("qint8");
        QTest::newRow("safetensors complex128") << true << int(DType::Complex128) << QStringLiteral("complex128");
        QTest::newRow("safetensors qint8") << true << int(DType::QInt8) << QStringLiteral("qint8");
    }

    void unsupportedDtype()
    {
        QFETCH(bool, safetensors);
        QFETCH(int, dtype);
        QFETCH(QString, name);
        ExportSet set = exportSet("dtypes.pt", "");
        NamedTensor odd;
        for (const NamedTensor &n : set.tensors)
            if (n.key == "uint8")
                odd = n;
        QVERIFY(odd.doc);
        set.doc->tensors[size_t(odd.tensor)].dtype = static_cast<DType>(dtype);
        QTemporaryDir dir;
        const std::string out = pathIn(dir, "out.bin");
        try {
            if (safetensors)
                writeSafetensors(out, set.tensors);
            else
                writeTorchStateDict(out, set.tensors);
            QFAIL("the export succeeded");
        } catch (const std::runtime_error &e) {
            QVERIFY2(std::strstr(e.what(), "\"uint8\"") && std::strstr(e.what(), name.toUtf8().constData()), e.what());
        }
        QCOMPARE(dirEntries(dir), QStringList());
    }

    void duplicateKeysThrow()
    {
        ExportSet set = exportSet("state_dict.pt", "");
        set.tensors.push_back(set.tensors.front());
        QTemporaryDir dir;
        QVERIFY_EXCEPTION_THROWN(writeTorchStateDict(pathIn(dir, "d.pt"), set.tensors), std::runtime_error);
        QVERIFY_EXCEPTION_THROWN(writeSafetensors(pathIn(dir, "d.safetensors"), set.tensors), std::runtime_error);
        QCOMPARE(dirEntries(dir), QStringList());
    }

    void missingDirectoryThrows_data()
    {
        QTest::addColumn<bool>("safetensors");
        QTest::newRow("torch") << false;
        QTest::newRow("safetensors") << true;
    }

    void missingDirectoryThrows()
    {
        QFETCH(bool, safetensors);
        const ExportSet set = exportSet("state_dict.pt", "");
        QTemporaryDir dir;
        const std::string out = pathIn(dir, "missing/sub/out.pt");
        try {
            if (safetensors)
                writeSafetensors(out, set.tensors);
            else
                writeTorchStateDict(out, set.tensors);
            QFAIL("the export succeeded");
        } catch (const std::runtime_error &e) {
            QVERIFY2(std::strstr(e.what(), out.c_str()), e.what());
        }
        QCOMPARE(dirEntries(dir), QStringList());
    }
};

QTEST_GUILESS_MAIN(ExportTest)
#include "tst_export.moc"
