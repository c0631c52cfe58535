// Every tensor of every fixture placed by libtorch through the runtime library (the
// map_location path, cuda_saved.pt included) and compared with what PyTorch recorded:
// the bytes our reader locates must be the bytes PyTorch would load. Skips when the
// runtime library was not built; fails when it was built but does not load.
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/runtime/modelinputs.h"
#include "core/runtime/runtimeloader.h"
#include "tests/support/fixtureexpectations.h"

#include <QFile>
#include <QtTest>

using nlohmann::json;
using namespace te::testing;

namespace {

// The runtime takes the bytes where the document's storage has them (a shard of a
// folder is its own file).
te::TensorSource sourceOf(const te::Document &doc, const te::TensorInfo &t)
{
    te::TensorSource src;
    std::string error;
    const int index = static_cast<int>(&t - doc.tensors.data());
    if (!te::tensorSource(doc, index, &src, &error))
        qFatal("%s", error.c_str());
    return src;
}

const QString kLibrary = QStringLiteral(TE_BIN_DIR "/libtorchexplorer_runtime.so");

} // namespace

class RuntimeTest : public QObject {
    Q_OBJECT

private:
    te::Runtime *m_runtime = nullptr;

    void addRows()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("want");
        const std::pair<const char *, QString> sections[] = {
            {"files", QStringLiteral(TE_FIXTURES_DIR)},
            {"demo", QStringLiteral(TE_SOURCE_DIR "/resources/demo")},
        };
        for (const auto &[section, dir] : sections)
            for (const auto &[name, entry] : expected()[section].items())
                QTest::newRow(name.c_str())
                    << dir + QLatin1Char('/') + QString::fromStdString(name) << QByteArray::fromStdString(entry.dump());
    }

    // Materialises every tensor of the row's file on `device` and compares with PyTorch.
    void compareOn(const std::string &device)
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, want);
        const json w = json::parse(want.toStdString());
        std::unique_ptr<te::Document> doc;
        try {
            doc = te::readDocument(path.toStdString());
        } catch (const te::ReadError &e) {
            QFAIL(e.what());
        }
        QCOMPARE(doc->entries.size(), w["tensors"].size());
        int compared = 0;
        for (size_t i = 0; i < doc->entries.size(); ++i) {
            const json &e = w["tensors"][i];
            const te::TensorInfo &t = doc->tensors[static_cast<size_t>(doc->entries[i].tensor)];
            const QString key = QString::fromStdString(doc->entries[i].key);
            QVERIFY2(t.error.empty(), qPrintable(key + QLatin1String(": ") + QString::fromStdString(t.error)));
            const size_t firstCount = e.contains("first") ? e["first"].size() : 0;
            const te::MaterialisedTensor m = m_runtime->materialise(sourceOf(*doc, t), device, firstCount);
            // uint16..64 and float8 came to libtorch with 2.x; an older one says so.
            if (!m.ok && m.error.find("is not supported by libtorch") != std::string::npos) {
                ++compared;
                continue;
            }
            QVERIFY2(m.ok, qPrintable(key + QLatin1String(": ") + QString::fromStdString(m.error)));
            QCOMPARE(QString::fromStdString(m.device), QString::fromStdString(device));
            QCOMPARE(key + QString::fromStdString(m.dtype), key + QString::fromStdString(e["dtype"]));
            QCOMPARE(m.shape, e["shape"].get<std::vector<int64_t>>());
            // NaN/Inf tensors: libtorch's sum is NaN like PyTorch's; only the values compare.
            if (!e["sum"].is_null()) {
                QVERIFY2(close(m.sum, number(e["sum"])), qPrintable(QStringLiteral("%1: libtorch sum %2, expected %3")
                                                                        .arg(key)
                                                                        .arg(m.sum, 0, 'g', 17)
                                                                        .arg(number(e["sum"]), 0, 'g', 17)));
                if (e.contains("sum_imag"))
                    QVERIFY2(close(m.sumImag, number(e["sum_imag"])),
                             qPrintable(QStringLiteral("%1: libtorch imaginary sum %2, expected %3")
                                            .arg(key)
                                            .arg(m.sumImag, 0, 'g', 17)
                                            .arg(number(e["sum_imag"]), 0, 'g', 17)));
            }
            QCOMPARE(m.first.size(), firstCount);
            for (size_t k = 0; k < firstCount; ++k)
                QVERIFY2(close(m.first[k], number(e["first"][k])),
                         qPrintable(QStringLiteral("%1[%2] = %3 from libtorch, expected %4")
                                        .arg(key)
                                        .arg(k)
                                        .arg(m.first[k], 0, 'g', 17)
                                        .arg(number(e["first"][k]), 0, 'g', 17)));
            ++compared;
        }
        QCOMPARE(compared, int(w["tensors"].size()));
    }

private slots:
    void initTestCase()
    {
        QVERIFY2(expected().is_object(), "tests/fixtures/expected.json is missing or not JSON");
        // The test binary lives in build/tests, not beside the library in build/bin,
        // so point the loader at the one this build made (unless the caller chose one).
        if (qEnvironmentVariableIsEmpty("TORCH_EXPLORER_RUNTIME"))
            qputenv("TORCH_EXPLORER_RUNTIME", kLibrary.toLocal8Bit());
        std::string error;
        m_runtime = te::loadRuntime(&error);
        if (!m_runtime) {
            const QString where = qEnvironmentVariable("TORCH_EXPLORER_RUNTIME");
            if (QFile::exists(where) || QFile::exists(kLibrary))
                QFAIL(qPrintable(QStringLiteral("the runtime library exists but does not load: ") +
                                 QString::fromStdString(error)));
            QSKIP(qPrintable(QStringLiteral("no runtime library built: ") + QString::fromStdString(error)));
        }
        QVERIFY(te::runtimeLoaded());
        QVERIFY(!m_runtime->libtorchVersion().empty());
        const auto devices = m_runtime->devices();
        QVERIFY(!devices.empty());
        QCOMPARE(devices.front().id, std::string("cpu"));
    }

    void materialiseOnCpu_data() { addRows(); }
    void materialiseOnCpu() { compareOn("cpu"); }

    // The same on the first accelerator, where the machine has one.
    void materialiseOnAccelerator_data() { addRows(); }
    void materialiseOnAccelerator()
    {
        std::string accelerator;
        for (const auto &d : m_runtime->devices())
            if (d.id != "cpu" && accelerator.empty())
                accelerator = d.id;
        if (accelerator.empty())
            QSKIP("libtorch sees no accelerator here");
        compareOn(accelerator);
    }

    // A tensor saved on CUDA carries its device; map_location to the CPU must not care.
    void cudaSavedLoadsOnCpu()
    {
        auto doc = te::readDocument(TE_FIXTURES_DIR "/cuda_saved.pt");
        QVERIFY(!doc->entries.empty());
        const te::TensorInfo &t = doc->tensors[static_cast<size_t>(doc->entries.front().tensor)];
        QCOMPARE(doc->storages.at(static_cast<size_t>(t.storage)).location, std::string("cuda:0"));
        const te::MaterialisedTensor m = m_runtime->materialise(sourceOf(*doc, t), "cpu", 4);
        QVERIFY2(m.ok, m.error.c_str());
        QCOMPARE(m.device, std::string("cpu"));
        QCOMPARE(m.first.size(), size_t(4));
    }

    void unknownDtypeIsAnError()
    {
        const float data[4] = {1, 2, 3, 4};
        te::TensorSource src;
        src.storage = data;
        src.storageBytes = sizeof data;
        src.dtype = "not_a_dtype";
        src.shape = {4};
        src.strides = {1};
        const te::MaterialisedTensor m = m_runtime->materialise(src, "cpu", 4);
        QVERIFY(!m.ok);
        QVERIFY(!m.error.empty());
    }

    void unknownDeviceIsAnError()
    {
        const float data[4] = {1, 2, 3, 4};
        te::TensorSource src;
        src.storage = data;
        src.storageBytes = sizeof data;
        src.dtype = "float32";
        src.shape = {2, 2};
        src.strides = {1, 2};
        const te::MaterialisedTensor good = m_runtime->materialise(src, "cpu", 4);
        QVERIFY2(good.ok, good.error.c_str());
        QCOMPARE(good.sum, 10.0);
        QCOMPARE(good.first, (std::vector<double>{1, 3, 2, 4}));
        const te::MaterialisedTensor m = m_runtime->materialise(src, "no_such_device:7", 4);
        QVERIFY(!m.ok);
        QVERIFY(!m.error.empty());
    }
};

QTEST_GUILESS_MAIN(RuntimeTest)
#include "tst_runtime.moc"
