#pragma once
// What turns a generic pickle into PyTorch objects: persistent ids become storages of the
// document, and the exact tensor rebuild callables of torch._utils become tensors.
// Nothing is called; arguments are checked, not trusted.
#include "../model/document.h"
#include "../pickle/picklemachine.h"

#include <map>

namespace te {

class TorchPickleHooks : public PickleHooks {
public:
    TorchPickleHooks(Document &doc, std::string member);

    Value *persistentLoad(ValueArena &arena, Value *pid, int64_t offset) override;
    Value *reduce(ValueArena &arena, Value *callee, Value *args, int64_t offset) override;

    // Class sources carried by legacy files: ('module', cls, source_file, source).
    const std::map<std::string, std::string> &classSources() const { return m_sources; }

private:
    Value *rebuildTensor(ValueArena &arena, const std::vector<Value *> &a, int version);
    Value *unsupported(ValueArena &arena, const std::string &kind);
    [[noreturn]] void fail(const std::string &message, int64_t offset) const;

    Document &m_doc;
    std::string m_member;
    std::map<std::string, int> m_storageByKey;
    std::map<std::string, std::string> m_sources;
};

// Checks the tensor's extent against its storage, overflow-safe; sets t.error.
void validateTensorBounds(TensorInfo &t, const StorageInfo &s);

} // namespace te
