#include "core/formats/dcpreader.h"
#include "core/formats/dcpchunks.h"
#include "core/formats/readersupport.h"

#include "core/document/documentanalyzer.h"
#include "core/io/readerror.h"
#include "core/security/securityscanner.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace te {
namespace {

constexpr uint64_t kMaxMetadata = uint64_t(1) << 30;

// The class of an object the pickle built, by its last name: DCP's classes moved between
// modules over the versions (torch.distributed._shard.checkpoint in 1.13 and 2.0).
std::string classOf(const Value *v)
{
    if (!v || (v->kind != ValueKind::Object && v->kind != ValueKind::Call) || !v->callee ||
        v->callee->kind != ValueKind::Global)
        return {};
    return v->callee->name.str();
}

// A dataclass field: the state BUILD set (a dict, or (dict, slots) for classes with slots).
const Value *field(const Value *obj, const char *name)
{
    if (!obj || !obj->state)
        return nullptr;
    const Value *st = obj->state;
    if (st->kind == ValueKind::Dict)
        return st->get(name);
    if (st->kind == ValueKind::Tuple && st->items.size() == 2)
        for (const Value *part : st->items)
            if (part && part->kind == ValueKind::Dict)
                if (const Value *v = part->get(name))
                    return v;
    return nullptr;
}

bool isInt(const Value *v) { return v && (v->kind == ValueKind::Int || v->kind == ValueKind::Bool); }

// torch.Size((...)), or a plain tuple or list of ints.
bool intsOf(const Value *v, std::vector<int64_t> *out)
{
    out->clear();
    if (v && v->kind == ValueKind::Call && v->callee && v->callee->isGlobal("torch", "Size") && v->args &&
        v->args->kind == ValueKind::Tuple && v->args->items.size() == 1)
        v = v->args->items[0];
    if (!v || (v->kind != ValueKind::Tuple && v->kind != ValueKind::List))
        return false;
    for (const Value *i : v->items) {
        if (!isInt(i))
            return false;
        out->push_back(i->integer);
    }
    return true;
}

std::string text(const Value *v) { return v && v->kind == ValueKind::String ? v->text : std::string(); }

std::string dims(const std::vector<int64_t> &v)
{
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

// TensorProperties: since 2.1 its state is (dtype, layout, requires_grad, memory_format,
// pin_memory); before, the dataclass's dict.
void properties(const Value *p, DType *dtype, bool *requiresGrad)
{
    const Value *dt = nullptr, *grad = nullptr;
    if (p && p->state && p->state->kind == ValueKind::Tuple && !p->state->items.empty()) {
        dt = p->state->items[0];
        if (p->state->items.size() > 2)
            grad = p->state->items[2];
    } else {
        dt = field(p, "dtype");
        grad = field(p, "requires_grad");
    }
    *dtype = dt && dt->kind == ValueKind::Global && dt->text == "torch" ? dtypeFromTorchName(dt->name.str())
                                                                        : DType::Unknown;
    *requiresGrad = grad && grad->kind == ValueKind::Bool && grad->boolean;
}

struct StorageRef {
    std::string file;
    uint64_t offset = 0;
    uint64_t length = 0;
    std::string transforms; // transform_descriptors, when any (compression): not readable
};

class DcpReader {
public:
    DcpReader(Document &doc, fs::path folder, const ReadOptions &options)
        : m_doc(doc)
        , m_folder(std::move(folder))
        , m_options(options)
    { }

    // Problems of the metadata as a whole end the reading with Document::error set, so that
    // what its pickle holds is still scanned and reported.
    void read()
    {
        const Value *meta = nullptr;
        try {
            meta = runPickle(m_doc, m_doc.file->view().substr(0, kMaxMetadata), ".metadata", nullptr, m_options,
                             nullptr, &m_doc.pickleProtocol);
        } catch (const ReadError &e) {
            m_doc.error = e.what();
            m_doc.security.complete = false;
            return;
        }
        if (classOf(meta) != "Metadata") {
            m_doc.error = "not a distributed checkpoint's metadata: its pickle holds " +
                          (classOf(meta).empty() ? std::string(meta ? kindName(meta->kind) : "nothing")
                                                 : meta->callee->globalName()) +
                          ", not a Metadata object";
            return;
        }
        const Value *sdm = field(meta, "state_dict_metadata");
        if (!sdm || sdm->kind != ValueKind::Dict)
            throw ReadError("the checkpoint's metadata has no state_dict_metadata", ".metadata");
        readStorageData(field(meta, "storage_data"));
        readPlannerData(field(meta, "planner_data"));
        describeMetadata(meta, sdm);

        m_root = pinned(ValueKind::Dict);
        size_t done = 0;
        for (const auto &[k, item] : sdm->entries) {
            checkCancel(m_options);
            reportProgress(m_options, 0.1 + 0.7 * double(done++) / double(sdm->entries.size()), "reading the chunks");
            const std::string fqn = text(k);
            if (fqn.empty())
                continue;
            const std::string cls = classOf(item);
            Value *value = nullptr;
            if (cls == "TensorStorageMetadata")
                value = readTensor(fqn, item);
            else if (cls == "BytesStorageMetadata")
                value = readBytes(fqn);
            else
                m_doc.warnings.push_back(fqn + ": an entry of kind " + (cls.empty() ? "unknown" : cls) +
                                         " is not understood");
            if (value)
                place(fqn, value);
        }
        m_doc.root = m_root;
        m_doc.metadata["dcp.files"] = m_filesUsed.size();
        m_doc.producer = "PyTorch distributed checkpoint (" + std::to_string(sdm->entries.size()) + " entries, " +
                         std::to_string(m_filesUsed.size()) + " data files)";
    }

private:
    void readStorageData(const Value *sd)
    {
        if (!sd || sd->kind != ValueKind::Dict)
            throw ReadError("the checkpoint's metadata has no storage_data", ".metadata");
        for (const auto &[index, info] : sd->entries) {
            const std::string fqn = text(field(index, "fqn"));
            std::vector<int64_t> offsets;
            intsOf(field(index, "offset"), &offsets);
            StorageRef ref;
            ref.file = text(field(info, "relative_path"));
            const Value *off = field(info, "offset"), *len = field(info, "length");
            if (fqn.empty() || ref.file.empty() || !isInt(off) || !isInt(len) || off->integer < 0 || len->integer < 0) {
                m_doc.warnings.push_back("storage_data holds an entry that is not an index and a storage place" +
                                         (fqn.empty() ? std::string() : " (" + fqn + ")"));
                continue;
            }
            ref.offset = static_cast<uint64_t>(off->integer);
            ref.length = static_cast<uint64_t>(len->integer);
            if (const Value *t = field(info, "transform_descriptors"); t && t->kind == ValueKind::List)
                for (const Value *d : t->items)
                    ref.transforms += (ref.transforms.empty() ? "" : ", ") + text(d);
            m_storage[{fqn, offsets}] = std::move(ref);
        }
    }

    void readPlannerData(const Value *pd)
    {
        if (!pd || pd->kind != ValueKind::Dict)
            return;
        for (const auto &[k, path] : pd->entries)
            if (k && k->kind == ValueKind::String && path &&
                (path->kind == ValueKind::Tuple || path->kind == ValueKind::List))
                m_paths[k->text] = path;
    }

    void describeMetadata(const Value *meta, const Value *sdm)
    {
        if (const Value *v = field(meta, "version"); v && v->kind == ValueKind::String)
            m_doc.metadata["dcp.version"] = v->text;
        if (const Value *sm = field(meta, "storage_meta")) {
            // A string, or a pathlib path pickled as PosixPath(*parts).
            const Value *id = field(sm, "checkpoint_id");
            std::string path = text(id);
            if (id && id->kind == ValueKind::Call && id->args && id->args->kind == ValueKind::Tuple)
                for (const Value *part : id->args->items)
                    path += (path.empty() || path.back() == '/' ? "" : "/") + text(part);
            if (!path.empty())
                m_doc.metadata["dcp.checkpoint_id"] = path;
            if (const Value *save = field(sm, "save_id"); save && save->kind == ValueKind::String)
                m_doc.metadata["dcp.save_id"] = save->text;
        }
        m_doc.metadata["dcp.entries"] = sdm->entries.size();
    }

    // The data file, mapped once; null (with the reason kept) when it cannot be opened.
    std::shared_ptr<const MappedFile> dataFile(const std::string &name, std::string *why)
    {
        auto it = m_files.find(name);
        if (it != m_files.end()) {
            *why = it->second.second;
            return it->second.first;
        }
        std::shared_ptr<const MappedFile> f;
        std::string error;
        const fs::path p = m_folder / name;
        if (name.find('/') != std::string::npos || name == ".." || name == ".")
            error = "the data file " + name + " would lie outside the checkpoint's folder";
        else if (std::error_code ec; !fs::is_regular_file(p, ec))
            error = "the data file " + name + " is missing";
        else
            try {
                f = MappedFile::open(p.string());
            } catch (const ReadError &e) {
                error = e.what();
            }
        if (f)
            m_filesUsed.insert(name);
        m_files[name] = {f, error};
        *why = error;
        return f;
    }

    // The torch.save a storage place holds, read as a document of its own; null with *why.
    std::unique_ptr<Document> savedObject(const std::string &fqn, const std::vector<int64_t> &offsets,
                                          std::string *where, std::string *why)
    {
        auto it = m_storage.find({fqn, offsets});
        if (it == m_storage.end()) {
            *why = "no storage_data entry says where its bytes are";
            return nullptr;
        }
        const StorageRef &ref = it->second;
        *where = ref.file + " at byte " + std::to_string(ref.offset);
        if (!ref.transforms.empty()) {
            *why = "its bytes were transformed when saved (" + ref.transforms + "), which this program does not undo";
            return nullptr;
        }
        auto file = dataFile(ref.file, why);
        if (!file)
            return nullptr;
        if (ref.offset > file->size() || ref.length > file->size() - ref.offset) {
            *why = "its bytes (" + std::to_string(ref.offset) + " to " + std::to_string(ref.offset + ref.length) +
                   ") lie outside " + ref.file + ", which has " + std::to_string(file->size()) + " bytes";
            return nullptr;
        }
        const std::string name = ref.file + "@" + std::to_string(ref.offset);
        try {
            ReadOptions inner;
            inner.cancel = m_options.cancel;
            inner.limits = m_options.limits;
            auto part = readDocument(MappedFile::slice(file, ref.offset, ref.length, name), inner);
            mergeScan(m_doc, *part, name);
            // Finding the zip's directory touched up to 64 KiB before the slice's end, which
            // over thousands of chunks would add up; the pages are not needed again.
            constexpr uint64_t kSlack = uint64_t(128) << 10;
            const uint64_t from = ref.offset > kSlack ? ref.offset - kSlack : 0;
            file->release(from, ref.offset + ref.length - from);
            return part;
        } catch (const ReadError &e) {
            *why = "its torch.save at " + *where + " cannot be read: " + e.what();
            return nullptr;
        }
    }

    // A value of the document's arena that stays: the tree built here holds no counts.
    Value *pinned(ValueKind kind)
    {
        Value *v = m_doc.arena->make(kind);
        ValueArena::pin(v);
        return v;
    }

    Value *tensorValue(TensorInfo t)
    {
        Value *v = pinned(ValueKind::Tensor);
        v->integer = static_cast<int64_t>(m_doc.tensors.size());
        t.value = v;
        m_doc.tensors.push_back(std::move(t));
        return v;
    }

    // A chunk's saved tensor, copied into this document's tables, with its storage.
    int adoptStorage(const Document &part, const TensorInfo &t)
    {
        StorageInfo s = part.storages[static_cast<size_t>(t.storage)];
        s.member = part.path + ": " + part.storageMember(s);
        if (!s.file)
            s.file = part.file;
        m_doc.storages.push_back(std::move(s));
        return static_cast<int>(m_doc.storages.size() - 1);
    }

    Value *failedTensor(const std::string &fqn, TensorInfo t, const std::string &why)
    {
        t.error = why;
        m_doc.warnings.push_back(fqn + ": " + why);
        return tensorValue(std::move(t));
    }

    Value *readTensor(const std::string &fqn, const Value *item)
    {
        TensorInfo t;
        properties(field(item, "properties"), &t.dtype, &t.requiresGrad);
        if (!intsOf(field(item, "size"), &t.shape))
            return failedTensor(fqn, t, "its size is not a list of integers");
        t.strides = contiguousStrides(t.shape);
        if (t.dtype == DType::Unknown)
            return failedTensor(fqn, t, "its dtype is not one PyTorch names");
        const Value *chunkList = field(item, "chunks");
        if (!chunkList || chunkList->kind != ValueKind::List || chunkList->items.empty())
            return failedTensor(fqn, t, "it lists no chunks");
        std::vector<DcpChunk> chunks;
        for (const Value *c : chunkList->items) {
            DcpChunk chunk;
            if (!intsOf(field(c, "offsets"), &chunk.offsets) || !intsOf(field(c, "sizes"), &chunk.sizes))
                return failedTensor(fqn, t, "a chunk has no offsets and sizes");
            chunks.push_back(std::move(chunk));
        }
        std::string problem;
        for (DcpChunk &chunk : chunks) {
            std::string why;
            auto part = savedObject(fqn, chunk.offsets, &chunk.where, &why);
            // A torch.save of the tensor; or, with serialization_format=SAFETENSORS, a
            // safetensors file of one tensor.
            const TensorInfo *saved = nullptr;
            if (part && part->root && part->root->kind == ValueKind::Tensor)
                saved = &part->tensors[static_cast<size_t>(part->root->integer)];
            else if (part && !part->root && part->entries.size() == 1)
                saved = &part->tensors[static_cast<size_t>(part->entries.front().tensor)];
            else if (part)
                why = "what is saved at " + chunk.where + " is not one tensor";
            if (saved && (saved->shape != chunk.sizes || saved->dtype != t.dtype))
                why = "the tensor saved at " + chunk.where + " is " + dtypeName(saved->dtype) + " " +
                      dims(saved->shape) + ", not the chunk's " + dtypeName(t.dtype) + " " + dims(chunk.sizes);
            else if (saved && !saved->error.empty())
                why = "the tensor saved at " + chunk.where + " cannot be read: " + saved->error;
            if (!why.empty()) {
                problem += (problem.empty() ? "" : "; ") + ("the chunk at " + dims(chunk.offsets) + ": " + why);
                continue;
            }
            const StorageInfo &s = part->storages[static_cast<size_t>(saved->storage)];
            chunk.file = s.file ? s.file : part->file;
            chunk.storageOffset = s.fileOffset;
            chunk.strides = saved->strides;
            chunk.elementOffset = saved->storageOffset;
            if (chunks.size() == 1 && checkDcpCoverage(t.shape, chunks).empty()) {
                TensorInfo whole = *saved;
                whole.storage = adoptStorage(*part, *saved);
                whole.requiresGrad = t.requiresGrad;
                whole.error = OutOfLineString();
                return tensorValue(std::move(whole));
            }
        }
        const std::string coverage = checkDcpCoverage(t.shape, chunks);
        if (!coverage.empty())
            problem = coverage + (problem.empty() ? "" : "; " + problem);
        if (!problem.empty())
            return failedTensor(fqn, t, problem);
        StorageInfo s;
        s.key = fqn.size() < 64 ? fqn : fqn.substr(0, 63);
        s.location = "cpu";
        s.dtype = t.dtype;
        s.numel = static_cast<uint64_t>(t.numel());
        s.nbytes = t.nbytes();
        s.member = std::to_string(chunks.size()) + " chunks: " + chunkBoxes(chunks);
        s.file = assembleDcpTensor(m_doc.path + ": " + fqn, t.shape, t.dtype, std::move(chunks));
        s.resolved = true;
        m_doc.storages.push_back(std::move(s));
        t.storage = static_cast<int>(m_doc.storages.size() - 1);
        return tensorValue(std::move(t));
    }

    // "[0:4, 0:4] in __0_0.distcp, [4:8, 0:4] in __1_0.distcp": how the tensor is split
    // over the ranks' files (the first 8 chunks).
    static std::string chunkBoxes(const std::vector<DcpChunk> &chunks)
    {
        std::string s;
        for (size_t i = 0; i < chunks.size() && i < 8; ++i) {
            const DcpChunk &c = chunks[i];
            std::string box;
            for (size_t d = 0; d < c.offsets.size(); ++d)
                box += (d ? ", " : "") + std::to_string(c.offsets[d]) + ":" + std::to_string(c.offsets[d] + c.sizes[d]);
            s += (i ? ", " : "") + ("[" + box + "] in " + c.where.substr(0, c.where.find(' ')));
        }
        return chunks.size() > 8 ? s + ", ..." : s;
    }

    // A value that is not a tensor: a torch.save of the object. Plain values are copied
    // into the document; the rest is described.
    Value *readBytes(const std::string &fqn)
    {
        std::string where, why;
        auto part = savedObject(fqn, {}, &where, &why);
        if (!part) {
            m_doc.warnings.push_back(fqn + ": " + why);
            return stringValue("<unreadable: " + why + ">");
        }
        if (Value *copy = copyPlain(*part, part->root, 0))
            return copy;
        return stringValue("<an object saved at " + where + ">");
    }

    Value *stringValue(std::string s)
    {
        Value *v = pinned(ValueKind::String);
        v->text = std::move(s);
        return v;
    }

    // None, numbers, strings, tensors and lists, tuples and dicts of them, within limits.
    Value *copyPlain(const Document &part, const Value *v, int depth)
    {
        if (!v || depth > 16 || ++m_copied > 100000)
            return nullptr;
        switch (v->kind) {
        case ValueKind::None:
        case ValueKind::Bool:
        case ValueKind::Int:
        case ValueKind::BigInt:
        case ValueKind::Float:
        case ValueKind::String: {
            Value *c = pinned(v->kind);
            c->boolean = v->boolean;
            c->integer = v->integer;
            if (v->kind == ValueKind::Float)
                c->real = v->real;
            c->text = v->text;
            return c;
        }
        case ValueKind::Tensor: {
            TensorInfo t = part.tensors[static_cast<size_t>(v->integer)];
            if (t.storage >= 0)
                t.storage = adoptStorage(part, t);
            return tensorValue(std::move(t));
        }
        case ValueKind::List:
        case ValueKind::Tuple:
        case ValueKind::Dict: {
            Value *c = pinned(v->kind);
            c->ordered = v->ordered;
            for (const Value *i : v->items) {
                Value *ci = copyPlain(part, i, depth + 1);
                if (!ci)
                    return nullptr;
                c->items.push_back(ci);
            }
            for (const auto &[k, val] : v->entries) {
                Value *ck = copyPlain(part, k, depth + 1), *cv = copyPlain(part, val, depth + 1);
                if (!ck || !cv)
                    return nullptr;
                c->entries.push_back({ck, cv});
            }
            return c;
        }
        default: return nullptr;
        }
    }

    // Puts the value where planner_data says the key came from: {"model": {"layers.0.w":
    // ...}} for "model.layers.0.w" flattened from a nested state dict.
    void place(const std::string &fqn, Value *value)
    {
        std::vector<const Value *> path;
        auto it = m_paths.find(fqn);
        if (it != m_paths.end())
            for (const Value *p : it->second->items)
                path.push_back(p);
        if (path.empty() || std::any_of(path.begin(), path.end(), [](const Value *p) {
                return !p || (p->kind != ValueKind::String && p->kind != ValueKind::Int);
            })) {
            m_root->entries.push_back({stringValue(fqn), value});
            return;
        }
        // As DCP's unflattening does: a string key makes a dict, an index a list.
        Value *container = m_root;
        std::string at;
        for (size_t i = 0; i + 1 < path.size(); ++i) {
            at += "\n" + (path[i]->kind == ValueKind::String ? path[i]->text : std::to_string(path[i]->integer));
            Value *&child = m_containers[at];
            if (!child) {
                child = pinned(path[i + 1]->kind == ValueKind::Int ? ValueKind::List : ValueKind::Dict);
                if (!put(container, path[i], child))
                    return;
            }
            container = child;
        }
        put(container, path.back(), value);
    }

    bool put(Value *container, const Value *key, Value *value)
    {
        if (container->kind == ValueKind::Dict) {
            container->entries.push_back({keyValue(key), value});
            return true;
        }
        if (key->kind != ValueKind::Int || key->integer < 0 || key->integer > 1000000) {
            m_doc.warnings.push_back("planner_data holds an index that is not one: " + std::to_string(key->integer));
            return false;
        }
        while (container->items.size() <= static_cast<size_t>(key->integer)) {
            Value *none = pinned(ValueKind::None);
            container->items.push_back(none);
        }
        container->items[static_cast<size_t>(key->integer)] = value;
        return true;
    }

    Value *keyValue(const Value *p)
    {
        if (p->kind == ValueKind::String)
            return stringValue(p->text);
        Value *v = pinned(ValueKind::Int);
        v->integer = p->integer;
        return v;
    }

    Document &m_doc;
    fs::path m_folder;
    const ReadOptions &m_options;
    std::map<std::pair<std::string, std::vector<int64_t>>, StorageRef> m_storage;
    std::map<std::string, const Value *> m_paths;
    std::map<std::string, std::pair<std::shared_ptr<const MappedFile>, std::string>> m_files;
    std::set<std::string> m_filesUsed;
    std::map<std::string, Value *> m_containers;
    Value *m_root = nullptr;
    size_t m_copied = 0;
};

} // namespace

bool isDcpCheckpoint(const std::string &path)
{
    std::error_code ec;
    const fs::path p(path);
    if (fs::is_directory(p, ec))
        return fs::is_regular_file(p / ".metadata", ec);
    return p.filename() == ".metadata" && fs::is_regular_file(p, ec);
}

std::unique_ptr<Document> readDcpDocument(const std::string &path, const ReadOptions &options)
{
    std::error_code ec;
    const fs::path p(path);
    const fs::path folder = fs::is_directory(p, ec) ? p : (p.has_parent_path() ? p.parent_path() : fs::path("."));
    auto doc = std::make_unique<Document>();
    doc->path = path;
    doc->format = FileFormat::DistributedCheckpoint;
    reportProgress(options, 0.0, "reading the checkpoint's metadata");
    doc->file = MappedFile::open((folder / ".metadata").string());
    DcpReader(*doc, folder, options).read();
    checkCancel(options);
    reportProgress(options, 0.9, "understanding the structure");
    analyzeDocument(*doc);
    scanSecurity(*doc);
    reportProgress(options, 1.0, "done");
    return doc;
}

} // namespace te
