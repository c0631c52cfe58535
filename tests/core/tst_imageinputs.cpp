// Pictures and arrays as model inputs, without libtorch: every picture of
// tests/fixtures/run/images/ decoded to the size PIL reports, and preprocessed with each
// option set of expected.json to the values torchvision computed (within 1e-4), saved by
// make_run_fixtures.py as .npy; .npy files read in C and Fortran order; broken, truncated
// and oversized pictures refused with a message naming the file.
#include "core/io/mappedfile.h"
#include "core/runtime/imagefile.h"
#include "core/runtime/imagetransform.h"
#include "core/runtime/npyfile.h"
#include "tests/support/fixtureexpectations.h"

#include <QtTest>

#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

using namespace te;
using nlohmann::json;

namespace {

std::string root() { return te::testing::repoPath(""); }
using te::testing::runExpected;

std::vector<uint8_t> bytesOf(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The float32 values of a C-ordered .npy array.
std::vector<float> npyFloats(const std::string &path, std::vector<int64_t> *shape)
{
    NpyArray a;
    std::string error;
    if (!readNpy(path, &a, &error))
        return {};
    *shape = a.shape;
    std::vector<float> v(a.nbytes / sizeof(float));
    std::memcpy(v.data(), a.file->data() + a.offset, a.nbytes);
    return v;
}

} // namespace

class TestImageInputs : public QObject {
    Q_OBJECT
private slots:
    void decodesAsPil_data()
    {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < runExpected()["images"].size(); ++i)
            QTest::newRow(runExpected()["images"][i]["path"].get<std::string>().c_str()) << static_cast<int>(i);
    }
    void decodesAsPil()
    {
        QFETCH(int, index);
        const json &want = runExpected()["images"][static_cast<size_t>(index)];
        Image image;
        std::string error;
        QVERIFY2(readImage(root() + want["path"].get<std::string>(), &image, &error), error.c_str());
        QCOMPARE(image.width, want["width"].get<int>());
        QCOMPARE(image.height, want["height"].get<int>());
        QCOMPARE(image.rgb.size(), static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3);
    }

    void preprocessedAsTorchvision_data()
    {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < runExpected()["preprocess"].size(); ++i)
            QTest::newRow(runExpected()["preprocess"][i]["npy"].get<std::string>().c_str()) << static_cast<int>(i);
    }
    void preprocessedAsTorchvision()
    {
        QFETCH(int, index);
        const json &c = runExpected()["preprocess"][static_cast<size_t>(index)];
        Image image;
        std::string error;
        QVERIFY2(readImage(root() + c["image"].get<std::string>(), &image, &error), error.c_str());
        ImageOptions options;
        QVERIFY2(parseImageOptions(c["options"].get<std::string>(), &options, &error), error.c_str());
        std::vector<float> got;
        QVERIFY2(imageToTensor(image, options, c["h"].get<int64_t>(), c["w"].get<int64_t>(), &got, &error),
                 error.c_str());
        std::vector<int64_t> shape;
        const std::vector<float> want = npyFloats(root() + c["npy"].get<std::string>(), &shape);
        QCOMPARE(shape, c["shape"].get<std::vector<int64_t>>());
        QCOMPARE(got.size(), want.size());
        double sum = 0, worst = 0;
        for (size_t i = 0; i < got.size(); ++i) {
            sum += got[i];
            worst = std::max(worst, std::abs(double(got[i]) - want[i]) / std::max(1.0, std::abs(double(want[i]))));
        }
        QVERIFY2(worst <= 1e-4, qPrintable(QString::number(worst)));
        QVERIFY(std::abs(sum - c["sum"].get<double>()) <= 1e-3 * std::max(1.0, std::abs(c["sum"].get<double>())));
    }

    // Every array make_run_fixtures.py saved: its shape, and each value at its logical
    // index through the strides (Fortran order reverses them); big-endian refused.
    void npyValues()
    {
        int checked = 0;
        for (const auto &[name, c] : runExpected()["npy"].items()) {
            NpyArray a;
            std::string error;
            const bool ok = readNpy(root() + c["path"].get<std::string>(), &a, &error);
            if (c["byteorder"] == "big") {
                QVERIFY2(!ok && error.find("big-endian") != std::string::npos, error.c_str());
                QVERIFY2(error.find(name) != std::string::npos, error.c_str());
                continue;
            }
            QVERIFY2(ok, error.c_str());
            QCOMPARE(a.shape, c["shape"].get<std::vector<int64_t>>());
            const std::string descr = c["descr"].get<std::string>().substr(1);
            const uint8_t *base = a.file->data() + a.offset;
            const json values = c.value("values", json::array()); // the picture's are too many to list
            const size_t n = values.size();
            for (size_t i = 0; i < n; ++i) {
                // The logical (C-order) index i as an element offset through the strides.
                int64_t rest = static_cast<int64_t>(i), element = 0;
                for (size_t d = a.shape.size(); d-- > 0;) {
                    element += (rest % a.shape[d]) * a.strides[d];
                    rest /= a.shape[d];
                }
                double got = 0;
                if (descr == "f8") {
                    double x;
                    std::memcpy(&x, base + element * 8, 8);
                    got = x;
                } else if (descr == "f4") {
                    float x;
                    std::memcpy(&x, base + element * 4, 4);
                    got = x;
                } else if (descr == "i8") {
                    int64_t x;
                    std::memcpy(&x, base + element * 8, 8);
                    got = static_cast<double>(x);
                } else if (descr == "i4") {
                    int32_t x;
                    std::memcpy(&x, base + element * 4, 4);
                    got = x;
                } else if (descr == "u1" || descr == "b1") {
                    got = base[element];
                } else {
                    break; // a dtype this check does not decode (its shape was checked)
                }
                const double want =
                    values[i].is_boolean() ? (values[i].get<bool>() ? 1.0 : 0.0) : values[i].get<double>();
                QVERIFY2(got == want, qPrintable(QString::fromStdString(name) + QStringLiteral(" [%1]").arg(i)));
                ++checked;
            }
        }
        QVERIFY(checked >= 10);
    }

    // Broken pictures: a clear message that names the file, never a crash.
    void brokenPicturesRefused_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("message");
        const auto png = bytesOf(root() + "tests/fixtures/run/images/circle.png");
        const auto jpg = bytesOf(root() + "tests/fixtures/run/images/stripes.jpg");
        const auto bmp = bytesOf(root() + "tests/fixtures/run/images/square.bmp");
        auto head = [](const std::vector<uint8_t> &b, size_t n) {
            return QByteArray(reinterpret_cast<const char *>(b.data()), static_cast<qsizetype>(std::min(n, b.size())));
        };
        QTest::newRow("empty") << QByteArray() << QStringLiteral("picture.bin");
        QTest::newRow("text") << QByteArray("not a picture at all") << QStringLiteral("picture.bin");
        QTest::newRow("png cut in the header") << head(png, 20) << QStringLiteral("picture.bin");
        QTest::newRow("png cut in the data") << head(png, png.size() / 2) << QStringLiteral("picture.bin");
        QTest::newRow("jpeg cut in the data") << head(jpg, jpg.size() / 2) << QStringLiteral("picture.bin");
        QTest::newRow("bmp cut in the pixels") << head(bmp, bmp.size() / 2) << QStringLiteral("picture.bin");
        // A BMP that claims 60000 x 60000 pixels in a few bytes.
        QByteArray huge = head(bmp, 54);
        const int32_t side = 60000;
        std::memcpy(huge.data() + 18, &side, 4);
        std::memcpy(huge.data() + 22, &side, 4);
        QTest::newRow("bmp of 60000 x 60000") << huge << QStringLiteral("too large");
        // A PNG whose IHDR claims 100000 pixels on a side (the CRC fixed up is not needed:
        // the size is refused before the data).
        QByteArray wide = head(png, png.size());
        const uint8_t big[4] = {0x00, 0x01, 0x86, 0xa0};
        std::memcpy(wide.data() + 16, big, 4);
        QTest::newRow("png of 100000 pixels across") << wide << QStringLiteral("picture.bin");
        // A BMP whose pixel data would start past its end.
        QByteArray offset = head(bmp, bmp.size());
        const uint32_t far = 0x7fffffff;
        std::memcpy(offset.data() + 10, &far, 4);
        QTest::newRow("bmp pixels past the end") << offset << QStringLiteral("picture.bin");
    }
    void brokenPicturesRefused()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, message);
        Image image;
        std::string error;
        QVERIFY(!decodeImage(reinterpret_cast<const uint8_t *>(bytes.constData()), static_cast<size_t>(bytes.size()),
                             "picture.bin", &image, &error));
        QVERIFY2(QString::fromStdString(error).contains(message), error.c_str());
        QVERIFY2(QString::fromStdString(error).contains(QStringLiteral("picture.bin")), error.c_str());
    }

    void badOptionsNamed()
    {
        ImageOptions options;
        std::string error;
        for (const char *bad : {"sepia", "size=0x3", "resize=-4", "mean=1/2", "scale=7", "size=99999x2"}) {
            error.clear();
            options = {};
            QVERIFY2(!parseImageOptions(bad, &options, &error) || !error.empty(), bad);
            QVERIFY2(!error.empty(), bad);
        }
    }
};

QTEST_GUILESS_MAIN(TestImageInputs)
#include "tst_imageinputs.moc"
