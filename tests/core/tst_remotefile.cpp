// A remote file under the readers (MappedFile::openRemote): only the blocks asked for are
// fetched, neighbours in one request; bytes read before they were fetched are caught, not
// silently zero; a fetch that fails is a ReadError naming the file; and every fixture reads
// the same through it as from disk, with its tensors' values.
#include "core/diagnose/documentdiff.h"
#include "core/diagnose/keyalignment.h"
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/stats/tensorstats.h"
#include "tests/support/fixtureexpectations.h"

#include <QtTest>

#include <fstream>
#include <sstream>

using namespace te;
using namespace te::testing;

namespace {

struct Log {
    std::vector<std::pair<uint64_t, uint64_t>> requests;
    bool fail = false;
};

class BytesFetcher : public ByteFetcher {
public:
    BytesFetcher(std::string bytes, std::shared_ptr<Log> log)
        : m_bytes(std::move(bytes))
        , m_log(std::move(log))
    { }
    void fetch(uint64_t offset, uint64_t n, uint8_t *out) override
    {
        if (m_log->fail)
            throw ReadError("the server went away", "test");
        m_log->requests.emplace_back(offset, n);
        if (offset + n > m_bytes.size())
            throw ReadError("past the end", "test");
        std::memcpy(out, m_bytes.data() + offset, n);
    }

private:
    std::string m_bytes;
    std::shared_ptr<Log> m_log;
};

std::string fixture(const std::string &name) { return std::string(TE_FIXTURES_DIR) + "/" + name; }

std::string slurp(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::shared_ptr<const MappedFile> remote(const std::string &bytes, const std::shared_ptr<Log> &log,
                                         const std::string &name = "remote.bin")
{
    return MappedFile::openRemote(name, bytes.size(), std::make_unique<BytesFetcher>(bytes, log));
}

} // namespace

class TestRemoteFile : public QObject {
    Q_OBJECT

private slots:
    void fetchesOnlyWhatIsNeeded()
    {
        std::string bytes(3 << 20, '\0');
        for (size_t i = 0; i < bytes.size(); ++i)
            bytes[i] = static_cast<char>(i * 7);
        auto log = std::make_shared<Log>();
        auto f = remote(bytes, log);
        QVERIFY(f->remote());
        f->need(100, 10);
        QCOMPARE(log->requests.size(), size_t(1));
        QCOMPARE(log->requests[0], std::make_pair(uint64_t(0), uint64_t(65536))); // one aligned block
        QCOMPARE(f->data()[105], static_cast<uint8_t>(bytes[105]));
        f->need(0, 65536); // already there
        QCOMPARE(log->requests.size(), size_t(1));
        // Two runs one block apart are one request; what was fetched is not asked for again.
        f->need(65536 * 3, 65536 * 2);
        QCOMPARE(log->requests.back(), std::make_pair(uint64_t(65536 * 3), uint64_t(65536 * 2)));
        // Blocks 1 to 6, of which 3 and 4 are there: two runs, too far apart to be joined.
        f->need(65536, 65536 * 6);
        QCOMPARE(log->requests.size(), size_t(4));
        QCOMPARE(log->requests[2], std::make_pair(uint64_t(65536), uint64_t(65536 * 2)));
        QCOMPARE(log->requests[3], std::make_pair(uint64_t(65536 * 5), uint64_t(65536 * 2)));
        // One block missing between two that are there is fetched with its neighbours' run.
        f->need(65536 * 8, 1);
        f->need(65536 * 10, 1);
        f->need(65536 * 7, 65536 * 5);
        QCOMPARE(log->requests.back(), std::make_pair(uint64_t(65536 * 7), uint64_t(65536 * 5)));
        QCOMPARE(log->requests.size(), size_t(7));
        char out[8];
        QCOMPARE(f->readAt(bytes.size() - 4, out, 8), size_t(4)); // the last, short block
        QCOMPARE(std::string(out, 4), bytes.substr(bytes.size() - 4));
        QCOMPARE(f->fetchStats().requests, uint64_t(8));
        QVERIFY(!f->damaged());
        QVERIFY(std::memcmp(f->data() + 65536, bytes.data() + 65536, 65536 * 6) == 0);
    }

    void readingBeforeFetchingIsCaught()
    {
        const std::string bytes(1 << 20, 'x');
        auto log = std::make_shared<Log>();
        auto f = remote(bytes, log);
        const volatile uint8_t *p = f->data();
        QCOMPARE(static_cast<int>(p[500000]), 0); // a page of zeros in place of the missing one
        QVERIFY(f->damaged());
        f->need(500000, 1); // fetched afterwards, the real bytes are there
        QCOMPARE(static_cast<char>(p[500000]), 'x');
        QVERIFY(log->requests.size() == 1);
    }

    void failedFetchIsAReadError()
    {
        auto log = std::make_shared<Log>();
        log->fail = true;
        auto f = remote(slurp(fixture("state_dict.pt")), log, "hf:org/name/state_dict.pt");
        try {
            readDocument(f);
            QFAIL("read a file that could not be fetched");
        } catch (const ReadError &e) {
            QVERIFY2(std::string(e.what()).find("the server went away") != std::string::npos, e.what());
        }
    }

    void fixturesReadTheSame_data()
    {
        QTest::addColumn<QString>("name");
        for (const char *n : {"checkpoint.pt", "state_dict.pt", "scripted.pt", "state_dict_legacy.pt",
                              "torchvision_traced.pt", "model_pickled.pt", "hf/dtypes.safetensors",
                              "hf/tiny_bert/model.safetensors", "hf/tiny_gpt2_bin/pytorch_model.bin"})
            QTest::newRow(n) << QString::fromLatin1(n);
    }

    // The same document and the same values (their statistics and an element-wise diff).
    void fixturesReadTheSame()
    {
        QFETCH(QString, name);
        const std::string path = fixture(name.toStdString());
        auto log = std::make_shared<Log>();
        auto remoteDoc = readDocument(remote(slurp(path), log, path));
        auto localDoc = readDocument(path);
        QCOMPARE(remoteDoc->entries.size(), localDoc->entries.size());
        QCOMPARE(remoteDoc->security.verdict, localDoc->security.verdict);
        const DocumentDiff diff = diffDocuments(*remoteDoc, *localDoc, alignKeys(*remoteDoc, *localDoc));
        QVERIFY(diff.same());
        for (size_t i = 0; i < remoteDoc->entries.size(); ++i) {
            const auto &r = remoteDoc->tensors[static_cast<size_t>(remoteDoc->entries[i].tensor)];
            const auto &l = localDoc->tensors[static_cast<size_t>(localDoc->entries[i].tensor)];
            const TensorStats a = computeStats(*remoteDoc, r), b = computeStats(*localDoc, l);
            QCOMPARE(a.ok, b.ok);
            QCOMPARE(a.error, b.error);
            if (a.ok)
                QCOMPARE(a.sum, b.sum);
        }
        QVERIFY(!remoteDoc->file->damaged());
    }
};

QTEST_GUILESS_MAIN(TestRemoteFile)
#include "tst_remotefile.moc"
