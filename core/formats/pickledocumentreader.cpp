#include "core/formats/pickledocumentreader.h"
#include "core/formats/readersupport.h"
#include "core/formats/torchpicklehooks.h"
#include "core/io/readerror.h"

#include <cstring>
#include <unordered_map>

namespace te {
namespace {

const char *const kLegacyMagic = "0x1950a86a20f9469cfc6c";

uint64_t readU64LE(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}

// After the fifth pickle: for each key of the sorted key list, an int64 element count
// and then the storage's bytes.
void resolveLegacyStorages(Document &doc, Value *keys, uint64_t pos)
{
    const uint64_t size = doc.file->size();
    if (!keys || keys->kind != ValueKind::List)
        throw ReadError("legacy format: the storage key list is not a list", "storage keys");
    std::unordered_map<std::string, size_t> byKey;
    for (size_t i = 0; i < doc.storages.size(); ++i)
        byKey.emplace(doc.storages[i].key, i);
    for (const Value *k : keys->items) {
        if (!k->isString())
            throw ReadError("legacy format: a storage key is not a string", "storage keys", static_cast<int64_t>(pos));
        auto found = byKey.find(k->text);
        StorageInfo *s = found == byKey.end() ? nullptr : &doc.storages[found->second];
        if (!s)
            throw ReadError("legacy format: storage " + k->text + " is listed but never used", "storage keys");
        if (size - pos < 8)
            throw ReadError("legacy format: file ends before the size of storage " + k->text, "storage " + k->text,
                            static_cast<int64_t>(pos));
        uint64_t count = readU64LE(doc.file->data() + pos);
        pos += 8;
        uint64_t item = static_cast<uint64_t>(dtypeItemSize(s->dtype));
        uint64_t bytes = 0;
        if (item == 0)
            throw ReadError("legacy format: storage " + k->text +
                                " has an unknown element type, so where the "
                                "storages after it begin is unknown",
                            "storage " + k->text, static_cast<int64_t>(pos - 8));
        if (__builtin_mul_overflow(count, item, &bytes) || bytes > size - pos)
            throw ReadError("legacy format: storage " + k->text + " claims " + std::to_string(count) +
                                " elements, more than the file holds",
                            "storage " + k->text, static_cast<int64_t>(pos - 8));
        s->member = "storage " + k->text;
        s->fileOffset = pos;
        s->nbytes = bytes;
        // A storage whose persistent id was malformed keeps its error; its bytes are only
        // stepped over, to the storages after it.
        if (s->error.empty() && count < s->numel)
            s->error = "storage record holds " + std::to_string(count) + " elements, the pickle declares " +
                       std::to_string(s->numel);
        s->resolved = s->error.empty();
        pos += bytes;
    }
    for (auto &s : doc.storages)
        if (s.member.empty() && s.error.empty())
            s.error = "storage " + s.key + " is not in the file's storage list";
}

std::string sysInfoText(const Value *v)
{
    if (!v || v->kind != ValueKind::Dict)
        return {};
    const Value *le = v->get("little_endian");
    if (le && le->kind == ValueKind::Bool && !le->boolean)
        return ", big-endian";
    return {};
}

} // namespace

void readPickleDocument(Document &doc, const ReadOptions &options)
{
    std::string_view bytes = doc.file->view();
    uint64_t pos = 0;
    TorchPickleHooks hooks(doc, "pickle");
    Value *first = nullptr;
    try {
        first = runPickle(doc, bytes, "pickle 1", &hooks, options, &pos, &doc.pickleProtocol);
    } catch (const ReadError &e) {
        doc.format = FileFormat::Pickle;
        doc.producer = "a pickle";
        doc.error = e.what();
        doc.security.complete = false;
        return;
    }
    if (!(first->kind == ValueKind::BigInt && first->text == kLegacyMagic)) {
        doc.format = FileFormat::Pickle;
        doc.producer = "a plain pickle (protocol " + std::to_string(doc.pickleProtocol) + ")";
        doc.root = first;
        // Bytes after STOP: pickle.load ignores them, but anything that reads pickles
        // back to back would run them, so a trailing pickle is scanned too.
        for (int n = 2; pos < bytes.size() && n < 18; ++n) {
            uint8_t next = static_cast<uint8_t>(bytes[pos]);
            if (next == 0 || (next != 0x80 && !std::strchr("(]}cNILFSVdl)K", next)))
                break;
            uint64_t used =
                scanExtraPickle(doc, bytes.substr(pos),
                                "pickle " + std::to_string(n) + " at byte " + std::to_string(pos), options, true);
            if (used == 0)
                break;
            pos += used;
        }
        if (pos < bytes.size())
            doc.warnings.push_back(std::to_string(bytes.size() - pos) +
                                   " bytes follow the pickle's STOP and were not read");
        for (auto &s : doc.storages)
            s.error = "a plain pickle carries no storage bytes";
        for (auto &t : doc.tensors)
            if (t.error.empty())
                t.error = "a plain pickle carries no storage bytes";
        return;
    }
    doc.format = FileFormat::TorchLegacy;
    // Each later pickle starts where the previous one stopped; members are named with
    // their file offset so errors point at the right bytes.
    uint64_t base = pos;
    auto next = [&](const char *what, PickleHooks *h, int *protocol) {
        uint64_t length = 0;
        std::string member = std::string(what) + " at file byte " + std::to_string(base);
        Value *v = runPickle(doc, bytes.substr(base), member, h, options, &length, protocol);
        base += length;
        return v;
    };
    try {
        Value *protocol = next("pickle 2 (protocol version)", &hooks, nullptr);
        if (protocol->kind != ValueKind::Int || protocol->integer != 1001)
            throw ReadError(protocol->kind == ValueKind::Int && protocol->integer > 1001
                                ? "legacy format: written by a newer PyTorch (protocol version " +
                                      std::to_string(protocol->integer) +
                                      "; this program, like every PyTorch so far, reads 1001)"
                                : std::string("legacy format: unsupported protocol version"),
                            "pickle 2", static_cast<int64_t>(pos));
        Value *sysInfo = next("pickle 3 (sys_info)", &hooks, nullptr);
        doc.producer = "PyTorch torch.save (legacy format 1001" + sysInfoText(sysInfo) + ")";
        reportProgress(options, 0.2, "reading the object pickle");
        TorchPickleHooks objectHooks(doc, "pickle 4 (object)", StorageIdLayout::Legacy);
        doc.root = next("pickle 4 (object)", &objectHooks, &doc.pickleProtocol);
        doc.classSources = objectHooks.classSources();
        Value *keys = next("pickle 5 (storage keys)", &hooks, nullptr);
        resolveLegacyStorages(doc, keys, base);
    } catch (const ReadError &e) {
        doc.error = e.what();
        doc.security.complete = doc.root != nullptr;
    }
    for (auto &t : doc.tensors) {
        if (!t.error.empty() || t.storage < 0)
            continue;
        const StorageInfo &s = doc.storages[static_cast<size_t>(t.storage)];
        if (!s.error.empty())
            t.error = s.error;
        else if (!s.resolved)
            t.error = "storage bytes were not found";
    }
}

} // namespace te
