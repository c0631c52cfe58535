// The .pt2 layouts before the PT2 Archive Spec: torch.export.save of PyTorch 2.1 to 2.7
// (serialized_*.pt members), and the weights as one torch.save per model that 2.8 wrote
// into the archive (data/weights/<model>.pt). Both nest whole torch.save files, stored,
// which are read as documents of their own, in place.
#include "core/formats/pt2reader.h"
#include "core/formats/readersupport.h"
#include "core/io/readerror.h"
#include "core/io/ziparchive.h"

namespace te {
namespace {

constexpr uint64_t kMaxCompressedSave = uint64_t(1) << 30;

// "conv.weight: float32[4, 2, 3, 3]" for each tensor of a nested save, for the metadata.
nlohmann::json describeTensors(const Document &part)
{
    nlohmann::json out = nlohmann::json::array();
    for (const TensorEntry &e : part.entries) {
        const TensorInfo &t = part.tensors[static_cast<size_t>(e.tensor)];
        std::string shape;
        for (int64_t d : t.shape)
            shape += (shape.empty() ? "" : ", ") + std::to_string(d);
        out.push_back((e.key.empty() ? std::string("(the whole object)") : e.key) + ": " + dtypeName(t.dtype) + "[" +
                      shape + "]");
    }
    return out;
}

} // namespace

const Document *readNestedSave(Document &doc, const ZipEntry &e, const std::string &keyPrefix, bool tensors,
                               const ReadOptions &options)
{
    const std::string name(e.name);
    doc.zip->locate(e);
    std::shared_ptr<const MappedFile> inner;
    if (e.method == 0 && e.compressedSize == e.size)
        inner = MappedFile::slice(doc.file, e.dataOffset, e.size, doc.path + ": " + name);
    else
        inner = MappedFile::fromBytes(std::string(doc.zip->read(e, kMaxCompressedSave)), doc.path + ": " + name);
    ReadOptions own;
    own.cancel = options.cancel;
    own.limits = options.limits;
    std::unique_ptr<Document> part;
    try {
        part = readDocument(inner, own);
    } catch (const ReadError &err) {
        throw ReadError(std::string("the torch.save inside it cannot be read: ") + err.what(), name);
    }
    mergeScan(doc, *part, name);
    for (const auto &w : part->warnings)
        doc.warnings.push_back(name + ": " + w);
    if (!part->error.empty())
        doc.error += (doc.error.empty() ? "" : "; ") + name + ": " + part->error;
    if (tensors) {
        const int storageBase = static_cast<int>(doc.storages.size());
        for (StorageInfo s : part->storages) {
            if (!s.file)
                s.file = part->file;
            s.member = name + ": " + part->storageMember(s);
            doc.storages.push_back(std::move(s));
        }
        for (const TensorEntry &entry : part->entries) {
            TensorInfo t = part->tensors[static_cast<size_t>(entry.tensor)];
            if (t.storage >= 0)
                t.storage += storageBase;
            doc.entries.push_back({keyPrefix + entry.key, static_cast<int>(doc.tensors.size())});
            doc.tensors.push_back(std::move(t));
        }
    }
    doc.parts.push_back(std::move(part));
    return doc.parts.back().get();
}

bool isLegacyExportArchive(const ZipArchive &zip)
{
    return zip.find("serialized_exported_program.json") != nullptr && zip.find("archive_format") == nullptr;
}

void readLegacyPt2Document(Document &doc, const ReadOptions &options)
{
    doc.format = FileFormat::TorchExport;
    std::string version;
    if (const ZipEntry *v = pt2Member(doc, "version"))
        version = pt2Trimmed(doc.zip->read(*v, 64));
    doc.producer = "torch.export program (.pt2 as PyTorch 2.1 to 2.7 saved it" +
                   (version.empty() ? std::string() : ", schema " + version) + ")";
    doc.metadata["models"] = nlohmann::json::array({"model"});
    reportProgress(options, 0.2, "reading the program");
    try {
        if (const ZipEntry *program = pt2Member(doc, "serialized_exported_program.json"))
            describeExportProgram(doc, pt2MemberJson(doc, *program), "model");
    } catch (const ReadError &e) {
        doc.error += (doc.error.empty() ? "" : "; ") + std::string(e.what());
    }
    struct Nested {
        const char *member;
        bool tensors;
        const char *metadata;
    };
    for (const Nested &n : {Nested{"serialized_state_dict.pt", true, nullptr},
                            Nested{"serialized_constants.pt", false, "constants.model"},
                            Nested{"serialized_example_inputs.pt", false, "sample_inputs.model"}}) {
        checkCancel(options);
        const ZipEntry *e = pt2Member(doc, n.member);
        if (!e) {
            if (n.tensors)
                doc.warnings.push_back(std::string("the archive has no ") + n.member + ": the program has no weights");
            continue;
        }
        try {
            const Document *part = readNestedSave(doc, *e, "", n.tensors, options);
            if (n.metadata)
                doc.metadata[n.metadata] = std::string(n.member) == "serialized_constants.pt"
                                               ? describeTensors(*part)
                                               : nlohmann::json(std::string(n.member) + " (" + std::to_string(e->size) +
                                                                " bytes, torch.save of (args, kwargs))");
        } catch (const ReadError &err) {
            // The program is still described; what could not be read is said.
            (n.tensors ? doc.error : doc.warnings.emplace_back()) +=
                (n.tensors && !doc.error.empty() ? "; " : "") + std::string(err.what());
        }
    }
    nlohmann::json extra = nlohmann::json::array();
    for (const auto &e : doc.zip->entries())
        if (e.name.compare(0, 12, "extra_files/") == 0)
            extra.push_back(std::string(e.name.substr(12)));
    if (!extra.empty())
        doc.metadata["extra_files"] = extra;
    doc.stateDicts.push_back("");
}

} // namespace te
