// torch.save zip archives and TorchScript archives: the same container, told apart by
// constants.pkl, read by the same non-executing pickle machine (never torch::jit::load).
#include "core/formats/zipdocumentreader.h"
#include "core/formats/readersupport.h"
#include "core/formats/torchpicklehooks.h"
#include "core/formats/torchscriptcode.h"
#include "core/io/backgroundtask.h"
#include "core/io/readerror.h"

namespace te {
namespace {

std::string trim(std::string_view s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.remove_suffix(1);
    return std::string(s.substr(0, 32));
}

bool looksLikePickle(std::string_view b)
{
    return b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0x80 && static_cast<uint8_t>(b[1]) <= 5 && b.back() == '.';
}

// Locates every storage's record and checks its size against what the pickle declares.
// Records of the data folder leave their member empty (Document::storageMember names it).
void resolveZipStorages(Document &doc, size_t first, const std::string &dir)
{
    std::string member;
    for (size_t i = first; i < doc.storages.size(); ++i) {
        StorageInfo &s = doc.storages[i];
        member.assign(dir).append(s.key);
        if (dir != doc.storageFolder)
            s.member = member;
        if (!s.error.empty())
            continue;
        const ZipEntry *e = doc.zip->find(member);
        if (!e) {
            s.error = "record " + member + " is missing from the archive";
            continue;
        }
        if (e->method != 0) {
            s.error = "record " + member + " is compressed; PyTorch stores tensor data uncompressed";
            continue;
        }
        uint64_t expected = 0;
        if (__builtin_mul_overflow(s.numel, static_cast<uint64_t>(dtypeItemSize(s.dtype)), &expected)) {
            s.error = "declared element count overflows 64 bits";
            continue;
        }
        if (e->dataOffset == ZipEntry::kUnlocated)
            s.zipEntry = static_cast<int32_t>(e - doc.zip->entries().data());
        else
            s.fileOffset = e->dataOffset;
        s.nbytes = e->size;
        if (e->size < expected) {
            s.error = "storage declares " + std::to_string(s.numel) + " elements (" + std::to_string(expected) +
                      " bytes) but record " + member + " holds " + std::to_string(e->size) + " bytes";
            continue;
        }
        s.resolved = true;
    }
}

} // namespace

// PyTorch refuses archives whose version record is above what it knows
// (caffe2/serialize/versions.h: kMaxSupportedFileFormatVersion); so do we, saying why.
static void checkFormatVersion(const std::string &version, const std::string &member)
{
    constexpr uint64_t kMaxKnown = 10;
    if (version.empty() || version.find_first_not_of("0123456789") != std::string::npos)
        return;
    const size_t first = std::min(version.find_first_not_of('0'), version.size());
    if (version.size() - first > 18 || std::stoull("0" + version.substr(first)) > kMaxKnown)
        throw ReadError("written by a newer PyTorch: the archive's format version is " + version +
                            ", and the newest this program (like PyTorch of its time) reads is " +
                            std::to_string(kMaxKnown) + "; a newer Torch Explorer may read it",
                        member);
}

void readZipDocument(Document &doc, const ReadOptions &options)
{
    if (!doc.zip)
        doc.zip = std::make_unique<ZipArchive>(doc.file, ZipArchive::Offsets::Later);
    const auto &entries = doc.zip->entries();
    if (entries.empty())
        throw ReadError("not a PyTorch file: an empty zip archive", doc.path);
    // PyTorch takes the folder of the first entry as the archive's prefix and reads
    // only <prefix>/data.pkl; read exactly that, so we see what the loader sees.
    const std::string first(entries.front().name);
    size_t slash = first.find('/');
    if (slash == std::string::npos)
        throw ReadError("not a PyTorch file: a zip archive whose first entry '" + first + "' is not in a folder",
                        doc.path);
    const std::string prefix = first.substr(0, slash + 1);
    const ZipEntry *dataPkl = doc.zip->find(prefix + "data.pkl");
    if (!dataPkl)
        throw ReadError("not a PyTorch file: a zip archive without " + prefix + "data.pkl", doc.path);
    for (const auto &name : doc.zip->duplicateNames())
        doc.security.findings.push_back("the archive holds more than one member named " + name +
                                        "; loaders may disagree on which one they read");
    const ZipEntry *constants = doc.zip->find(prefix + "constants.pkl");
    doc.format = constants ? FileFormat::TorchScript : FileFormat::TorchZip;

    // The small members read first are located now; every other member's local header is
    // read on a second thread while the pickle runs (for a checkpoint of many tensors that
    // pass costs a tenth of the reading), and joined before the storages are resolved.
    auto small = [&](const std::string &name) {
        const ZipEntry *e = doc.zip->find(name);
        if (e)
            doc.zip->locate(*e);
        return e;
    };
    std::string version;
    if (const ZipEntry *v = small(prefix + "version"))
        version = trim(doc.zip->read(*v, 64));
    else if (const ZipEntry *v2 = small(prefix + ".data/version"))
        version = trim(doc.zip->read(*v2, 64));
    checkFormatVersion(version, prefix + "version");
    std::string byteorder;
    if (const ZipEntry *b = small(prefix + "byteorder"))
        byteorder = trim(doc.zip->read(*b, 64));
    if (byteorder == "big")
        doc.warnings.push_back("tensor data is big-endian; values are shown as stored, byte-swapped");
    doc.producer = std::string(constants ? "TorchScript archive" : "PyTorch torch.save (zip)") +
                   (version.empty() ? "" : ", format version " + version);

    doc.zip->locate(*dataPkl);
    if (constants)
        doc.zip->locate(*constants);
    const std::string pklName(dataPkl->name);
    reportProgress(options, 0.1, "reading " + pklName);
    checkCancel(options);
    // A remote archive locates each storage when its bytes are wanted: reading every local
    // header up front would cost a request per tensor.
    const bool remote = doc.file->remote();
    BackgroundTask headers([&doc, remote] {
        if (!remote)
            doc.zip->locateAll();
    });
    // Each storage is a member of the archive, and usually holds one tensor: room for
    // them all up front, rather than copying the tables as they grow.
    doc.storages.reserve(entries.size());
    doc.tensors.reserve(entries.size());
    try {
        // torch.jit.load's reader takes persistent ids field by field and ignores extra
        // ones; torch.load unpacks exactly five.
        TorchPickleHooks hooks(doc, pklName, constants ? StorageIdLayout::Any : StorageIdLayout::Zip);
        doc.root = runPickle(doc, doc.zip->read(*dataPkl), pklName, &hooks, options, nullptr, &doc.pickleProtocol);
        doc.storageFolder = prefix + "data/";
        if (headers.wait())
            resolveZipStorages(doc, 0, doc.storageFolder);
    } catch (const ReadError &e) {
        doc.error = e.what();
        doc.security.complete = false;
    }
    headers.finish(); // a broken local header fails the whole archive, as it always did
    if (constants) {
        try {
            size_t firstStorage = doc.storages.size();
            const std::string constName(constants->name);
            TorchPickleHooks hooks(doc, constName);
            Value *c = runPickle(doc, doc.zip->read(*constants), constName, &hooks, options);
            resolveZipStorages(doc, firstStorage, prefix + "constants/");
            (void)c;
        } catch (const ReadError &e) {
            doc.warnings.push_back(std::string("constants: ") + e.what());
            doc.security.complete = false;
        }
        parseTorchScriptCode(doc, prefix);
    }
    // Storage errors make their tensors unreadable, with the reason.
    for (auto &t : doc.tensors)
        if (t.error.empty() && t.storage >= 0 && !doc.storages[static_cast<size_t>(t.storage)].error.empty())
            t.error = doc.storages[static_cast<size_t>(t.storage)].error;

    // Any other pickle in the archive is read for its globals: a decoy data.pkl under
    // another prefix is exactly what scanners that disagree with the loader miss.
    for (const auto &e : entries) {
        if (&e == dataPkl || &e == constants)
            continue;
        bool underPrefix = e.name.compare(0, prefix.size(), prefix) == 0;
        bool inData = underPrefix && (e.name.compare(prefix.size(), 5, "data/") == 0 ||
                                      e.name.compare(prefix.size(), 10, "constants/") == 0);
        if (inData || e.size > (uint64_t(64) << 20))
            continue;
        bool named = (e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".pkl") == 0) ||
                     e.name.find(".debug_pkl") != std::string::npos;
        std::string_view bytes;
        try {
            doc.zip->locate(e);
            bytes = doc.zip->read(e, uint64_t(64) << 20);
        } catch (const ReadError &) {
            continue;
        }
        if (!named && !looksLikePickle(bytes))
            continue;
        // TorchScript's debug_pkl members are read by torch.jit.load: scanned, not news.
        bool readByLoader = underPrefix && e.name.find(".debug_pkl") != std::string::npos;
        scanExtraPickle(doc, bytes, std::string(e.name), options, !readByLoader);
    }
}

} // namespace te
