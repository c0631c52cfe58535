// What the program says about a file must hold for files it has never seen: the format
// detector confirms by structure (wild/, written by make_wild.py), JSON from files is
// bounded, files that are not checkpoints are named with what to do, and the security
// policy is an allow list (core/security/global_policy.txt).
#include "core/formats/documentreader.h"
#include "core/formats/formatdetector.h"
#include "core/io/boundedjson.h"
#include "core/io/readerror.h"
#include "core/report/inspectreport.h"
#include "core/security/globalpolicy.h"
#include "core/security/securityscanner.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <map>
#include <sstream>

using nlohmann::json;

namespace {

const json &wildExpectations()
{
    static const json j = [] {
        std::ifstream in(TE_FIXTURES_DIR "/wild/expected_wild.json");
        return in ? json::parse(in, nullptr, false) : json();
    }();
    return j;
}

std::string writeFile(const QTemporaryDir &dir, const char *name, const std::string &bytes)
{
    const std::string path = dir.filePath(QString::fromLatin1(name)).toStdString();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

std::string le64(uint64_t n)
{
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i)
        out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
    return out;
}

// A one-tensor safetensors file whose header is padded to exactly `headerLength` bytes.
std::string safetensorsWithHeaderLength(uint64_t headerLength)
{
    std::string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    header.resize(static_cast<size_t>(headerLength), ' ');
    return le64(headerLength) + header + std::string("\x00\x00\x80\x3f", 4);
}

// Bytes of a string literal, NULs included.
template <size_t N> QByteArray bytes(const char (&s)[N]) { return QByteArray(s, static_cast<int>(N - 1)); }

} // namespace

class TrustTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY2(wildExpectations().is_object(), "tests/fixtures/wild/expected_wild.json is missing");
    }

    // Every file of wild/: it opens as what it is, or is refused with what it is and
    // what to do.
    void wildFile_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto &[name, rule] : wildExpectations().items())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }

    void wildFile()
    {
        QFETCH(QString, name);
        const json &rule = wildExpectations()[name.toStdString()];
        const std::string path = TE_FIXTURES_DIR "/wild/" + name.toStdString();
        std::unique_ptr<te::Document> doc;
        std::string error;
        try {
            doc = te::readDocument(path);
        } catch (const te::ReadError &e) {
            error = e.what();
        }
        if (rule["opens"].get<bool>()) {
            QVERIFY2(doc, error.c_str());
            QVERIFY2(doc->error.empty(), doc->error.c_str());
            QCOMPARE(QString::fromLatin1(te::formatName(doc->format)),
                     QString::fromStdString(rule["format"].get<std::string>()));
            QCOMPARE(doc->entries.size(), rule["tensors"].get<size_t>());
        } else {
            // Refused outright, or read only up to an error that says why.
            if (doc)
                error = doc->error;
            QVERIFY2(!error.empty(), "opened a file that should be refused");
            for (const auto &phrase : rule["error_contains"])
                QVERIFY2(error.find(phrase.get<std::string>()) != std::string::npos,
                         qPrintable(QStringLiteral("'%1' not in: %2")
                                        .arg(QString::fromStdString(phrase), QString::fromStdString(error))));
        }
        for (const auto &phrase : rule.value("warning_contains", json::array())) {
            bool found = false;
            for (const auto &w : doc->warnings)
                found = found || w.find(phrase.get<std::string>()) != std::string::npos;
            QVERIFY2(found, qPrintable(QStringLiteral("no warning with '%1'").arg(QString::fromStdString(phrase))));
        }
    }

    // Header lengths whose bytes spell a pickle: PROTO 1 then a zero byte, PROTO 2 +
    // STOP (a complete pickle!), PROTO 2 + NONE + STOP. The structure decides, and a name
    // breaks the tie for the one that is both.
    void headerLengthSpellsPickle_data()
    {
        QTest::addColumn<quint64>("length");
        QTest::addColumn<QString>("name");
        QTest::newRow("80 01") << quint64(0x0180) << QStringLiteral("model.safetensors");
        QTest::newRow("80 01, named .pt") << quint64(0x0180) << QStringLiteral("model.pt");
        QTest::newRow("80 02 2e: PROTO STOP") << quint64(0x2e0280) << QStringLiteral("model.safetensors");
        QTest::newRow("80 02 2e, named .pkl") << quint64(0x2e0280) << QStringLiteral("model.pkl");
        QTest::newRow("80 04 95: PROTO FRAME") << quint64(0x950480) << QStringLiteral("shard.safetensors");
    }

    void headerLengthSpellsPickle()
    {
        QFETCH(quint64, length);
        QFETCH(QString, name);
        QTemporaryDir dir;
        const std::string path = writeFile(dir, name.toLatin1().constData(), safetensorsWithHeaderLength(length));
        const auto doc = te::readDocument(path);
        QCOMPARE(QString::fromLatin1(te::formatName(doc->format)), QStringLiteral("safetensors"));
        QCOMPARE(doc->entries.size(), size_t(1));
    }

    // A file both a pickle and a safetensors file (length bytes 4e 2e: NONE, STOP): read
    // as what its name says, and the pickle torch.load would run is scanned too.
    void polyglotPickleIsScanned()
    {
        QTemporaryDir dir;
        const std::string st = safetensorsWithHeaderLength(0x2e4e);
        const std::string path = writeFile(dir, "polyglot.safetensors", st);
        const auto doc = te::readDocument(path);
        QCOMPARE(doc->format, te::FileFormat::Safetensors);
        bool noted = false;
        for (const auto &f : doc->security.findings)
            noted = noted || f.find("also a well-formed pickle") != std::string::npos;
        QVERIFY(noted);
        QVERIFY(!doc->security.weightsOnlyLoadable);
    }

    // Both formats confirm by structure, the first reader fails: the next one reads it,
    // and the document says so.
    void fallbackToTheNextCandidateSaysSo()
    {
        QTemporaryDir dir;
        std::string header = "{not json}";
        header.resize(0x2e4e, ' ');
        const std::string path = writeFile(dir, "odd.safetensors", le64(0x2e4e) + header);
        const auto doc = te::readDocument(path);
        QCOMPARE(doc->format, te::FileFormat::Pickle);
        bool noted = false;
        for (const auto &w : doc->warnings)
            noted = noted || w.find("after reading it as safetensors failed") != std::string::npos;
        QVERIFY(noted);
    }

    // Pickles CPython runs and deny lists miss: each must be rated as Python would act.
    void pickleRatings_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("verdict");
        QTest::addColumn<QString>("named");
        auto row = [](const char *name, const QByteArray &b, const char *verdict, const char *named) {
            QTest::newRow(name) << b << QString::fromLatin1(verdict) << QString::fromLatin1(named);
        };
        row("POP of a mark, then os.system", bytes("(0cos\nsystem\n(S'id'\ntR."), "dangerous", "os.system");
        row("PROTO after other opcodes",
            bytes("N0\x80\x02"
                  "cos\nsystem\n(S'id'\ntR."),
            "dangerous", "os.system");
        row("BUILD on a class",
            bytes("\x80\x02"
                  "cargparse\nNamespace\n}b."),
            "dangerous", "argparse.Namespace");
        row("Python 2 builtin type",
            bytes("\x80\x02"
                  "c__builtin__\ndict\n."),
            "suspicious", "__builtin__.dict");
        row("Python 2 xrange",
            bytes("\x80\x02"
                  "c__builtin__\nxrange\nK\x03\x85R."),
            "suspicious", "__builtin__.xrange");
        row("Python 2 eval",
            bytes("\x80\x02"
                  "c__builtin__\neval\nX\x01\x00\x00\x00"
                  "1\x85R."),
            "dangerous", "__builtin__.eval");
        row("partial of a torch exec wrapper",
            bytes("\x80\x02"
                  "cfunctools\npartial\nctorch.fx.graph_module\n_exec_with_source\n"
                  "X\x01\x00\x00\x00x\x86R."),
            "dangerous", "torch.fx.graph_module._exec_with_source");
        row("rebuild_from_type_v2 split by STACK_GLOBAL, calling a partial",
            bytes("\x80\x04\x8c\x05torch\x8c\x1d_tensor._rebuild_from_type_v2\x93"
                  "\x8c\x09"
                  "functools\x8c\x07partial\x93\x8c\x05numpy\x8c\x04sort\x93\x85R"
                  "\x8c\x05torch\x8c\x06Tensor\x93)}\x94\x87R."),
            "dangerous", "<the result of another call>");
        row("a process started by a re-export",
            bytes("\x80\x02"
                  "cfuture.moves.subprocess\nPopen\n)R."),
            "dangerous", "future.moves.subprocess.Popen");
        row("torch.multiprocessing",
            bytes("\x80\x02"
                  "ctorch.multiprocessing\nPool\n)R."),
            "dangerous", "torch.multiprocessing.Pool");
        row("EXT4 with a negative code", bytes("\x80\x02\x84\xff\xff\xff\xff)R."), "dangerous",
            "copyreg.extension_code_-1");
    }

    void pickleRatings()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, verdict);
        QFETCH(QString, named);
        QTemporaryDir dir;
        const auto doc = te::readDocument(writeFile(dir, "x.pkl", bytes.toStdString()));
        QVERIFY2(QString::fromStdString(doc->security.verdict) == verdict,
                 qPrintable(QString::fromStdString(te::scanText(*doc))));
        bool found = false;
        for (const auto &g : doc->security.globals)
            found = found || QString::fromStdString(g.name) == named;
        QVERIFY2(found, qPrintable(QString::fromStdString(te::scanText(*doc))));
    }

    // Names from the file never become Python code in the advice.
    void adviceNeedsPlainNames()
    {
        QTemporaryDir dir;
        const QByteArray evil = bytes("\x80\x04\x8c\x04"
                                      "evil\x8c\x0eX])\nimport os#\x93)R.");
        const auto doc = te::readDocument(writeFile(dir, "evil.pkl", evil.toStdString()));
        QCOMPARE(doc->security.verdict, std::string("suspicious"));
        QVERIFY(te::safeGlobalsAdvice(doc->security).empty());
        QVERIFY(te::scanText(*doc).find("\\x0a") != std::string::npos); // the newline shown escaped
        // A function stored as a value is not advised either: allowing it lets the file call it.
        const QByteArray fn = bytes("\x80\x02"
                                    "cargparse\nNamespace\n)\x81}X\x01\x00\x00\x00"
                                    "fctorch.nn.functional\nrelu\nsb.");
        const auto doc2 = te::readDocument(writeFile(dir, "fn.pkl", fn.toStdString()));
        const auto advice = te::safeGlobalsAdvice(doc2->security);
        QVERIFY(!advice.empty());
        QVERIFY2(advice.front().find("would also have to allow torch.nn.functional.relu") != std::string::npos,
                 advice.front().c_str());
    }

    // Python's tarfile (tried by torch.load first) needs only a matching checksum.
    void oldTarHeadersAreTars()
    {
        QTemporaryDir dir;
        std::string tar(1024, '\0');
        tar.replace(0, 2, "N."); // the member name reads as a pickle: None, STOP
        tar.replace(124, 12, "00000000000");
        int64_t sum = 256;
        for (int i = 0; i < 512; ++i)
            if (i < 148 || i >= 156)
                sum += static_cast<uint8_t>(tar[static_cast<size_t>(i)]);
        char field[8];
        std::snprintf(field, sizeof field, "%06o", static_cast<unsigned>(sum));
        tar.replace(148, 7, std::string(field, 6) + '\0');
        for (const char *name : {"old.tar", "old.pkl", "old.pt"}) {
            const auto doc = te::readDocument(writeFile(dir, name, tar));
            QCOMPARE(doc->format, te::FileFormat::TorchTar);
        }
    }

    void structuralChecks()
    {
        QTemporaryDir dir;
        auto map = [&](const char *name, const std::string &bytes) {
            return te::MappedFile::open(writeFile(dir, name, bytes));
        };
        // Pickles: well formed up to STOP, or not.
        QVERIFY(te::confirmsPickle(*map("a", std::string("\x80\x02}q\x00.", 6))));
        QVERIFY(te::confirmsPickle(*map("b", "(lp0\nI1\na.")));
        QVERIFY(!te::confirmsPickle(*map("c", std::string("\x80\x02.", 3))));                 // STOP on an empty stack
        QVERIFY(!te::confirmsPickle(*map("d", std::string("\x80\x01\x00\x00", 4))));          // unknown opcode
        QVERIFY(!te::confirmsPickle(*map("e", std::string("\x80\x02X\xff\xff\x00\x00", 7)))); // length past the end
        QVERIFY(!te::confirmsPickle(*map("f", "I1\nI2\n")));                                  // no STOP
        QVERIFY(!te::confirmsPickle(*map("g", "hello world.")));
        // Tar: the magic needs a matching header checksum.
        std::string tar(1024, '\0');
        tar.replace(257, 5, "ustar");
        QVERIFY(!te::confirmsTar(*map("h", tar)));
        unsigned sum = 0;
        for (int i = 0; i < 512; ++i)
            sum += (i >= 148 && i < 156) ? ' ' : static_cast<uint8_t>(tar[static_cast<size_t>(i)]);
        char field[8];
        std::snprintf(field, sizeof field, "%06o", sum);
        tar.replace(148, 7, std::string(field, 6) + '\0');
        QVERIFY(te::confirmsTar(*map("i", tar)));
        // Safetensors: the length fits and the header is an object.
        QVERIFY(te::confirmsSafetensors(*map("j", safetensorsWithHeaderLength(64))));
        QVERIFY(!te::confirmsSafetensors(*map("k", le64(1000) + "{}")));
    }

    void jsonDepthIsBounded()
    {
        const std::string deep = std::string(100, '[') + std::string(100, ']');
        QCOMPARE(te::jsonTooDeepAt(deep, 64), int64_t(64));
        QCOMPARE(te::jsonTooDeepAt("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 3),
                 int64_t(-1)); // brackets inside strings do not count
        QVERIFY_EXCEPTION_THROWN(te::parseBoundedJson(deep, "x.json"), te::ReadError);
        QCOMPARE(te::parseBoundedJson("{\"a\":[1,{\"b\":2}]}", "x.json")["a"][1]["b"].get<int>(), 2);
    }

    // The allow list decides; a deny list would miss these.
    void classify_data()
    {
        QTest::addColumn<QString>("module");
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("called");
        QTest::addColumn<QString>("category");
        auto row = [](const char *m, const char *n, bool called, const char *category) {
            QTest::newRow(qPrintable(QStringLiteral("%1.%2%3").arg(QLatin1String(m), QLatin1String(n),
                                                                   called ? QString() : QStringLiteral(" (ref)"))))
                << QString::fromLatin1(m) << QString::fromLatin1(n) << called << QString::fromLatin1(category);
        };
        row("torch._utils", "_rebuild_tensor_v2", true, "tensor");
        row("torch._utils", "_rebuild_device_tensor_from_numpy", true, "tensor"); // numpy inside is judged apart
        row("collections", "OrderedDict", true, "tensor");
        row("torch", "FloatStorage", false, "tensor");
        row("torch", "bfloat16", false, "tensor");
        row("torch.jit._pickle", "build_intlist", true, "torchscript");
        row("__torch__.SmallNet", "SmallNet", true, "torchscript");
        row("argparse", "Namespace", true, "python_class");
        row("pathlib", "PosixPath", true, "python_class");
        row("__main__", "Net", true, "python_class");
        row("torch.nn.modules.conv", "Conv2d", true, "python_class");
        row("torchvision.models.resnet", "ResNet", true, "python_class");
        row("transformers.models.bert.configuration_bert", "BertConfig", true, "python_class");
        row("lightning.fabric.utilities.data", "AttributeDict", true, "python_class");
        row("numpy.core.multiarray", "_reconstruct", true, "python_class");
        row("some_library.layers", "FancyBlock", true, "python_class");
        row("torch.nn.functional", "relu", false, "python_class");
        // C accelerator spellings and stdlib callables no deny list had.
        row("_operator", "attrgetter", true, "dangerous");
        row("_io", "FileIO", true, "dangerous");
        row("posix", "system", true, "dangerous");
        row("nt", "system", true, "dangerous");
        row("_posixsubprocess", "fork_exec", true, "dangerous");
        row("pydoc", "pipepager", true, "dangerous");
        row("uuid", "_get_command_stdout", true, "dangerous");
        row("idlelib.pyshell", "ModifiedInterpreter.runcode", true, "dangerous");
        row("logging", "FileHandler", true, "dangerous");
        row("builtins", "getattr", false, "dangerous");
        row("__builtin__", "eval", true, "dangerous");
        row("pathlib", "Path.write_text", true, "dangerous");
        row("pathlib", "os.system", false, "dangerous");
        // torch functions that wrap exec or the shell; any unlisted torch function called.
        row("torch.jit.unsupported_tensor_ops", "execWrapper", true, "dangerous");
        row("torch.utils.collect_env", "run", true, "dangerous");
        row("torch._inductor.codecache", "compile_file", false, "dangerous");
        row("torch.serialization", "os.system", true, "dangerous");
        row("torch.nn.functional", "relu", true, "dangerous");
        row("__main__", "make_model", true, "dangerous");
        row("torchvision.models.resnet", "ResNet.__reduce_ex__", true, "dangerous");
        row("numpy.testing._private.utils", "runstring", true, "dangerous");
    }

    void classify()
    {
        QFETCH(QString, module);
        QFETCH(QString, name);
        QFETCH(bool, called);
        QFETCH(QString, category);
        const te::GlobalClass c = te::classifyGlobal(module.toStdString(), name.toStdString(), false, called);
        QVERIFY2(QString::fromStdString(c.category) == category, c.reason.c_str());
        QVERIFY(!c.reason.empty());
    }

    void computedAndExtensionNamesAreDangerous()
    {
        QCOMPARE(te::classifyGlobal("<int>", "system", true, true).category, std::string("dangerous"));
        QCOMPARE(te::classifyGlobal("copyreg", "extension_code_7", true, true, 7).category, std::string("dangerous"));
        // Even a name that would be safe is dangerous when reached through an extension code.
        QCOMPARE(te::classifyGlobal("collections", "OrderedDict", false, true, 3).category, std::string("dangerous"));
    }

    void policyFileIsWellFormed()
    {
        QVERIFY(te::isStdlibModule("os"));
        QVERIFY(te::isStdlibModule("_operator"));
        QVERIFY(te::isStdlibModule("__builtin__"));
        QVERIFY(te::isStdlibModule("copy_reg"));
        QVERIFY(!te::isStdlibModule("torch"));
        QVERIFY(!te::isStdlibModule("__main__"));
        QVERIFY(te::policyPatternMatches("torch.*Storage", "torch.FloatStorage"));
        QVERIFY(!te::policyPatternMatches("torch.*Storage", "torch.os.XStorage"));
        QVERIFY(te::policyPatternMatches("torch.hub.**", "torch.hub.load"));
        QVERIFY(te::looksLikeClass("torch.nn.modules.conv._ConvNd"));
        QVERIFY(!te::looksLikeClass("torch.nn.functional.relu"));
        // Every line of the policy parses into a verdict the scanner knows.
        const te::PolicyEntry *e = te::findPolicyEntry("argparse.Namespace");
        QVERIFY(e);
        QCOMPARE(e->verdict, std::string("suspicious"));
        QVERIFY(!e->reason.empty());
    }

    // scan's text names each global once, with a count; the JSON keeps every use.
    void scanTextListsEachGlobalOnce()
    {
        const auto doc = te::readDocument(TE_FIXTURES_DIR "/scripted.pt");
        const std::string text = te::scanText(*doc);
        QVERIFY2(text.find("TorchScript: torch.jit.load rebuilds it without Python") != std::string::npos,
                 text.c_str());
        QVERIFY(text.find("needs trusted Python classes") == std::string::npos);
        std::map<std::string, int> lines;
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            if (line.find(", first in ") == std::string::npos)
                continue;
            std::istringstream words(line);
            std::string name;
            words >> name;
            if (name == "DANGER")
                words >> name;
            ++lines[name];
        }
        QVERIFY(!lines.empty());
        for (const auto &[l, n] : lines)
            QVERIFY2(n == 1, l.c_str());
        QCOMPARE(doc->security.verdictReason, std::string("torchscript_code"));
        QVERIFY(te::securityJson(doc->security)["verdict"] == "suspicious");
    }

    void safeGlobalsAdviceForSuspiciousFiles()
    {
        const auto doc = te::readDocument(TE_FIXTURES_DIR "/hostile/benign_argparse_namespace.pt");
        QCOMPARE(doc->security.verdict, std::string("suspicious"));
        const auto advice = te::safeGlobalsAdvice(doc->security);
        std::string all;
        for (const auto &l : advice)
            all += l + "\n";
        QVERIFY2(all.find("import argparse") != std::string::npos, all.c_str());
        QVERIFY2(all.find("torch.serialization.add_safe_globals([argparse.Namespace])") != std::string::npos,
                 all.c_str());
        QVERIFY(all.find("with torch.serialization.safe_globals([argparse.Namespace]):") != std::string::npos);
        QVERIFY(te::scanText(*doc).find("default since PyTorch 2.6") != std::string::npos);
        const auto danger = te::readDocument(TE_FIXTURES_DIR "/hostile/os_system_p2.pkl");
        QVERIFY(te::safeGlobalsAdvice(danger->security).empty());
    }

    // A folder of safetensors shards, one unreadable: not fully scanned, that shard named.
    void unreadableShardIsNotFullyScanned()
    {
        QTemporaryDir dir;
        const std::string good = safetensorsWithHeaderLength(64);
        writeFile(dir, "model-00001-of-00002.safetensors", good);
        writeFile(dir, "model-00002-of-00002.safetensors", good.substr(0, 30));
        writeFile(
            dir, "model.safetensors.index.json",
            "{\"weight_map\":{\"w\":\"model-00001-of-00002.safetensors\",\"v\":\"model-00002-of-00002.safetensors\"}}");
        const auto doc = te::readDocument(dir.path().toStdString());
        QCOMPARE(doc->security.verdictReason, std::string("not_fully_scanned"));
        QVERIFY(!doc->security.complete);
        const std::string summary = te::securitySummary(doc->security);
        QVERIFY2(summary.find("not fully scanned") != std::string::npos, summary.c_str());
        QVERIFY(summary.find("weights_only=True would refuse") == std::string::npos);
        bool named = false;
        for (const auto &f : doc->security.findings)
            named = named || f.find("model-00002-of-00002.safetensors") != std::string::npos;
        QVERIFY(named);
    }
};

QTEST_GUILESS_MAIN(TrustTest)
#include "tst_trust.moc"
