// Element decoding for the dtypes the fixtures of this PyTorch cannot hold (float8, uint16..64,
// complex32), checked against values from the formats' definitions, and the statistics
// walk over a strided view.
#include "core/model/tensorstats.h"

#include <QtTest>
#include <cmath>
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
};

QTEST_GUILESS_MAIN(TensorStatsTest)
#include "tst_tensorstats.moc"
