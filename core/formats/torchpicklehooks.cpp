#include "torchpicklehooks.h"
#include "../io/readerror.h"

namespace te {
namespace {

bool isInt(const Value *v) { return v && (v->kind == ValueKind::Int || v->kind == ValueKind::Bool); }

bool intList(const Value *v, std::vector<int64_t> *out)
{
    if (!v)
        return false;
    // torch.Size is pickled as torch.Size((...)); the machine leaves it as a Call.
    if (v->kind == ValueKind::Call && v->callee && v->callee->isGlobal("torch", "Size") && v->args &&
        v->args->kind == ValueKind::Tuple && v->args->items.size() == 1)
        v = v->args->items[0];
    if (v->kind != ValueKind::Tuple && v->kind != ValueKind::List)
        return false;
    out->clear();
    for (const Value *i : v->items) {
        if (!isInt(i))
            return false;
        out->push_back(i->integer);
    }
    return true;
}

bool isTorchUtils(const Value *callee, const char *name)
{
    return callee->isGlobal("torch._utils", name);
}

} // namespace

TorchPickleHooks::TorchPickleHooks(Document &doc, std::string member)
    : m_doc(doc)
    , m_member(std::move(member))
{
}

void TorchPickleHooks::fail(const std::string &message, int64_t offset) const
{
    throw ReadError("pickle: " + message, m_member, offset);
}

Value *TorchPickleHooks::persistentLoad(ValueArena &arena, Value *pid, int64_t offset)
{
    if (!pid || pid->kind != ValueKind::Tuple || pid->items.empty() || !pid->items[0]->isString())
        fail("persistent id is not a tuple starting with a string", offset);
    const auto &a = pid->items;
    const std::string &tag = a[0]->text;
    if (tag == "module" && a.size() >= 4) {
        // Legacy files carry the source of every module class: keep it for the user.
        if (a[1]->kind == ValueKind::Global && a[3]->isString())
            m_sources[a[1]->globalName()] = a[3]->text;
        return a[1];
    }
    if (tag != "storage") {
        // Not a storage (the tar format, other picklers): keep it visible, symbolic.
        Value *g = arena.make(ValueKind::Global);
        g->integer = -1;
        g->text = "persistent_id";
        g->name = tag;
        Value *c = arena.make(ValueKind::Call);
        c->callee = g;
        c->args = pid;
        return c;
    }
    if (a.size() < 5)
        fail("storage persistent id with " + std::to_string(a.size()) + " fields", offset);
    if (a[1]->kind != ValueKind::Global || !a[2]->isString() || !a[3]->isString() || !isInt(a[4]) || a[4]->integer < 0)
        fail("malformed storage persistent id", offset);
    const std::string &key = a[2]->text;
    auto it = m_storageByKey.find(key);
    int index;
    if (it != m_storageByKey.end()) {
        index = it->second;
    } else {
        StorageInfo s;
        s.key = key;
        s.dtype = dtypeFromStorageClass(a[1]->name);
        s.location = a[3]->text;
        s.numel = static_cast<uint64_t>(a[4]->integer);
        if (s.dtype == DType::Unknown)
            s.error = "unknown storage type " + a[1]->globalName();
        index = static_cast<int>(m_doc.storages.size());
        m_doc.storages.push_back(std::move(s));
        m_storageByKey[key] = index;
    }
    Value *v = arena.make(ValueKind::Storage);
    v->integer = index;
    // Legacy view metadata (view_key, offset, size): a storage view into a bigger one.
    if (a.size() >= 6 && a[5]->kind == ValueKind::Tuple && a[5]->items.size() == 3 && isInt(a[5]->items[1])) {
        v->args = a[5];
    }
    return v;
}

Value *TorchPickleHooks::unsupported(ValueArena &arena, const std::string &kind)
{
    TensorInfo t;
    t.layout = kind;
    t.error = "unsupported tensor kind: " + kind;
    Value *v = arena.make(ValueKind::Tensor);
    v->integer = static_cast<int64_t>(m_doc.tensors.size());
    t.value = v;
    m_doc.tensors.push_back(std::move(t));
    return v;
}

void validateTensorBounds(TensorInfo &t, const StorageInfo &s)
{
    if (!t.error.empty())
        return;
    if (t.shape.size() != t.strides.size()) {
        t.error = "size has " + std::to_string(t.shape.size()) + " dimensions but stride has " +
                  std::to_string(t.strides.size());
        return;
    }
    if (t.storageOffset < 0) {
        t.error = "negative storage offset";
        return;
    }
    int64_t numel = 1;
    int64_t last = 0; // highest element index reached, relative to the offset
    for (size_t i = 0; i < t.shape.size(); ++i) {
        int64_t d = t.shape[i], st = t.strides[i];
        if (d < 0 || st < 0) {
            t.error = "negative size or stride in dimension " + std::to_string(i);
            return;
        }
        if (__builtin_mul_overflow(numel, d, &numel)) {
            t.error = "element count overflows 64 bits";
            return;
        }
        int64_t reach = 0;
        if (d > 0 && (__builtin_mul_overflow(d - 1, st, &reach) || __builtin_add_overflow(last, reach, &last))) {
            t.error = "extent overflows 64 bits";
            return;
        }
    }
    if (numel == 0)
        return;
    int64_t end = 0;
    if (__builtin_add_overflow(t.storageOffset, last, &end) || __builtin_add_overflow(end, int64_t(1), &end)) {
        t.error = "extent overflows 64 bits";
        return;
    }
    if (static_cast<uint64_t>(end) > s.numel) {
        t.error = "needs " + std::to_string(end) + " elements of its storage, which holds " + std::to_string(s.numel);
        return;
    }
}

Value *TorchPickleHooks::rebuildTensor(ValueArena &arena, const std::vector<Value *> &a, int version)
{
    // (storage, storage_offset, size, stride[, requires_grad, hooks[, dtype]][, metadata])
    TensorInfo t;
    if (a.size() < 4 || a[0]->kind != ValueKind::Storage || !isInt(a[1]) || !intList(a[2], &t.shape) ||
        !intList(a[3], &t.strides))
        return nullptr; // not the shape PyTorch writes: stays a symbolic call
    t.storage = static_cast<int>(a[0]->integer);
    t.storageOffset = a[1]->integer;
    const StorageInfo &s = m_doc.storages[static_cast<size_t>(t.storage)];
    t.dtype = s.dtype;
    if (a[0]->args) // legacy storage view: offset into the base storage
        t.storageOffset += a[0]->args->items[1]->integer;
    if (a.size() > 4 && a[4]->kind == ValueKind::Bool)
        t.requiresGrad = a[4]->boolean;
    if (version == 3) {
        if (a.size() < 7 || a[6]->kind != ValueKind::Global)
            return nullptr;
        t.dtype = dtypeFromTorchName(a[6]->name);
        if (t.dtype == DType::Unknown)
            t.error = "unknown dtype " + a[6]->globalName();
    }
    if (t.dtype == DType::Unknown && t.error.empty())
        t.error = s.error.empty() ? "unknown element type" : s.error;
    if (version == 3 && s.dtype == DType::UInt8 && t.dtype != DType::UInt8 && t.error.empty()) {
        // An untyped storage counts bytes; bounds are checked in elements of the tensor.
        StorageInfo typed = s;
        typed.numel = s.numel / static_cast<uint64_t>(dtypeItemSize(t.dtype));
        validateTensorBounds(t, typed);
    } else {
        validateTensorBounds(t, s);
    }
    Value *v = arena.make(ValueKind::Tensor);
    v->integer = static_cast<int64_t>(m_doc.tensors.size());
    t.value = v;
    m_doc.tensors.push_back(std::move(t));
    return v;
}

Value *TorchPickleHooks::reduce(ValueArena &arena, Value *callee, Value *args, int64_t offset)
{
    if (callee->kind != ValueKind::Global || !args || args->kind != ValueKind::Tuple)
        return nullptr;
    const auto &a = args->items;
    if (isTorchUtils(callee, "_rebuild_tensor"))
        return rebuildTensor(arena, a, 1);
    if (isTorchUtils(callee, "_rebuild_tensor_v2"))
        return rebuildTensor(arena, a, 2);
    if (isTorchUtils(callee, "_rebuild_tensor_v3"))
        return rebuildTensor(arena, a, 3);
    if ((isTorchUtils(callee, "_rebuild_parameter") || isTorchUtils(callee, "_rebuild_parameter_with_state")) &&
        a.size() >= 2 && a[0]->kind == ValueKind::Tensor) {
        TensorInfo &t = m_doc.tensors[static_cast<size_t>(a[0]->integer)];
        t.isParameter = true;
        if (a[1]->kind == ValueKind::Bool)
            t.requiresGrad = a[1]->boolean;
        return a[0];
    }
    if (isTorchUtils(callee, "_rebuild_qtensor")) {
        // Quantized tensors share the dense layout; qparams stay in the value tree.
        Value *v = rebuildTensor(arena, a, 2);
        if (v) {
            TensorInfo &t = m_doc.tensors[static_cast<size_t>(v->integer)];
            t.layout = "quantized";
        }
        return v;
    }
    if (callee->isGlobal("torch._tensor", "_rebuild_from_type_v2") && a.size() >= 3 &&
        a[0]->kind == ValueKind::Global && a[2]->kind == ValueKind::Tuple) {
        Value *inner = reduce(arena, a[0], a[2], offset);
        if (inner && inner->kind == ValueKind::Tensor && a[1]->isGlobal("torch.nn.parameter", "Parameter"))
            m_doc.tensors[static_cast<size_t>(inner->integer)].isParameter = true;
        return inner;
    }
    if (isTorchUtils(callee, "_rebuild_sparse_tensor") || isTorchUtils(callee, "_rebuild_sparse_csr_tensor"))
        return unsupported(arena, "sparse");
    if (isTorchUtils(callee, "_rebuild_meta_tensor_no_storage"))
        return unsupported(arena, "meta (no storage)");
    if (isTorchUtils(callee, "_rebuild_wrapper_subclass") || isTorchUtils(callee, "_rebuild_nested_tensor") ||
        isTorchUtils(callee, "_rebuild_device_tensor_from_numpy") || isTorchUtils(callee, "_rebuild_xla_tensor") ||
        isTorchUtils(callee, "_rebuild_mlc_tensor"))
        return unsupported(arena, callee->name.substr(9));
    // TorchScript's pickler wraps lists and type tags in helpers of torch.jit._pickle.
    if (callee->text == "torch.jit._pickle" && a.size() >= 1) {
        if (callee->name == "restore_type_tag" || callee->name.rfind("build_", 0) == 0)
            return a[0];
    }
    return nullptr;
}

} // namespace te
