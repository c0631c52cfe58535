// Unit tests of the non-executing pickle machine on small hand-written byte strings, one
// opcode family at a time, compared with what CPython's unpickler does with the same
// bytes. Real pickles are covered by tst_fixtures; here every corner is spelled out.
#include "core/io/readerror.h"
#include "core/pickle/picklemachine.h"

#include <QtTest>

#include <cmath>
#include <memory>
#include <string>

using namespace std::string_literals;

namespace {

// One run of the machine; keeps the arena alive as long as the values are looked at.
struct Unpickled {
    te::ValueArena arena;
    std::unique_ptr<te::PickleMachine> machine;
    te::Value *value = nullptr;
    QString error;
    int64_t errorOffset = -2;
    std::string errorMember;
};

std::unique_ptr<Unpickled> unpickle(const std::string &bytes, te::PickleLimits limits = {})
{
    auto u = std::make_unique<Unpickled>();
    u->machine = std::make_unique<te::PickleMachine>(u->arena, bytes, "test.pkl", nullptr, limits);
    try {
        u->value = u->machine->run();
    } catch (const te::ReadError &e) {
        u->error = QString::fromStdString(e.what());
        u->errorOffset = e.offset();
        u->errorMember = e.member();
    }
    return u;
}

// PyTorch-style: 8-byte little-endian length fields.
std::string le64(uint64_t v)
{
    std::string s;
    for (int i = 0; i < 8; ++i)
        s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
}

std::string le32(uint32_t v)
{
    std::string s;
    for (int i = 0; i < 4; ++i)
        s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
}

} // namespace

// The bytes must stay alive while the machine runs: the machine keeps a view of them.
#define UNPICKLE_WITH(var, bytes, limits)                                                             \
    const std::string var##Bytes = (bytes);                                                           \
    auto var = unpickle(var##Bytes, limits)
#define UNPICKLE(var, bytes) UNPICKLE_WITH(var, bytes, te::PickleLimits())

#define EXPECT_VALUE(u)                                                                               \
    QVERIFY2((u)->value, qPrintable(QStringLiteral("unexpected error: ") + (u)->error))

#define EXPECT_ERROR(u)                                                                               \
    QVERIFY2(!(u)->value && !(u)->error.isEmpty(), "the machine accepted bytes it must reject")

Q_DECLARE_METATYPE(te::ValueKind)

class PickleMachineTest : public QObject {
    Q_OBJECT

private slots:
    // Protocol 0 INT: "01"/"00" are how Python 2 wrote True/False, everything else an int.
    void protocol0Int_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<te::ValueKind>("kind");
        QTest::addColumn<qint64>("integer");
        QTest::addColumn<QString>("text");
        QTest::newRow("int") << QByteArray("I42\n.") << te::ValueKind::Int << qint64(42) << QString();
        QTest::newRow("negative") << QByteArray("I-7\n.") << te::ValueKind::Int << qint64(-7) << QString();
        QTest::newRow("zero") << QByteArray("I0\n.") << te::ValueKind::Int << qint64(0) << QString();
        QTest::newRow("true") << QByteArray("I01\n.") << te::ValueKind::Bool << qint64(1) << QString();
        QTest::newRow("false") << QByteArray("I00\n.") << te::ValueKind::Bool << qint64(0) << QString();
        QTest::newRow("beyond int64") << QByteArray("I99999999999999999999\n.") << te::ValueKind::BigInt
                                      << qint64(0) << QStringLiteral("99999999999999999999");
        QTest::newRow("long") << QByteArray("L123L\n.") << te::ValueKind::Int << qint64(123) << QString();
        QTest::newRow("long negative") << QByteArray("L-5L\n.") << te::ValueKind::Int << qint64(-5) << QString();
        QTest::newRow("long without suffix") << QByteArray("L77\n.") << te::ValueKind::Int << qint64(77) << QString();
        // What Python 3 writes for 2**70 at protocol 0.
        QTest::newRow("long 2**70") << QByteArray("L1180591620717411303424L\n.") << te::ValueKind::BigInt << qint64(0)
                                    << QStringLiteral("1180591620717411303424");
    }
    void protocol0Int()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(te::ValueKind, kind);
        QFETCH(qint64, integer);
        QFETCH(QString, text);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, kind);
        if (kind == te::ValueKind::Bool)
            QCOMPARE(u->value->boolean, integer != 0);
        else if (kind == te::ValueKind::Int)
            QCOMPARE(qint64(u->value->integer), integer);
        else
            QCOMPARE(QString::fromStdString(u->value->text), text);
    }

    void protocol0IntRejectsGarbage_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("letters") << QByteArray("Iabc\n.");
        QTest::newRow("sign only") << QByteArray("I-\n.");
        QTest::newRow("empty") << QByteArray("I\n.");
        QTest::newRow("no newline") << QByteArray("I12");
    }
    void protocol0IntRejectsGarbage()
    {
        QFETCH(QByteArray, bytes);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_ERROR(u);
    }

    // STRING holds a quoted Python 2 literal with its escapes.
    void protocol0String_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QByteArray>("decoded");
        QTest::newRow("plain") << QByteArray("S'abc'\n.") << QByteArray("abc");
        QTest::newRow("double quotes") << QByteArray("S\"it's\"\n.") << QByteArray("it's");
        QTest::newRow("escapes") << QByteArray("S'a\\nb\\tc\\\\d\\'e'\n.") << QByteArray("a\nb\tc\\d'e");
        QTest::newRow("hex, latin-1") << QByteArray("S'\\x41\\xff'\n.") << QByteArray("A\xc3\xbf");
        QTest::newRow("octal") << QByteArray("S'\\101\\0'\n.") << QByteArray("A\0", 2);
        QTest::newRow("empty") << QByteArray("S''\n.") << QByteArray("");
    }
    void protocol0String()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QByteArray, decoded);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::String);
        QCOMPARE(QByteArray::fromStdString(u->value->text), decoded);
    }

    void protocol0StringRejectsUnquoted()
    {
        UNPICKLE(u, "Sabc\n."s);
        EXPECT_ERROR(u);
        UNPICKLE(v, "S'abc\"\n."s);
        EXPECT_ERROR(v);
    }

    // UNICODE is raw-unicode-escape: \uXXXX and \UXXXXXXXX escapes, other bytes latin-1.
    void protocol0Unicode_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("decoded");
        QTest::newRow("ascii") << QByteArray("Vabc\n.") << QStringLiteral("abc");
        QTest::newRow("latin-1 byte") << QByteArray("Vcaf\xe9\n.") << QString::fromUtf8("caf\xc3\xa9");
        QTest::newRow("u escape") << QByteArray("Vcaf\\u00e9\n.") << QString::fromUtf8("caf\xc3\xa9");
        QTest::newRow("escaped backslash") << QByteArray("Va\\u005cb\n.") << QStringLiteral("a\\b");
        QTest::newRow("newline escape") << QByteArray("Va\\u000ab\n.") << QStringLiteral("a\nb");
        QTest::newRow("U escape") << QByteArray("V\\U0001f600\n.") << QString::fromUtf8("\xf0\x9f\x98\x80");
        QTest::newRow("written by Python 3") << QByteArray("Vcaf\xe9\\u005cx\np0\n.") << QString::fromUtf8("caf\xc3\xa9\\x");
    }
    void protocol0Unicode()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, decoded);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::String);
        QCOMPARE(QString::fromStdString(u->value->text), decoded);
    }

    void protocol0Float_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<double>("real");
        QTest::newRow("1.5") << QByteArray("F1.5\n.") << 1.5;
        QTest::newRow("exponent") << QByteArray("F-2.25e3\n.") << -2250.0;
        QTest::newRow("integral") << QByteArray("F3\n.") << 3.0;
        QTest::newRow("inf") << QByteArray("Finf\n.") << double(INFINITY);
    }
    void protocol0Float()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(double, real);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Float);
        QCOMPARE(u->value->real, real);
    }

    void protocol0FloatRejectsGarbage()
    {
        UNPICKLE(u, "F1.5x\n."s);
        EXPECT_ERROR(u);
        UNPICKLE(v, "F\n."s);
        EXPECT_ERROR(v);
    }

    void binaryInts_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<qint64>("integer");
        QTest::newRow("BININT -1") << QByteArray("J\xff\xff\xff\xff.", 6) << qint64(-1);
        QTest::newRow("BININT min") << QByteArray("J\x00\x00\x00\x80.", 6) << qint64(-2147483648LL);
        QTest::newRow("BININT 258") << QByteArray("J\x02\x01\x00\x00.", 6) << qint64(258);
        QTest::newRow("BININT1 255") << QByteArray("K\xff.", 3) << qint64(255);
        QTest::newRow("BININT2 513") << QByteArray("M\x01\x02.", 4) << qint64(513);
        QTest::newRow("BININT2 65535") << QByteArray("M\xff\xff.", 4) << qint64(65535);
        QTest::newRow("LONG1 empty is 0") << QByteArray("\x8a\x00.", 3) << qint64(0);
        QTest::newRow("LONG1 -1") << QByteArray("\x8a\x01\xff.", 4) << qint64(-1);
        QTest::newRow("LONG1 -32768") << QByteArray("\x8a\x02\x00\x80.", 5) << qint64(-32768);
        QTest::newRow("LONG1 128") << QByteArray("\x8a\x02\x80\x00.", 5) << qint64(128);
        QTest::newRow("LONG1 int64 min")
            << QByteArray("\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.", 11) << qint64(INT64_MIN);
        QTest::newRow("LONG4 32767") << QByteArray("\x8b\x02\x00\x00\x00\xff\x7f.", 8) << qint64(32767);
    }
    void binaryInts()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(qint64, integer);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Int);
        QCOMPARE(qint64(u->value->integer), integer);
    }

    // Wider than 64 bits stays symbolic: hex of the two's complement bytes, most
    // significant first (the legacy magic number 0x1950a86a20f9469cfc6c is one of these).
    void longWiderThan64Bits()
    {
        UNPICKLE(u, "\x8a\x09"s + std::string(8, '\0') + "\x01."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::BigInt);
        QCOMPARE(QString::fromStdString(u->value->text), QStringLiteral("0x010000000000000000"));

        UNPICKLE(magic, "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."s);
        EXPECT_VALUE(magic);
        QCOMPARE(magic->value->kind, te::ValueKind::BigInt);
        QCOMPARE(QString::fromStdString(magic->value->text), QStringLiteral("0x1950a86a20f9469cfc6c"));
    }

    void longNegativeLength()
    {
        UNPICKLE(u, "\x8b\xff\xff\xff\xff."s);
        EXPECT_ERROR(u);
    }

    void binFloat()
    {
        UNPICKLE(u, "G\x3f\xf8\x00\x00\x00\x00\x00\x00."s); // big-endian 1.5
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Float);
        QCOMPARE(u->value->real, 1.5);
        UNPICKLE(v, "G\xc0\x09\x21\xfb\x54\x44\x2d\x18."s); // -pi
        EXPECT_VALUE(v);
        QCOMPARE(v->value->real, -3.141592653589793);
    }

    void constants()
    {
        UNPICKLE(n, "N."s);
        EXPECT_VALUE(n);
        QCOMPARE(n->value->kind, te::ValueKind::None);
        UNPICKLE(t, "\x80\x02\x88."s);
        EXPECT_VALUE(t);
        QCOMPARE(t->value->kind, te::ValueKind::Bool);
        QVERIFY(t->value->boolean);
        UNPICKLE(f, "\x80\x02\x89."s);
        EXPECT_VALUE(f);
        QCOMPARE(f->value->kind, te::ValueKind::Bool);
        QVERIFY(!f->value->boolean);
    }

    // Every length-prefixed text and bytes opcode, 1-, 4- and 8-byte lengths.
    void lengthPrefixed_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<te::ValueKind>("kind");
        QTest::addColumn<QByteArray>("content");
        auto row = [](const char *name, const std::string &b, te::ValueKind k, const char *c, int n) {
            QTest::newRow(name) << QByteArray::fromStdString(b) << k << QByteArray(c, n);
        };
        row("SHORT_BINUNICODE", "\x8c\x03" "abc."s, te::ValueKind::String, "abc", 3);
        row("BINUNICODE", "X"s + le32(4) + "\xc3\xa9xy."s, te::ValueKind::String, "\xc3\xa9xy", 4);
        row("BINUNICODE8", "\x8d"s + le64(3) + "abc."s, te::ValueKind::String, "abc", 3);
        row("BINUNICODE empty", "X"s + le32(0) + "."s, te::ValueKind::String, "", 0);
        row("SHORT_BINSTRING", "U\x02hi."s, te::ValueKind::String, "hi", 2);
        row("BINSTRING", "T"s + le32(2) + "hi."s, te::ValueKind::String, "hi", 2);
        row("SHORT_BINBYTES", "C\x03\x00\xff\x01."s, te::ValueKind::Bytes, "\x00\xff\x01", 3);
        row("BINBYTES", "B"s + le32(2) + "ab."s, te::ValueKind::Bytes, "ab", 2);
        row("BINBYTES8", "\x8e"s + le64(2) + "ab."s, te::ValueKind::Bytes, "ab", 2);
        row("BYTEARRAY8", "\x96"s + le64(3) + "xyz."s, te::ValueKind::Bytes, "xyz", 3);
    }
    void lengthPrefixed()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(te::ValueKind, kind);
        QFETCH(QByteArray, content);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, kind);
        QCOMPARE(QByteArray::fromStdString(u->value->text), content);
    }

    // CPython decodes the binary unicode opcodes as UTF-8 (errors "surrogatepass") and
    // GLOBAL's lines as strict UTF-8, and fails on anything else, so torch.load cannot read such a file; text that is not
    // UTF-8 must not reach the value tree, whose strings end up in JSON reports.
    void unicodeMustBeUtf8_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("BINUNICODE lone continuation byte") << QByteArray::fromStdString("X"s + le32(1) + "\xaa."s);
        QTest::newRow("SHORT_BINUNICODE truncated sequence") << QByteArray::fromStdString("\x8c\x02\xc3(."s);
        QTest::newRow("BINUNICODE8 0xff") << QByteArray::fromStdString("\x8d"s + le64(1) + "\xff."s);
        QTest::newRow("overlong slash") << QByteArray::fromStdString("\x8c\x02\xc0\xaf."s);
        // GLOBAL's module and name lines are decoded the same strict way.
        QTest::newRow("GLOBAL module") << QByteArray::fromStdString("c\xffos\nsystem\n."s);
    }
    void unicodeMustBeUtf8()
    {
        QFETCH(QByteArray, bytes);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_ERROR(u);
        QCOMPARE(u->errorOffset, qint64(0));
    }

    // Lengths are checked against the bytes left, unsigned, before anything is allocated.
    void lengthBeyondTheEnd_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("BINUNICODE8 2**63") << QByteArray::fromStdString("\x8d"s + le64(uint64_t(1) << 63) + "abc."s);
        QTest::newRow("BINBYTES8 2**64-1") << QByteArray::fromStdString("\x8e"s + le64(~uint64_t(0)) + "abc."s);
        QTest::newRow("BINUNICODE one too many") << QByteArray::fromStdString("X"s + le32(5) + "abcd"s);
        QTest::newRow("BINSTRING negative") << QByteArray::fromStdString("T"s + le32(0xFFFFFFFFu) + "ab."s);
        QTest::newRow("SHORT_BINBYTES") << QByteArray::fromStdString("C\x09" "abc."s);
        QTest::newRow("LONG4 2**31") << QByteArray::fromStdString("\x8b"s + le32(0x80000000u) + "ab."s);
    }
    void lengthBeyondTheEnd()
    {
        QFETCH(QByteArray, bytes);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_ERROR(u);
        QCOMPARE(u->errorOffset, qint64(0)); // the opcode that claimed the length
        QCOMPARE(u->errorMember, std::string("test.pkl"));
    }

    void tuples_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QList<qint64>>("items");
        QTest::newRow("EMPTY_TUPLE") << QByteArray(").") << QList<qint64>{};
        QTest::newRow("TUPLE1") << QByteArray("K\x01\x85.") << QList<qint64>{1};
        QTest::newRow("TUPLE2") << QByteArray("K\x01K\x02\x86.") << QList<qint64>{1, 2};
        QTest::newRow("TUPLE3") << QByteArray("K\x01K\x02K\x03\x87.") << QList<qint64>{1, 2, 3};
        QTest::newRow("TUPLE") << QByteArray("(K\x01K\x02K\x03K\x04t.") << QList<qint64>{1, 2, 3, 4};
        QTest::newRow("empty TUPLE") << QByteArray("(t.") << QList<qint64>{};
    }
    void tuples()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QList<qint64>, items);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Tuple);
        QList<qint64> got;
        for (const te::Value *v : u->value->items)
            got << v->integer;
        QCOMPARE(got, items);
    }

    // TUPLE2 may not reach below a MARK: CPython reports a stack underflow.
    void tupleRespectsMark()
    {
        UNPICKLE(u, "K\x01(K\x02\x86."s);
        EXPECT_ERROR(u);
    }

    void listsAndAppends()
    {
        UNPICKLE(u, "](K\x01K\x02" "eK\x03" "a."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::List);
        QCOMPARE(int(u->value->items.size()), 3);
        QCOMPARE(u->value->items[2]->integer, int64_t(3));
        UNPICKLE(l, "(K\x05K\x06l."s);
        EXPECT_VALUE(l);
        QCOMPARE(l->value->kind, te::ValueKind::List);
        QCOMPARE(int(l->value->items.size()), 2);
        UNPICKLE(bad, "NK\x01" "a."s); // APPEND to None
        EXPECT_ERROR(bad);
    }

    void sets()
    {
        UNPICKLE(u, "\x80\x04\x8f(K\x01K\x02\x90(K\x03\x90."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Set);
        QCOMPARE(int(u->value->items.size()), 3);
        QCOMPARE(u->value->items[0]->integer, int64_t(1));
        QCOMPARE(u->value->items[2]->integer, int64_t(3));

        UNPICKLE(f, "\x80\x04(K\x07K\x08\x91."s);
        EXPECT_VALUE(f);
        QCOMPARE(f->value->kind, te::ValueKind::FrozenSet);
        QCOMPARE(int(f->value->items.size()), 2);

        UNPICKLE(bad, "\x80\x04](K\x01\x90."s); // ADDITEMS needs a set
        EXPECT_ERROR(bad);
    }

    // Dicts keep insertion order, as Python's do; state dict keys depend on it.
    void dictsKeepOrder()
    {
        UNPICKLE(d, "(\x8c\x01" "bK\x01\x8c\x01" "aK\x02" "d."s);
        EXPECT_VALUE(d);
        QCOMPARE(d->value->kind, te::ValueKind::Dict);
        QVERIFY(!d->value->ordered);
        QCOMPARE(int(d->value->entries.size()), 2);
        QCOMPARE(d->value->entries[0].first->text, std::string("b"));
        QCOMPARE(d->value->entries[1].first->text, std::string("a"));

        UNPICKLE(s, "}(\x8c\x01zK\x01\x8c\x01yK\x02u\x8c\x01xK\x03s."s);
        EXPECT_VALUE(s);
        QCOMPARE(int(s->value->entries.size()), 3);
        QCOMPARE(s->value->entries[0].first->text, std::string("z"));
        QCOMPARE(s->value->entries[1].first->text, std::string("y"));
        QCOMPARE(s->value->entries[2].first->text, std::string("x"));
        QCOMPARE(s->value->get("y")->integer, int64_t(2));

        UNPICKLE(odd, "}(\x8c\x01zK\x01\x8c\x01yu."s);
        EXPECT_ERROR(odd);
        UNPICKLE(notDict, "](K\x01K\x02u."s);
        EXPECT_ERROR(notDict);
    }

    // MEMOIZE stores at len(memo), not at "last index + 1", exactly like CPython.
    void memoizeNumbering()
    {
        UNPICKLE(u, "\x80\x04\x8c\x01" "a\x94" "0\x8c\x01" "b\x94" "0h\x01h\x00\x86."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->items[0]->text, std::string("b"));
        QCOMPARE(u->value->items[1]->text, std::string("a"));

        // BINPUT 5 makes len(memo) 1, so the next MEMOIZE takes index 1, not 6.
        UNPICKLE(mixed, "\x80\x04\x8c\x01" "aq\x05" "0\x8c\x01" "b\x94" "0h\x01h\x05\x86."s);
        EXPECT_VALUE(mixed);
        QCOMPARE(mixed->value->items[0]->text, std::string("b"));
        QCOMPARE(mixed->value->items[1]->text, std::string("a"));

        // ... and overwrites what BINPUT 1 stored there.
        UNPICKLE(over, "\x80\x04\x8c\x01" "aq\x01" "0\x8c\x01" "b\x94" "0h\x01."s);
        EXPECT_VALUE(over);
        QCOMPARE(over->value->text, std::string("b"));
    }

    void memoSharesValues()
    {
        UNPICKLE(u, "]q\x00h\x00\x86."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->items[0], u->value->items[1]);
        UNPICKLE(missing, "h\x03."s);
        EXPECT_ERROR(missing);
    }

    void textGetAndPut()
    {
        UNPICKLE(u, "S'x'\np3\n0g3\n."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->text, std::string("x"));
        UNPICKLE(bad, "Np1x\n."s);
        EXPECT_ERROR(bad);
        UNPICKLE(unknown, "Np1\n0g2\n."s);
        EXPECT_ERROR(unknown);
    }

    // A sparse memo: index 0xFFFFFFFF costs one entry (CPython would try 8 GiB).
    void longBinputHugeIndex()
    {
        te::PickleLimits limits;
        limits.maxMemo = 2;
        UNPICKLE_WITH(u, "]r\xff\xff\xff\xffj\xff\xff\xff\xff\x86."s, limits);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Tuple);
        QCOMPARE(u->value->items[0], u->value->items[1]);
        QVERIFY(u->arena.size() < 10);
    }

    // Python 3 protocol 0 of a recursive tuple: `a = []; t = (a,); a.append(t)`.
    // pickle.py pops the tuple's items and then its MARK with POP (protocol 0 has no
    // POP_MARK), and CPython's POP removes a MARK when it is on top of the stack.
    void popRemovesMark()
    {
        UNPICKLE(u, "((lp0\n(g0\ntp1\na00g1\n."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Tuple);
        QCOMPARE(int(u->value->items.size()), 1);
        const te::Value *list = u->value->items[0];
        QCOMPARE(list->kind, te::ValueKind::List);
        QCOMPARE(int(list->items.size()), 1);
        QVERIFY(list->items[0] == u->value);
    }

    void stackOps()
    {
        UNPICKLE(dup, "K\x01" "2\x86."s);
        EXPECT_VALUE(dup);
        QCOMPARE(dup->value->items[0], dup->value->items[1]);
        UNPICKLE(popMark, "K\x01(K\x02K\x03" "1."s);
        EXPECT_VALUE(popMark);
        QCOMPARE(popMark->value->integer, int64_t(1));
        UNPICKLE(underflow, "0."s);
        EXPECT_ERROR(underflow);
        UNPICKLE(noMark, "K\x01t."s);
        EXPECT_ERROR(noMark);
        UNPICKLE(empty, "."s);
        EXPECT_ERROR(empty);
    }

    void globalIsSymbolic()
    {
        UNPICKLE(u, "cos\nsystem\n."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Global);
        QVERIFY(u->value->isGlobal("os", "system"));
        QCOMPARE(int(u->machine->globals().size()), 1);
        const te::GlobalRef &g = u->machine->globals()[0];
        QCOMPARE(g.qualified(), std::string("os.system"));
        QVERIFY(!g.called);
        QVERIFY(!g.computed);
        QCOMPARE(g.offset, int64_t(0));
        QCOMPARE(g.member, std::string("test.pkl"));
    }

    void stackGlobalComputedFlag()
    {
        UNPICKLE(u, "\x80\x04\x8c\x02os\x8c\x06system\x93."s);
        EXPECT_VALUE(u);
        QVERIFY(u->value->isGlobal("os", "system"));
        QCOMPARE(int(u->machine->globals().size()), 1);
        QVERIFY(!u->machine->globals()[0].computed);
        QCOMPARE(u->machine->globals()[0].offset, int64_t(14));

        // Operands that are not string literals: the name is decided at run time.
        UNPICKLE(c, "\x80\x04K\x01\x8c\x06system\x93."s);
        if (c->value) {
            QCOMPARE(int(c->machine->globals().size()), 1);
            QVERIFY(c->machine->globals()[0].computed);
        } else {
            QVERIFY(!c->error.isEmpty());
        }

        // Through the memo they are still literal strings.
        UNPICKLE(m, "\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93."s);
        EXPECT_VALUE(m);
        QVERIFY(m->value->isGlobal("os", "system"));
        QVERIFY(!m->machine->globals().back().computed);
    }

    void reduceMakesSymbolicCall()
    {
        UNPICKLE(u, "cos\nsystem\n(S'ls'\ntR."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Call);
        QVERIFY(u->value->callee->isGlobal("os", "system"));
        QCOMPARE(u->value->args->kind, te::ValueKind::Tuple);
        QCOMPARE(u->value->args->items.at(0)->text, std::string("ls"));
        QVERIFY(u->machine->globals().at(0).called);
    }

    void newObjMakesObject()
    {
        UNPICKLE(u, "\x80\x02" "c__main__\nNet\n)\x81}(X\x01\x00\x00\x00xK\x01ub."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Object);
        QVERIFY(u->value->callee->isGlobal("__main__", "Net"));
        QVERIFY(u->value->state);
        QCOMPARE(u->value->state->kind, te::ValueKind::Dict);
        QCOMPARE(u->value->state->get("x")->integer, int64_t(1));
        QVERIFY(u->machine->globals().at(0).called);
    }

    void newObjExKeepsKeywords()
    {
        UNPICKLE(u, "\x80\x04\x8c\x08__main__\x8c\x03Net\x93K\x05\x85}\x8c\x01kK\x02s\x92."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Object);
        QVERIFY(u->value->callee->isGlobal("__main__", "Net"));
        QCOMPARE(u->value->args->items.at(0)->integer, int64_t(5));
        QCOMPARE(int(u->value->entries.size()), 1);
        QVERIFY(u->machine->globals().at(0).called);
    }

    void objAndInst_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("module");
        QTest::addColumn<QString>("name");
        QTest::newRow("OBJ") << QByteArray("(c__main__\nNet\nK\x01o.") << QStringLiteral("__main__")
                             << QStringLiteral("Net");
        QTest::newRow("INST") << QByteArray("(K\x01iposix\nsystem\n.") << QStringLiteral("posix")
                              << QStringLiteral("system");
    }
    void objAndInst()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, module);
        QFETCH(QString, name);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_VALUE(u);
        QVERIFY(u->value->kind == te::ValueKind::Call || u->value->kind == te::ValueKind::Object);
        QVERIFY(u->value->callee);
        QCOMPARE(QString::fromStdString(u->value->callee->text), module);
        QCOMPARE(QString::fromStdString(u->value->callee->name), name);
        QCOMPARE(u->value->args->kind, te::ValueKind::Tuple);
        QCOMPARE(int(u->value->args->items.size()), 1);
        QCOMPARE(u->value->args->items[0]->integer, int64_t(1));
        QCOMPARE(int(u->machine->globals().size()), 1);
        QVERIFY(u->machine->globals()[0].called);
    }

    // The call's result is dropped, but the global stays recorded as called.
    void objThenPopStillRecorded()
    {
        UNPICKLE(u, "(csubprocess\nPopen\n(S'echo'\nlo0N."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::None);
        QCOMPARE(int(u->machine->globals().size()), 1);
        QCOMPARE(u->machine->globals()[0].qualified(), std::string("subprocess.Popen"));
        QVERIFY(u->machine->globals()[0].called);
    }

    void buildOnNoneFails()
    {
        UNPICKLE(u, "N}b."s);
        EXPECT_ERROR(u);
    }

    void orderedDictBecomesDict()
    {
        UNPICKLE(u, "\x80\x02" "ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00zK\x01X\x01\x00\x00\x00" "aK\x02u."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Dict);
        QVERIFY(u->value->ordered);
        QCOMPARE(int(u->value->entries.size()), 2);
        QCOMPARE(u->value->entries[0].first->text, std::string("z"));
        QCOMPARE(u->value->entries[1].first->text, std::string("a"));
        QVERIFY(u->machine->globals().at(0).called);
    }

    // Protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1'): b'\xffab' here,
    // exactly as pickle.dumps(b'\xffab', 2) writes it.
    void codecsEncodeBecomesBytes()
    {
        UNPICKLE(u, "\x80\x02" "c_codecs\nencode\nq\x00X\x04\x00\x00\x00\xc3\xbf" "abq\x01X\x06\x00\x00\x00latin1q\x02\x86q\x03Rq\x04."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Bytes);
        QCOMPARE(QByteArray::fromStdString(u->value->text), QByteArray("\xff" "ab"));
    }

    void protocolAboveFiveRejected()
    {
        UNPICKLE(u, "\x80\x06N."s);
        EXPECT_ERROR(u);
        QCOMPARE(u->errorOffset, qint64(0));
        UNPICKLE(five, "\x80\x05N."s);
        EXPECT_VALUE(five);
        QCOMPARE(five->machine->protocol(), 5);
    }

    void unknownOpcode()
    {
        UNPICKLE(u, "\x80\x02\xff."s);
        EXPECT_ERROR(u);
        QCOMPARE(u->errorOffset, qint64(2));
        QVERIFY2(u->error.contains(QLatin1String("0xff")), qPrintable(u->error));
    }

    void outOfBandBuffersRejected()
    {
        UNPICKLE(u, "\x80\x05\x97."s);
        EXPECT_ERROR(u);
    }

    void persistentIdNeedsHooks()
    {
        UNPICKLE(u, "\x80\x02X\x01\x00\x00\x00" "0Q."s);
        EXPECT_ERROR(u);
    }

    // A truncated file says where: the offset of the opcode that ran out of bytes.
    void truncatedNamesOffset_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<qint64>("offset");
        QTest::newRow("BININT") << QByteArray("\x80\x02J\x01\x00", 5) << qint64(2);
        QTest::newRow("BINFLOAT") << QByteArray("\x80\x02NG\x01\x02", 6) << qint64(3);
        QTest::newRow("no STOP") << QByteArray("\x80\x02N", 3) << qint64(3);
        QTest::newRow("PROTO argument") << QByteArray("\x80", 1) << qint64(0);
        QTest::newRow("GLOBAL line") << QByteArray("NNcos\nsys", 9) << qint64(2);
        QTest::newRow("BINUNICODE") << QByteArray("NX\x05\x00\x00\x00" "ab", 8) << qint64(1);
        QTest::newRow("LONG_BINPUT") << QByteArray("N]r\x01\x02", 5) << qint64(2);
    }
    void truncatedNamesOffset()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(qint64, offset);
        UNPICKLE(u, bytes.toStdString());
        EXPECT_ERROR(u);
        QCOMPARE(u->errorOffset, offset);
        QCOMPARE(u->errorMember, std::string("test.pkl"));
    }

    // FRAME is a read-ahead hint, but a length beyond the end is a lie.
    void frames()
    {
        UNPICKLE(ok, "\x80\x04\x95"s + le64(2) + "N."s);
        EXPECT_VALUE(ok);
        QCOMPARE(ok->value->kind, te::ValueKind::None);
        UNPICKLE(across, "\x80\x04\x95"s + le64(1) + "N."s); // opcodes may run past a frame
        EXPECT_VALUE(across);
        UNPICKLE(lies, "\x80\x04\x95"s + le64(3) + "N."s);
        EXPECT_ERROR(lies);
        QCOMPARE(lies->errorOffset, qint64(2));
        UNPICKLE(huge, "\x80\x04\x95"s + le64(~uint64_t(0)) + "N."s);
        EXPECT_ERROR(huge);
    }

    void limits_data()
    {
        QTest::addColumn<QByteArray>("withinLimit");
        QTest::addColumn<QByteArray>("overLimit");
        QTest::addColumn<QString>("limit");
        QTest::newRow("maxMarkDepth") << QByteArray("(((N.") << QByteArray("((((N.") << QStringLiteral("marks");
        QTest::newRow("maxMemo") << QByteArray::fromStdString("Nq\x00q\x01q\x02q\x01."s)
                                 << QByteArray::fromStdString("Nq\x00q\x01q\x02q\x03."s)
                                 << QStringLiteral("memo");
        QTest::newRow("maxValues") << QByteArray("NN\x86.") << QByteArray("NNN\x86.") << QStringLiteral("values");
        QTest::newRow("maxDigits INT") << QByteArray("I-12345\n.") << QByteArray("I-123456\n.")
                                       << QStringLiteral("digits");
        QTest::newRow("maxDigits LONG") << QByteArray("L123456L\n.") << QByteArray("L1234567L\n.")
                                        << QStringLiteral("digits");
        QTest::newRow("maxDigits FLOAT") << QByteArray("F1.2345\n.") << QByteArray("F1.23456\n.")
                                         << QStringLiteral("digits");
        QTest::newRow("maxStack") << QByteArray("NNN\x87.") << QByteArray("NNNN0\x87.") << QStringLiteral("stack");
        QTest::newRow("maxLine") << QByteArray("S'abcdef'\n.") << QByteArray("S'abcdefg'\n.")
                                 << QStringLiteral("line");
    }
    void limits()
    {
        QFETCH(QByteArray, withinLimit);
        QFETCH(QByteArray, overLimit);
        QFETCH(QString, limit);
        te::PickleLimits small;
        if (limit == QLatin1String("marks"))
            small.maxMarkDepth = 3;
        else if (limit == QLatin1String("memo"))
            small.maxMemo = 3;
        else if (limit == QLatin1String("values"))
            small.maxValues = 3;
        else if (limit == QLatin1String("digits"))
            small.maxDigits = 6;
        else if (limit == QLatin1String("stack"))
            small.maxStack = 3;
        else if (limit == QLatin1String("line"))
            small.maxLine = 8;
        UNPICKLE_WITH(ok, withinLimit.toStdString(), small);
        EXPECT_VALUE(ok);
        UNPICKLE_WITH(over, overLimit.toStdString(), small);
        EXPECT_ERROR(over);
        QVERIFY2(over->error.contains(QLatin1String("limit")) || over->error.contains(QLatin1String("long")),
                 qPrintable(over->error));
    }

    void opcodeLimit()
    {
        te::PickleLimits small;
        small.maxOps = 4;
        UNPICKLE_WITH(ok, "NN\x86."s, small);
        EXPECT_VALUE(ok);
        UNPICKLE_WITH(over, "NN0N\x86."s, small);
        EXPECT_ERROR(over);
    }

    // The offset just past STOP is where a legacy file's next pickle begins.
    void endOffsetAfterStop()
    {
        UNPICKLE(u, "\x80\x02K\x01.\x80\x02K\x02."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->machine->endOffset(), uint64_t(5));
        QCOMPARE(u->value->integer, int64_t(1));
    }

    void cancelStopsTheMachine()
    {
        // The flag is polled every 65536 opcodes: enough of them to reach the check.
        std::string bytes = "N";
        for (int i = 0; i < 70000; ++i)
            bytes += "2" "0";
        bytes += ".";
        std::atomic<bool> cancel{true};
        te::ValueArena arena;
        te::PickleMachine machine(arena, bytes, "test.pkl");
        QVERIFY_THROWS_EXCEPTION(te::Cancelled, machine.run(&cancel));
    }

    void decoders()
    {
        bool ok = false;
        QCOMPARE(te::decodePythonStringLiteral("'a\\x4'"s, &ok), std::string());
        QVERIFY(!ok);
        QCOMPARE(te::decodePythonStringLiteral("'\\q'"s, &ok), std::string("\\q")); // unknown escapes stay
        QVERIFY(ok);
        QCOMPARE(te::decodeRawUnicodeEscape("\\u263a"), std::string("\xe2\x98\xba"));
    }
};

QTEST_GUILESS_MAIN(PickleMachineTest)
#include "tst_picklemachine.moc"
