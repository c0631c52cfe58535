#pragma once
// The opened file as plain values: the pickle's value tree, the storages and tensors it
// refers to (lazy references into the mapped file), the module tree, the state dicts
// found, metadata and the security report. Produced off the GUI thread, handed over whole.
#include "core/document/dtype.h"
#include "core/io/mappedfile.h"
#include "core/io/ziparchive.h"
#include "core/pickle/compactvector.h"
#include "core/pickle/picklemachine.h"
#include "core/pickle/value.h"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace te {

enum class FileFormat {
    Unknown,
    TorchZip,
    TorchScript,
    TorchLegacy,
    TorchTar,
    Pickle,
    Safetensors,
    HuggingFaceFolder,
    TorchExport,          // a .pt2 archive of torch.export (and AOTInductor packages)
    DistributedCheckpoint // a torch.distributed.checkpoint folder: .metadata and .distcp files
};
const char *formatName(FileFormat f); // "torch_zip", "torchscript", "torch_legacy", ...

// One storage as the pickle declares it, and where its bytes are in the file.
// (Members are small and ordered so that no padding is needed: a checkpoint may hold a
// hundred thousand of each. What most storages lack, a member name and an error, is held
// out of line.)
struct StorageInfo {
    ShortString key;                        // the persistent id's key ("0", "140245...")
    ShortString location;                   // saved device: "cpu", "cuda:0", "mps", "meta"
    uint64_t numel = 0;                     // in elements of dtype, as the pickle says
    std::shared_ptr<const MappedFile> file; // the file holding the bytes; null: Document::file
    uint64_t fileOffset = 0;                // first byte in the mapped file
    uint64_t nbytes = 0;                    // bytes actually present for this storage
    OutOfLineString member;                 // where the bytes are; empty for a record of the zip's
                                            // data folder: see Document::storageMember
    OutOfLineString error;                  // why the bytes cannot be used
    DType dtype = DType::Unknown;
    bool resolved = false; // bytes located and sizes agree
    // For a remote archive: the zip entry whose local header is read when the bytes are
    // first wanted (fileOffset is not known before); -1 when fileOffset is known.
    int32_t zipEntry = -1;
};

// A recognised tensor rebuild. Offsets and strides are in elements, as in PyTorch.
struct TensorInfo {
    std::vector<int64_t> shape;
    std::vector<int64_t> strides;
    int64_t storageOffset = 0;
    OutOfLineString layout; // empty: strided; or "sparse_coo", "quantized", ...
    OutOfLineString error;  // bounds or kind problem: the values cannot be read
    Value *value = nullptr;
    int storage = -1;
    DType dtype = DType::Unknown;
    bool requiresGrad = false;
    bool isParameter = false;

    int64_t numel() const; // -1 on overflow
    // Row-major without gaps (dimensions of size 0 or 1 may have any stride).
    bool isContiguous() const;
    uint64_t nbytes() const; // numel * item size (0 when unknown)
};

// How many bytes of its storage a tensor reaches: (storage offset + furthest element + 1)
// times the item size of the tensor's own dtype, which is what every reader reads; 0 for
// no elements. False with *error set when sizes, strides or offset are invalid or the
// arithmetic overflows.
bool tensorExtentBytes(const TensorInfo &t, uint64_t *bytes, std::string *error);

// The strides of a row-major tensor of this shape, as torch computes them (a dimension
// of size 0 counts as 1).
std::vector<int64_t> contiguousStrides(const std::vector<int64_t> &shape);

struct TensorEntry {
    std::string key; // dotted path from the root object
    int tensor = -1; // index into Document::tensors
};

// A value the reader left symbolic (a call or an object that is not a module), by key:
// what Python would have built there.
struct ObjectEntry {
    std::string key;
    std::string className; // the callable or class, "os.system", "argparse.Namespace"
    std::string text;      // a short rendering: os.system("echo pwned")
};

struct ModuleInfo {
    std::string path;                    // "" for the root, "features.0" ...
    std::string className;               // "torch.nn.modules.conv.Conv2d"
    nlohmann::ordered_json hyper;        // in_features, kernel_size, training ...
    std::vector<std::string> parameters; // local names
    std::vector<std::string> buffers;    // local names, persistent ones
    std::vector<std::string> nonPersistentBuffers;
    std::string source; // class source kept by the legacy format
};

// An optimizer state dict found in a checkpoint, summarised.
struct OptimizerInfo {
    std::string path; // "optimizer_state_dict", "optimizer_states.0"
    std::string type; // a best guess from the state's keys: "Adam", "SGD"...
    size_t stateEntries = 0;
    nlohmann::ordered_json paramGroups = nlohmann::ordered_json::array(); // without "params"
};

struct GlobalUse {
    std::string name;       // module.qualname as the pickle spells it
    std::string pythonName; // what Python 3 looks up (Python 2 names renamed)
    std::string category;   // "tensor", "torchscript", "python_class", "dangerous"
    bool called = false;
    size_t count = 1;             // uses of this name in this member
    std::vector<int64_t> offsets; // where each use is (the first kMaxUseOffsets of them)
    bool computed = false;
    std::string member;
    int64_t offset = -1;
    std::string reason;
};

constexpr size_t kMaxUseOffsets = 1000;

struct SecurityReport {
    std::string verdict = "safe"; // safe | suspicious | dangerous
    // Why, in one word: weights_only, no_code (safetensors), needs_python_classes,
    // torchscript_code, not_fully_scanned, container_findings, dangerous_calls.
    std::string verdictReason = "weights_only";
    bool complete = true; // every pickle read to its STOP
    bool weightsOnlyLoadable = true;
    // Compiled code in the file that loading it runs (an AOTInductor package's .so).
    std::vector<std::string> nativeCode;
    std::vector<GlobalUse> globals;
    std::vector<std::string> findings; // sentences for the user
};

// What code/ says about one TorchScript class.
struct TorchScriptClass {
    std::vector<std::string> parameters;
    std::vector<std::string> buffers;
    std::string forwardSignature; // "forward(self, x: Tensor) -> Tensor"
};

struct TorchScriptInfo {
    std::map<std::string, TorchScriptClass> classes; // "__torch__.SmallNet" -> ...
    std::string forwardSignature;                    // of the root module
    std::vector<std::string> codeMembers;
};

// Where a document read from the Hugging Face Hub came from.
struct RemoteOrigin {
    std::string repo;
    std::string revision;
    std::string commit;
    std::string endpoint;
    uint64_t totalBytes = 0;                              // of the files the document reads
    double openSeconds = 0;                               // from the listing to the document
    std::vector<std::shared_ptr<const MappedFile>> files; // every file opened (config.json too)
};

struct Document {
    std::string path;
    std::shared_ptr<const RemoteOrigin> remote; // null for local files
    FileFormat format = FileFormat::Unknown;
    std::string producer; // "PyTorch (zip, version 3)"...
    int pickleProtocol = 0;
    std::shared_ptr<const MappedFile> file;
    std::unique_ptr<ZipArchive> zip;
    std::unique_ptr<ValueArena> arena = std::make_unique<ValueArena>();
    Value *root = nullptr;

    std::vector<StorageInfo> storages;
    std::string storageFolder; // zip: the folder of storage records ("name/data/")
    std::vector<TensorInfo> tensors;
    std::vector<TensorEntry> entries; // keyed tensors in file order
    std::vector<ModuleInfo> modules;
    std::vector<std::string> stateDicts; // dotted paths ("" is the root)
    std::vector<OptimizerInfo> optimizers;
    std::vector<ObjectEntry> objects;
    nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
    SecurityReport security;
    TorchScriptInfo torchscript;
    std::vector<GlobalRef> globals;                  // every global of every pickle read
    std::map<std::string, std::string> classSources; // legacy files: class -> source
    std::vector<std::string> warnings;               // partial reads, unsupported kinds
    std::string error;                               // set when the main pickle failed part-way
    nlohmann::ordered_json config;                   // Hugging Face config.json, when there is one
    std::vector<std::string> weightFiles;            // the files a folder's tensors come from
    std::vector<std::unique_ptr<Document>> parts;    // shards merged into this one (own their values)

    // Keys that share one storage with another key (tied weights), grouped.
    std::vector<std::vector<std::string>> sharedStorageGroups() const;
    // Where a storage's bytes are: its member, or for a zip's data records (which leave it
    // empty: a checkpoint may hold a hundred thousand) the folder and its key.
    std::string storageMember(const StorageInfo &s) const
    {
        return s.member.str().empty() && !storageFolder.empty() ? storageFolder + s.key.str() : s.member.str();
    }
    uint64_t parameterCount() const; // elements over all keyed tensors
};

} // namespace te
