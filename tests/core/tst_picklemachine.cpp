// Unit tests of the pickle machine's memo, stack, symbolic globals and calls, errors and
// limits, on small hand-written byte strings compared with what CPython's unpickler does.
#include "tests/support/picklebytes.h"

class PickleMachineTest : public QObject {
    Q_OBJECT

private slots:
    // MEMOIZE stores at len(memo), not at "last index + 1", exactly like CPython.
    void memoizeNumbering()
    {
        UNPICKLE(u, "\x80\x04\x8c\x01"
                    "a\x94"
                    "0\x8c\x01"
                    "b\x94"
                    "0h\x01h\x00\x86."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->items[0]->text, std::string("b"));
        QCOMPARE(u->value->items[1]->text, std::string("a"));

        // BINPUT 5 makes len(memo) 1, so the next MEMOIZE takes index 1, not 6.
        UNPICKLE(mixed, "\x80\x04\x8c\x01"
                        "aq\x05"
                        "0\x8c\x01"
                        "b\x94"
                        "0h\x01h\x05\x86."s);
        EXPECT_VALUE(mixed);
        QCOMPARE(mixed->value->items[0]->text, std::string("b"));
        QCOMPARE(mixed->value->items[1]->text, std::string("a"));

        // ... and overwrites what BINPUT 1 stored there.
        UNPICKLE(over, "\x80\x04\x8c\x01"
                       "aq\x01"
                       "0\x8c\x01"
                       "b\x94"
                       "0h\x01."s);
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
        UNPICKLE(dup, "K\x01"
                      "2\x86."s);
        EXPECT_VALUE(dup);
        QCOMPARE(dup->value->items[0], dup->value->items[1]);
        UNPICKLE(popMark, "K\x01(K\x02K\x03"
                          "1."s);
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
        UNPICKLE(u, "\x80\x02"
                    "c__main__\nNet\n)\x81}(X\x01\x00\x00\x00xK\x01ub."s);
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
        UNPICKLE(u, "\x80\x02"
                    "ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00zK\x01X\x01\x00\x00\x00"
                    "aK\x02u."s);
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
        UNPICKLE(u, "\x80\x02"
                    "c_codecs\nencode\nq\x00X\x04\x00\x00\x00\xc3\xbf"
                    "abq\x01X\x06\x00\x00\x00latin1q\x02\x86q\x03Rq\x04."s);
        EXPECT_VALUE(u);
        QCOMPARE(u->value->kind, te::ValueKind::Bytes);
        QCOMPARE(QByteArray::fromStdString(u->value->text), QByteArray("\xff"
                                                                       "ab"));
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
        UNPICKLE(u, "\x80\x02X\x01\x00\x00\x00"
                    "0Q."s);
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
        QTest::newRow("BINUNICODE") << QByteArray("NX\x05\x00\x00\x00"
                                                  "ab",
                                                  8)
                                    << qint64(1);
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
                                 << QByteArray::fromStdString("Nq\x00q\x01q\x02q\x03."s) << QStringLiteral("memo");
        // Strings, not None: None, booleans and small ints are shared and count once.
        QTest::newRow("maxValues") << QByteArray::fromStdString("X\0\0\0\0X\0\0\0\0\x86."s)
                                   << QByteArray::fromStdString("X\0\0\0\0X\0\0\0\0X\0\0\0\0\x86."s)
                                   << QStringLiteral("values");
        QTest::newRow("maxDigits INT") << QByteArray("I-12345\n.") << QByteArray("I-123456\n.")
                                       << QStringLiteral("digits");
        QTest::newRow("maxDigits LONG") << QByteArray("L123456L\n.") << QByteArray("L1234567L\n.")
                                        << QStringLiteral("digits");
        QTest::newRow("maxDigits FLOAT") << QByteArray("F1.2345\n.") << QByteArray("F1.23456\n.")
                                         << QStringLiteral("digits");
        QTest::newRow("maxStack") << QByteArray("NNN\x87.") << QByteArray("NNNN0\x87.") << QStringLiteral("stack");
        QTest::newRow("maxLine") << QByteArray("S'abcdef'\n.") << QByteArray("S'abcdefg'\n.") << QStringLiteral("line");
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
            bytes += "2"
                     "0";
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
