#pragma once
// What turns a generic pickle into PyTorch objects: persistent ids become storages of the
// document, and the exact tensor rebuild callables of torch._utils become tensors.
// Nothing is called; arguments are checked, not trusted. A malformed persistent id or
// rebuild never stops the pickle: it becomes a storage or tensor that carries the error,
// so its key is listed as unreadable and the rest of the file (and the scan) goes on.
#include "core/document/document.h"
#include "core/pickle/picklemachine.h"

#include <map>
#include <unordered_map>
#include <vector>

namespace te {

// The fields of a storage's persistent id in the format being read. torch.load unpacks
// exactly that many and refuses any other count.
enum class StorageIdLayout {
    Any,    // five or more: TorchScript's reader ignores extra fields; plain pickles
    Zip,    // ('storage', storage type, key, location, numel)
    Legacy, // the same and view_metadata
};

// Storage keys to storage indices. torch.save numbers its storages "0", "1", ...: those
// are found by number, any other key by hashing.
class StorageKeys {
public:
    // The index already known for key, or `index` once stored for it.
    int insert(const std::string &key, int index);

private:
    std::vector<int> m_byNumber; // -1 where no storage has that number
    std::unordered_map<std::string, int> m_other;
};

class TorchPickleHooks : public PickleHooks {
public:
    TorchPickleHooks(Document &doc, std::string member, StorageIdLayout layout = StorageIdLayout::Any);

    Value *persistentLoad(ValueArena &arena, Value *pid, int64_t offset) override;
    Value *reduce(ValueArena &arena, Value *callee, Value *args, int64_t offset) override;

    // Class sources carried by legacy files: ('module', cls, source_file, source).
    const std::map<std::string, std::string> &classSources() const { return m_sources; }

private:
    int storageFor(const ValueList &a, int64_t offset);
    DType storageClassType(const Value *cls);
    Value *storageView(ValueArena &arena, Value *storage, Value *view, int64_t offset);
    int brokenStorage(std::string key, DType dtype, const std::string &problem, int64_t offset);
    Value *storageValue(ValueArena &arena, int index);
    Value *rebuildTensor(ValueArena &arena, const Value *callee, const Value *args, int version, int64_t offset);
    Value *tensorValue(ValueArena &arena, TensorInfo t);
    Value *unsupported(ValueArena &arena, const std::string &kind);
    std::string where(int64_t offset) const; // "data.pkl at byte 57"

    Document &m_doc;
    std::string m_member;
    StorageIdLayout m_layout;
    StorageKeys m_storageByKey;
    std::string m_lastClass;
    DType m_lastClassType = DType::Unknown;
    std::map<std::string, std::string> m_sources;
};

// Checks the tensor's extent against its storage in bytes, overflow-safe; sets t.error.
// The tensor's dtype may differ from the storage's (_rebuild_tensor_v3 reinterprets the
// storage's bytes, as torch.load does).
void validateTensorBounds(TensorInfo &t, const StorageInfo &s);

} // namespace te
