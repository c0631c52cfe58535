// Element decoding for the dtypes the fixtures of this PyTorch cannot hold (float8, uint16..64,
// complex32), checked against values from the formats' definitions, and the statistics
// walk over a strided view.
#include "core/stats/tensorstats.h"

#include <QtTest>
#include <cmath>
#include <cstring>
#include <limits>

using namespace te;

class TensorStatsTest : public QObject {
    Q_OBJECT
private slots:
    void float8_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("bits");
        QTest::addColumn<double>("expected");
        const int e4m3 = static_cast<int>(DType::Float8E4M3FN), e5m2 = static_cast<int>(DType::Float8E5M2);
        const int e4m3uz = static_cast<int>(DType::Float8E4M3FNUZ);
        QTest::newRow("e4m3fn max") << e4m3 << 0x7E << 448.0;
        QTest::newRow("e4m3fn one") << e4m3 << 0x38 << 1.0;
        QTest::newRow("e4m3fn smallest subnormal") << e4m3 << 0x01 << std::ldexp(1.0, -9);
        QTest::newRow("e4m3fn negative") << e4m3 << 0xC0 << -2.0;
        QTest::newRow("e5m2 max") << e5m2 << 0x7B << 57344.0;
        QTest::newRow("e5m2 one") << e5m2 << 0x3C << 1.0;
        QTest::newRow("e5m2 inf") << e5m2 << 0x7C << std::numeric_limits<double>::infinity();
        QTest::newRow("e5m2 smallest subnormal") << e5m2 << 0x01 << std::ldexp(1.0, -16);
        QTest::newRow("e4m3fnuz one") << e4m3uz << 0x40 << 1.0;
    }

    void float8()
    {
        QFETCH(int, dtype);
        QFETCH(int, bits);
        QFETCH(double, expected);
        QCOMPARE(float8ToDouble(static_cast<uint8_t>(bits), static_cast<DType>(dtype)), expected);
    }

    void float8NaN()
    {
        QVERIFY(std::isnan(float8ToDouble(0x7F, DType::Float8E4M3FN)));
        QVERIFY(std::isnan(float8ToDouble(0x7E, DType::Float8E5M2)));
        QVERIFY(std::isnan(float8ToDouble(0x80, DType::Float8E4M3FNUZ)));
    }

    void halfAndBfloat()
    {
        QCOMPARE(halfToDouble(0x3C00), 1.0);
        QCOMPARE(halfToDouble(0x7BFF), 65504.0);
        QCOMPARE(halfToDouble(0x0001), std::ldexp(1.0, -24));
        QVERIFY(std::isinf(halfToDouble(0xFC00)) && halfToDouble(0xFC00) < 0);
        const uint8_t bf16[] = {0x80, 0x3F}; // 1.0 little-endian
        QCOMPARE(decodeElement(DType::BFloat16, bf16), 1.0);
        const uint8_t c32[] = {0x00, 0x3C, 0x00, 0xC0}; // complex32 1 - 2j
        double imag = 0;
        QCOMPARE(decodeElement(DType::Complex32, c32, &imag), 1.0);
        QCOMPARE(imag, -2.0);
        const uint8_t u16[] = {0xFF, 0xFF};
        QCOMPARE(decodeElement(DType::UInt16, u16), 65535.0);
    }

    void stridedWalk()
    {
        // A 2x3 view with strides (1, 2) over six floats 0..5: row-major order 0 2 4 1 3 5.
        TensorInfo t;
        t.dtype = DType::Float32;
        t.shape = {2, 3};
        t.strides = {1, 2};
        float data[] = {0, 1, 2, 3, 4, 5};
        std::vector<double> seen;
        forEachElement(reinterpret_cast<const uint8_t *>(data), t, [&](const uint8_t *p) {
            seen.push_back(decodeElement(DType::Float32, p));
            return true;
        });
        QCOMPARE(seen, (std::vector<double>{0, 2, 4, 1, 3, 5}));
    }

    // A contiguous tensor long enough to be split over threads and lanes, with an odd
    // length and non-finite values in it: the fast path must agree with a plain
    // element-by-element computation in long double, and report progress up to n.
    void longContiguousMatchesPlainSum_data()
    {
        QTest::addColumn<bool>("specials");
        QTest::newRow("finite") << false;
        QTest::newRow("nan and inf") << true;
    }

    void longContiguousMatchesPlainSum()
    {
        QFETCH(bool, specials);
        const int64_t n = 3 * (int64_t(1) << 18) + 4097;
        std::string bytes(static_cast<size_t>(n) * 4, '\0');
        long double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
        uint64_t zeros = 0, nans = 0;
        for (int64_t i = 0; i < n; ++i) {
            float v = static_cast<float>(std::sin(static_cast<double>(i) * 0.37) * 1000.0 + 3.0);
            if (i % 1000 == 7)
                v = 0;
            if (specials && i % 100003 == 11)
                v = std::numeric_limits<float>::quiet_NaN();
            std::memcpy(&bytes[static_cast<size_t>(i) * 4], &v, 4);
            if (std::isnan(v)) {
                ++nans;
                continue;
            }
            sum += v;
            sq += static_cast<long double>(v) * v;
            zeros += v == 0;
            lo = std::min<long double>(lo, v);
            hi = std::max<long double>(hi, v);
        }
        const double finite = static_cast<double>(static_cast<uint64_t>(n) - nans);
        const double mean = static_cast<double>(sum / finite);
        const double var = static_cast<double>((sq - sum * sum / finite) / (finite - 1));

        Document doc;
        doc.file = MappedFile::fromBytes(bytes, "long");
        StorageInfo storage;
        storage.dtype = DType::Float32;
        storage.numel = static_cast<uint64_t>(n);
        storage.nbytes = bytes.size();
        storage.resolved = true;
        doc.storages.push_back(storage);
        TensorInfo t;
        t.storage = 0;
        t.dtype = DType::Float32;
        t.shape = {n};
        t.strides = {1};
        TensorInfo column = t;
        column.shape = {n, 1};
        column.strides = {1, 1}; // a size-1 dimension's stride does not matter
        for (const TensorInfo &view : {t, column}) {
            std::atomic<uint64_t> progress{0};
            TensorStats st = computeStats(doc, view, nullptr, &progress);
            QVERIFY2(st.ok, st.error.c_str());
            QCOMPARE(st.count, static_cast<uint64_t>(n));
            QCOMPARE(progress.load(), static_cast<uint64_t>(n));
            QCOMPARE(st.nans, nans);
            QCOMPARE(st.zeros, zeros);
            QCOMPARE(st.min, static_cast<double>(lo));
            QCOMPARE(st.max, static_cast<double>(hi));
            QVERIFY(std::fabs(st.finiteSum - static_cast<double>(sum)) <=
                    1e-9 * std::fabs(static_cast<double>(sum)) + 1e-6);
            QVERIFY(std::fabs(st.mean - mean) <= 1e-9 * std::fabs(mean) + 1e-9);
            QVERIFY(std::fabs(st.std - std::sqrt(var)) <= 1e-9 * std::sqrt(var));
            QCOMPARE(std::isnan(st.sum), specials);
        }
        std::atomic<bool> cancel{true};
        QCOMPARE(computeStats(doc, t, &cancel).error, std::string("cancelled"));
    }
};

QTEST_GUILESS_MAIN(TensorStatsTest)
#include "tst_tensorstats.moc"
