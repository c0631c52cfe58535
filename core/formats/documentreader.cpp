#include "core/formats/documentreader.h"
#include "core/formats/dcpreader.h"
#include "core/formats/folderreader.h"
#include "core/formats/formatdetector.h"
#include "core/formats/hubcache.h"
#include "core/formats/notcheckpoint.h"
#include "core/formats/pickledocumentreader.h"
#include "core/formats/pt2reader.h"
#include "core/formats/readersupport.h"
#include "core/formats/safetensorsreader.h"
#include "core/formats/tardocumentreader.h"
#include "core/formats/zipdocumentreader.h"
#include "core/hub/hubdocument.h"

#include "core/document/documentanalyzer.h"
#include "core/io/readerror.h"
#include "core/security/securityscanner.h"
#include <algorithm>
#include <filesystem>

namespace te {

void reportProgress(const ReadOptions &options, double fraction, const std::string &label)
{
    if (options.progress)
        options.progress(fraction, label);
}

void mergeScan(Document &doc, const Document &part, const std::string &name)
{
    for (GlobalRef g : part.globals) {
        g.member = name + ": " + g.member;
        doc.globals.push_back(std::move(g));
    }
    for (const auto &f : part.security.findings)
        if (!isVerdictFinding(f))
            doc.security.findings.push_back(name + ": " + f);
}

void checkCancel(const ReadOptions &options)
{
    if (options.cancel && options.cancel->load())
        throw Cancelled();
}

Value *runPickle(Document &doc, std::string_view bytes, const std::string &member, PickleHooks *hooks,
                 const ReadOptions &options, uint64_t *endOffset, int *protocol)
{
    PickleMachine machine(*doc.arena, bytes, member, hooks, options.limits);
    // What has been read is in values now: the pickle's pages of the map need not stay
    // (data.pkl of a checkpoint of many tensors is tens of megabytes).
    const auto at = reinterpret_cast<uintptr_t>(bytes.data());
    const auto mapped = doc.file ? reinterpret_cast<uintptr_t>(doc.file->data()) : 0;
    const bool inMap =
        doc.file && at >= mapped && at - mapped <= doc.file->size() && bytes.size() <= doc.file->size() - (at - mapped);
    const uint64_t start = at - mapped;
    if (inMap)
        machine.onRead([&doc, start](uint64_t read) { doc.file->release(start, read); });
    try {
        Value *v = machine.run(options.cancel);
        if (inMap)
            doc.file->release(start, machine.endOffset());
        doc.globals.insert(doc.globals.end(), machine.globals().begin(), machine.globals().end());
        if (endOffset)
            *endOffset = machine.endOffset();
        if (protocol)
            *protocol = machine.protocol();
        return v;
    } catch (...) {
        doc.globals.insert(doc.globals.end(), machine.globals().begin(), machine.globals().end());
        throw;
    }
}

namespace {

// For pickles read only for their globals: persistent ids stay as they are, so a decoy
// that references storages is read to its end.
class SymbolicHooks : public PickleHooks {
public:
    Value *persistentLoad(ValueArena &, Value *pid, int64_t) override { return pid; }
    Value *reduce(ValueArena &, Value *, Value *, int64_t) override { return nullptr; }
};

} // namespace

uint64_t scanExtraPickle(Document &doc, std::string_view bytes, const std::string &member, const ReadOptions &options,
                         bool notLoaded)
{
    ValueArena scratch;
    SymbolicHooks hooks;
    PickleMachine machine(scratch, bytes, member, &hooks, options.limits);
    uint64_t end = 0;
    try {
        machine.run(options.cancel);
        end = machine.endOffset();
    } catch (const ReadError &) {
        // A decoy need not be a valid pickle; what it references is what matters.
    }
    for (GlobalRef g : machine.globals()) {
        g.member = member;
        doc.globals.push_back(std::move(g));
    }
    if (notLoaded)
        doc.security.findings.push_back(member + " holds a pickle that PyTorch's loader does not read; it was "
                                                 "scanned as well");
    return end;
}

std::unique_ptr<Document> readDocument(const std::string &path, const ReadOptions &options)
{
    // Folders, index files and the hub cache are Hugging Face models; anything else is
    // one file, recognised by its content.
    if (isHubReference(path))
        return readHubDocument(path, options);
    std::error_code ec;
    if (isDcpCheckpoint(path))
        return readDcpDocument(path, options);
    if (std::filesystem::is_directory(path, ec))
        return readFolderDocument(path, {}, options);
    const std::string indexSuffix = ".index.json";
    if (path.size() > indexSuffix.size() &&
        path.compare(path.size() - indexSuffix.size(), indexSuffix.size(), indexSuffix) == 0) {
        const std::filesystem::path p(path);
        auto doc =
            readFolderDocument(p.has_parent_path() ? p.parent_path().string() : ".", p.filename().string(), options);
        doc->path = path;
        return doc;
    }
    return readDocument(MappedFile::open(path), options);
}

namespace {

constexpr uint64_t kWholeRemoteLimit = uint64_t(256) << 20;

void readAs(Container container, Document &doc, const ReadOptions &options)
{
    switch (container) {
    case Container::Zip: {
        // A torch.export archive is a zip of its own layout; anything else is torch.save's.
        doc.zip = std::make_unique<ZipArchive>(doc.file, ZipArchive::Offsets::Later);
        std::string prefix;
        if (isPt2Archive(*doc.zip, &prefix)) {
            readPt2Document(doc, prefix, options);
            break;
        }
        if (isLegacyExportArchive(*doc.zip)) {
            readLegacyPt2Document(doc, options);
            break;
        }
        try {
            readZipDocument(doc, options);
        } catch (const ReadError &e) {
            // A zip that is not torch.save's: say what it is (a .pt2, an .npz, ...).
            if (doc.zip && e.message().rfind("not a PyTorch file: a zip archive", 0) == 0) {
                std::vector<std::string> names;
                for (const auto &entry : doc.zip->entries())
                    names.emplace_back(entry.name);
                throw ReadError("not a PyTorch file: it is " + describeZipWithoutPickle(names), doc.path);
            }
            throw;
        }
        break;
    }
    case Container::Pickle:
    case Container::Tar:
        // These keep no index of what they hold: where each record starts is found by
        // reading the one before it. A remote one is fetched whole, within a limit.
        if (doc.file->remote()) {
            if (doc.file->size() > kWholeRemoteLimit)
                throw ReadError("a " + std::string(containerName(container)) +
                                    " file keeps no index of its records, so it can only be read whole; at " +
                                    std::to_string(doc.file->size() >> 20) +
                                    " MiB it is not fetched for that: download it and open the copy",
                                doc.path);
            doc.file->need(0, doc.file->size());
        }
        if (container == Container::Pickle)
            readPickleDocument(doc, options);
        else
            readTarDocument(doc, options);
        break;
    case Container::Safetensors: readSafetensorsDocument(doc, options); break;
    case Container::Unknown: throw ReadError("not a PyTorch file: it is " + describeNotCheckpoint(*doc.file), doc.path);
    }
}

std::unique_ptr<Document> freshDocument(const std::shared_ptr<const MappedFile> &file)
{
    auto doc = std::make_unique<Document>();
    doc->path = file->path();
    doc->file = file;
    return doc;
}

} // namespace

std::unique_ptr<Document> readDocument(std::shared_ptr<const MappedFile> file, const ReadOptions &options)
{
    // Containers nest files of their own (a .pt2's torch.save, a distributed checkpoint's
    // chunks); a crafted file could nest without end.
    thread_local int depth = 0;
    if (depth >= 4)
        throw ReadError("files nested more than 4 deep inside each other: not something PyTorch writes", file->path());
    struct Nesting {
        Nesting() { ++depth; }
        ~Nesting() { --depth; }
    } nesting;
    reportProgress(options, 0.0, "detecting the format");
    // A remote file's first request: its head, which holds any magic number, a
    // safetensors header and a torch zip's data.pkl (a zip's tail is read when asked for).
    if (file->remote())
        file->need(0, kRemoteHead);
    const Detection d = detectContainer(*file);
    auto doc = freshDocument(file);
    if (d.candidates.empty())
        readAs(Container::Unknown, *doc, options);
    // Each candidate's structure checked out; when its reader still fails, the next one
    // may be right. The first failure is the one reported when none reads.
    std::unique_ptr<ReadError> firstError;
    bool read = false;
    for (size_t i = 0; i < d.candidates.size() && !read; ++i) {
        try {
            readAs(d.candidates[i], *doc, options);
            read = true;
            if (firstError)
                doc->warnings.push_back(std::string("read as ") + containerName(d.candidates[i]) +
                                        " after reading it as " + containerName(d.candidates.front()) +
                                        " failed: " + firstError->what());
        } catch (const ReadError &e) {
            if (!firstError)
                firstError = std::make_unique<ReadError>(e);
            doc = freshDocument(file);
        }
    }
    if (!read)
        throw *firstError;
    // A file that is also a well-formed pickle is what torch.load would run, whatever
    // else it is: scan that pickle too (a safetensors/pickle or zip/pickle polyglot).
    const Container chosen = doc->format == FileFormat::Safetensors ? Container::Safetensors
                             : doc->zip                             ? Container::Zip
                                                                    : Container::Unknown;
    if (chosen != Container::Unknown &&
        std::find(d.candidates.begin(), d.candidates.end(), Container::Pickle) != d.candidates.end()) {
        if (doc->file->remote() && doc->file->size() <= kWholeRemoteLimit)
            doc->file->need(0, doc->file->size());
        if (!doc->file->remote() || doc->file->size() <= kWholeRemoteLimit)
            scanExtraPickle(*doc, doc->file->view(), "the whole file read as a pickle", options, false);
        doc->security.findings.push_back("the file is also a well-formed pickle, which torch.load would read instead "
                                         "of the " +
                                         std::string(containerName(chosen)) +
                                         " it looks like; its globals are "
                                         "listed too");
    }
    checkCancel(options);
    if (doc->file->damaged())
        throw ReadError(doc->file->remote() ? "internal: bytes of the remote file were read before they were fetched"
                                            : "the file was cut short on disk while it was being read",
                        doc->path);
    reportProgress(options, 0.8, "understanding the structure");
    analyzeDocument(*doc);
    scanSecurity(*doc);
    reportProgress(options, 1.0, "done");
    return doc;
}

} // namespace te
