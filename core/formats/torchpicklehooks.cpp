#include "core/formats/torchpicklehooks.h"
#include "core/document/documentanalyzer.h"
#include "core/stats/tensorstats.h"

#include <algorithm>

namespace te {
namespace {

bool isInt(const Value *v) { return v && (v->kind == ValueKind::Int || v->kind == ValueKind::Bool); }

// Python's bools are ints (True * 4 == 4); protocol 0 writes them as I01 / I00.
int64_t intOf(const Value *v) { return v->kind == ValueKind::Bool ? (v->boolean ? 1 : 0) : v->integer; }

std::string kindOf(const Value *v) { return v ? kindName(v->kind) : "nothing"; }

bool intList(const Value *v, std::vector<int64_t> *out)
{
    out->clear();
    if (!v)
        return false;
    // torch.Size is pickled as torch.Size((...)); the machine leaves it as a Call.
    if (v->kind == ValueKind::Call && v->callee && v->callee->isGlobal("torch", "Size") && v->args &&
        v->args->kind == ValueKind::Tuple && v->args->items.size() == 1)
        v = v->args->items[0];
    if (v->kind != ValueKind::Tuple && v->kind != ValueKind::List)
        return false;
    out->reserve(v->items.size());
    for (const Value *i : v->items) {
        if (!isInt(i)) {
            out->clear();
            return false;
        }
        out->push_back(intOf(i));
    }
    return true;
}

bool isTorchUtils(const Value *callee, const char *name) { return callee->isGlobal("torch._utils", name); }

// The dense tensor rebuilds of torch._utils, by the layout of their arguments; 0 for others.
int rebuildVersion(const Value *callee)
{
    if (isTorchUtils(callee, "_rebuild_tensor"))
        return 1;
    if (isTorchUtils(callee, "_rebuild_tensor_v2"))
        return 2;
    if (isTorchUtils(callee, "_rebuild_tensor_v3"))
        return 3;
    return 0;
}

// A persistent id's type tag: its first field, a str (bytes when Python 2 wrote it).
bool persistentIdTag(const Value *pid, std::string *tag)
{
    if (!pid || pid->kind != ValueKind::Tuple || pid->items.empty())
        return false;
    const Value *t = pid->items[0];
    if (t->kind != ValueKind::String && t->kind != ValueKind::Bytes)
        return false;
    *tag = t->text;
    return true;
}

// torch.load names the record f"data/{key}": an int key works as its decimal digits.
bool storageKey(const Value *v, std::string *key)
{
    if (v->kind == ValueKind::String) {
        *key = v->text;
        return true;
    }
    if (v->kind == ValueKind::Int) {
        *key = std::to_string(v->integer);
        return true;
    }
    return false;
}

// Why torch.load would refuse a storage persistent id; empty when it reads it. Odd but
// accepted fields (a bool numel, an int key, a location that is no string) pass.
std::string storageIdProblem(const ValueList &a, StorageIdLayout layout)
{
    const size_t fields = layout == StorageIdLayout::Zip ? 5 : layout == StorageIdLayout::Legacy ? 6 : 0;
    if (a.size() < 5 || (fields && a.size() != fields))
        return "it has " + std::to_string(a.size()) + " fields; torch.load expects " +
               std::to_string(fields ? fields : 5);
    if (a[1]->kind != ValueKind::Global)
        return "its storage type is a " + kindOf(a[1]) + ", not a class";
    if (a[2]->kind != ValueKind::String && a[2]->kind != ValueKind::Int)
        return "its key is a " + kindOf(a[2]) + ", not a string";
    if (a[4]->kind == ValueKind::BigInt)
        return "its element count " + a[4]->text + " does not fit in 64 bits";
    if (!isInt(a[4]))
        return "its element count is a " + kindOf(a[4]) + ", not an int";
    if (intOf(a[4]) < 0)
        return "its element count " + std::to_string(intOf(a[4])) + " is negative";
    return {};
}

// Why legacy view metadata (view_key, offset, size) cannot be used; empty when it can.
std::string viewProblem(const Value *view)
{
    if (view->kind != ValueKind::Tuple || view->items.size() != 3)
        return "its view metadata is a " + kindOf(view) + ", not (view_key, offset, size)";
    if (!isInt(view->items[1]) || !isInt(view->items[2]))
        return "its view offset or size is not an int";
    if (intOf(view->items[1]) < 0 || intOf(view->items[2]) < 0)
        return "its view offset or size is negative";
    return {};
}

// Why a dense rebuild's arguments are not (storage, offset, size, stride, ...); empty when
// they are. Too few arguments are a TypeError in Python; extra ones are left alone.
std::string rebuildProblem(const Value *args, int version)
{
    if (args->kind != ValueKind::Tuple)
        return "its arguments are a " + kindOf(args) + ", not a tuple";
    const auto &a = args->items;
    const size_t needed = version == 3 ? 7 : 4;
    if (a.size() < needed)
        return "it has " + std::to_string(a.size()) + " arguments, not at least " + std::to_string(needed);
    if (a[0]->kind != ValueKind::Storage)
        return "its first argument is a " + kindOf(a[0]) + ", not a storage";
    if (!isInt(a[1]))
        return "its storage offset is a " + kindOf(a[1]) + ", not an int";
    std::vector<int64_t> ints;
    if (!intList(a[2], &ints))
        return "its size is not a tuple of ints";
    if (!intList(a[3], &ints))
        return "its stride is not a tuple of ints";
    if (version == 3 && a[6]->kind != ValueKind::Global)
        return "its dtype is a " + kindOf(a[6]) + ", not a torch dtype";
    return {};
}

} // namespace

int StorageKeys::insert(const std::string &key, int index)
{
    // Decimal without leading zeros ("7", not "07": that is another key), and not far past
    // the numbers seen so far, so that a key of "999999999" does not make a huge table.
    uint64_t number = 0;
    bool decimal = !key.empty() && key.size() <= 9 && (key[0] != '0' || key.size() == 1);
    for (size_t i = 0; decimal && i < key.size(); ++i) {
        decimal = key[i] >= '0' && key[i] <= '9';
        number = number * 10 + static_cast<uint64_t>(key[i] - '0');
    }
    if (decimal && number < m_byNumber.size() + 65536) {
        if (number >= m_byNumber.size())
            m_byNumber.resize(std::max<size_t>(number + 1, m_byNumber.size() * 2), -1);
        int &slot = m_byNumber[number];
        if (slot < 0) {
            // Stored by hashing while its number was still far off.
            auto other = m_other.empty() ? m_other.end() : m_other.find(key);
            slot = other != m_other.end() ? other->second : index;
        }
        return slot;
    }
    return m_other.emplace(key, index).first->second;
}

TorchPickleHooks::TorchPickleHooks(Document &doc, std::string member, StorageIdLayout layout)
    : m_doc(doc)
    , m_member(std::move(member))
    , m_layout(layout)
{ }

std::string TorchPickleHooks::where(int64_t offset) const { return m_member + " at byte " + std::to_string(offset); }

Value *TorchPickleHooks::storageValue(ValueArena &arena, int index)
{
    Value *v = arena.make(ValueKind::Storage);
    v->integer = index;
    return v;
}

int TorchPickleHooks::brokenStorage(std::string key, DType dtype, const std::string &problem, int64_t offset)
{
    StorageInfo s;
    s.key = std::move(key);
    s.dtype = dtype;
    s.error = "malformed storage persistent id (" + where(offset) + "): " + problem;
    m_doc.storages.push_back(std::move(s));
    return static_cast<int>(m_doc.storages.size() - 1);
}

DType TorchPickleHooks::storageClassType(const Value *cls)
{
    // A checkpoint names one or two classes for all its storages. (By name: a value's
    // address may be reused once it is freed.)
    if (cls->name.str() != m_lastClass) {
        m_lastClass = cls->name.str();
        m_lastClassType = dtypeFromStorageClass(m_lastClass);
    }
    return m_lastClassType;
}

int TorchPickleHooks::storageFor(const ValueList &a, int64_t offset)
{
    std::string key;
    const bool keyed = a.size() > 2 && storageKey(a[2], &key);
    const DType dtype = a.size() > 1 && a[1]->kind == ValueKind::Global ? storageClassType(a[1]) : DType::Unknown;
    const std::string problem = storageIdProblem(a, m_layout);
    if (!problem.empty()) {
        const int index = brokenStorage(keyed ? key : std::string("?"), dtype, problem, offset);
        // Known by its key when the key is new, so that the legacy format's storage list
        // can still step over its bytes to the storages after it.
        if (keyed)
            m_storageByKey.insert(key, index);
        return index;
    }
    const int index = static_cast<int>(m_doc.storages.size());
    const int known = m_storageByKey.insert(key, index);
    if (known != index)
        return known;
    StorageInfo s;
    s.key = std::move(key);
    s.dtype = dtype;
    s.numel = static_cast<uint64_t>(intOf(a[4]));
    if (a[3]->kind == ValueKind::String || a[3]->kind == ValueKind::Bytes) {
        s.location = a[3]->text;
    } else {
        // torch.load restores such a storage only when map_location says where.
        s.location = keyText(a[3]);
        m_doc.warnings.push_back("storage " + s.key.str() + " (" + where(offset) + "): its location is a " +
                                 kindOf(a[3]) + ", not a device name; torch.load reads it only with map_location");
    }
    if (dtype == DType::Unknown)
        s.error = "unknown storage type " + a[1]->globalName();
    m_doc.storages.push_back(std::move(s));
    return index;
}

Value *TorchPickleHooks::storageView(ValueArena &arena, Value *storage, Value *view, int64_t offset)
{
    const std::string problem = viewProblem(view);
    if (problem.empty()) {
        storage->args = ValueArena::hold(view);
        return storage;
    }
    const StorageInfo &base = m_doc.storages[static_cast<size_t>(storage->integer)];
    std::string key = base.key.str();
    const DType dtype = base.dtype;
    return storageValue(arena, brokenStorage(std::move(key), dtype, problem, offset));
}

Value *TorchPickleHooks::persistentLoad(ValueArena &arena, Value *pid, int64_t offset)
{
    std::string tag;
    if (!persistentIdTag(pid, &tag))
        return storageValue(arena, brokenStorage("?", DType::Unknown,
                                                 "a " + kindOf(pid) + ", not a tuple starting with a string", offset));
    const auto &a = pid->items;
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
        c->callee = ValueArena::hold(g);
        c->args = ValueArena::hold(pid);
        return c;
    }
    Value *v = storageValue(arena, storageFor(a, offset));
    // Legacy view metadata (view_key, offset, size): a storage view into a bigger one. A
    // storage without an error has exactly the fields of its layout.
    const bool sound = m_doc.storages[static_cast<size_t>(v->integer)].error.empty();
    if (sound && m_layout == StorageIdLayout::Legacy && a[5]->kind != ValueKind::None)
        return storageView(arena, v, a[5], offset);
    return v;
}

Value *TorchPickleHooks::tensorValue(ValueArena &arena, TensorInfo t)
{
    Value *v = arena.make(ValueKind::Tensor);
    v->integer = static_cast<int64_t>(m_doc.tensors.size());
    t.value = v;
    m_doc.tensors.push_back(std::move(t));
    return v;
}

Value *TorchPickleHooks::unsupported(ValueArena &arena, const std::string &kind)
{
    TensorInfo t;
    t.layout = kind;
    t.error = "unsupported tensor kind: " + kind;
    return tensorValue(arena, std::move(t));
}

void validateTensorBounds(TensorInfo &t, const StorageInfo &s)
{
    if (!t.error.empty())
        return;
    uint64_t need = 0;
    std::string error;
    if (!tensorExtentBytes(t, &need, &error)) {
        t.error = std::move(error);
        return;
    }
    const uint64_t item = static_cast<uint64_t>(dtypeItemSize(t.dtype));
    const uint64_t storageItem = static_cast<uint64_t>(dtypeItemSize(s.dtype));
    uint64_t have = 0;
    if (item == 0 || storageItem == 0 || need == 0)
        return; // nothing to read, or an unknown dtype that is reported elsewhere
    if (__builtin_mul_overflow(s.numel, storageItem, &have)) {
        t.error = "its storage's size overflows 64 bits";
        return;
    }
    if (need <= have)
        return;
    if (item == storageItem)
        t.error =
            "needs " + std::to_string(need / item) + " elements of its storage, which holds " + std::to_string(s.numel);
    else
        t.error = "needs " + std::to_string(need) + " bytes (" + std::to_string(need / item) + " " +
                  dtypeName(t.dtype) + " elements) of its storage, which holds " + std::to_string(have) + " bytes (" +
                  std::to_string(s.numel) + " " + dtypeName(s.dtype) + " elements)";
}

Value *TorchPickleHooks::rebuildTensor(ValueArena &arena, const Value *callee, const Value *args, int version,
                                       int64_t offset)
{
    // (storage, storage_offset, size, stride[, requires_grad, hooks[, dtype]][, metadata])
    TensorInfo t;
    const auto &a = args->items;
    if (args->kind == ValueKind::Tuple && !a.empty() && a[0]->kind == ValueKind::Storage) {
        t.storage = static_cast<int>(a[0]->integer);
        t.dtype = m_doc.storages[static_cast<size_t>(t.storage)].dtype;
    }
    const std::string problem = rebuildProblem(args, version);
    if (!problem.empty()) {
        t.error = "malformed " + callee->globalName() + " call (" + where(offset) + "): " + problem;
        return tensorValue(arena, std::move(t));
    }
    intList(a[2], &t.shape);
    intList(a[3], &t.strides);
    t.storageOffset = intOf(a[1]);
    const StorageInfo &s = m_doc.storages[static_cast<size_t>(t.storage)];
    if (a.size() > 4 && a[4]->kind == ValueKind::Bool)
        t.requiresGrad = a[4]->boolean;
    if (version == 3) {
        // torch.load sets the storage's bytes into a tensor of this dtype: a FloatStorage
        // may hold float64 elements, as many as its bytes have room for.
        t.dtype = dtypeFromTorchName(a[6]->name.str());
        if (t.dtype == DType::Unknown)
            t.error = "unknown dtype " + a[6]->globalName();
    }
    if (t.error.empty() && !s.error.empty())
        t.error = s.error;
    if (t.error.empty() && t.dtype == DType::Unknown)
        t.error = "unknown element type";
    if (const Value *view = a[0]->args; view && t.error.empty()) {
        // A legacy storage view: its offset counts from the base storage's start, and
        // Python slices the base's bytes, so a view past the end is cut short.
        const int64_t viewOffset = intOf(view->items[1]), viewSize = intOf(view->items[2]);
        if (__builtin_add_overflow(t.storageOffset, viewOffset, &t.storageOffset)) {
            t.error = "its storage offset plus the offset of its storage view overflows 64 bits";
        } else {
            StorageInfo viewed = s;
            viewed.numel =
                std::min<uint64_t>(static_cast<uint64_t>(viewOffset) + static_cast<uint64_t>(viewSize), s.numel);
            validateTensorBounds(t, viewed);
        }
    } else {
        validateTensorBounds(t, s);
    }
    return tensorValue(arena, std::move(t));
}

Value *TorchPickleHooks::reduce(ValueArena &arena, Value *callee, Value *args, int64_t offset)
{
    if (callee->kind != ValueKind::Global || !args)
        return nullptr;
    // Everything recognised here lives in one of three modules; most calls are elsewhere.
    const std::string &module = callee->text;
    if (module != "torch._utils" && module != "torch._tensor" && module != "torch.jit._pickle")
        return nullptr;
    if (int version = rebuildVersion(callee))
        return rebuildTensor(arena, callee, args, version, offset);
    if (args->kind != ValueKind::Tuple)
        return nullptr;
    const auto &a = args->items;
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
        Value *v = rebuildTensor(arena, callee, args, 2, offset);
        m_doc.tensors[static_cast<size_t>(v->integer)].layout = "quantized";
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
        return unsupported(arena, callee->name.str().substr(9));
    // TorchScript's pickler wraps lists and type tags in helpers of torch.jit._pickle.
    if (callee->text == "torch.jit._pickle" && a.size() >= 1) {
        if (callee->name == "restore_type_tag" || callee->name.str().rfind("build_", 0) == 0)
            return a[0];
    }
    return nullptr;
}

} // namespace te
