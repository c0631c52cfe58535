#include "core/runtime/libtorch/torchtypes.h"

namespace te {
namespace {

const std::pair<const char *, c10::ScalarType> kTypes[] = {
    {"float32", c10::kFloat},
    {"float64", c10::kDouble},
    {"float16", c10::kHalf},
    {"bfloat16", c10::kBFloat16},
    {"int64", c10::kLong},
    {"int32", c10::kInt},
    {"int16", c10::kShort},
    {"int8", c10::kChar},
    {"uint8", c10::kByte},
    {"bool", c10::kBool},
    {"complex64", c10::kComplexFloat},
    {"complex128", c10::kComplexDouble},
    {"complex32", c10::kComplexHalf},
#if TE_TORCH_AT_LEAST(2, 1)
    {"float8_e4m3fn", c10::ScalarType::Float8_e4m3fn},
    {"float8_e5m2", c10::ScalarType::Float8_e5m2},
#endif
#if TE_TORCH_AT_LEAST(2, 3)
    {"uint16", c10::ScalarType::UInt16},
    {"uint32", c10::ScalarType::UInt32},
    {"uint64", c10::ScalarType::UInt64},
#endif
};

} // namespace

bool scalarTypeFromName(const std::string &name, c10::ScalarType *out)
{
    for (const auto &[n, t] : kTypes) {
        if (name == n) {
            *out = t;
            return true;
        }
    }
    return false;
}

std::string scalarTypeName(c10::ScalarType type)
{
    for (const auto &[n, t] : kTypes)
        if (t == type)
            return n;
    return c10::toString(type);
}

at::Tensor tensorViewOfSource(const TensorSource &src, std::string *error)
{
    c10::ScalarType type;
    if (!scalarTypeFromName(src.dtype, &type)) {
        *error = "dtype " + src.dtype + " is not supported by libtorch " TORCH_VERSION;
        return {};
    }
    // The caller has checked offset and extent against the storage's bytes.
    auto base =
        static_cast<const uint8_t *>(src.storage) + src.storageOffset * static_cast<int64_t>(c10::elementSize(type));
    // Read-only in practice: nothing writes through it (the map is PROT_READ).
    return torch::from_blob(const_cast<uint8_t *>(base), src.shape, src.strides, torch::TensorOptions().dtype(type));
}

std::string readableError(const std::string &what)
{
    // TorchScript errors carry the interpreter's traceback and C++ frames; the message
    // the user needs is the first paragraph, or the line after "RuntimeError:".
    std::string s = what;
    size_t rt = s.rfind("RuntimeError: ");
    if (rt != std::string::npos)
        s = s.substr(rt + 14);
    for (const char *tail : {"\nException raised from", "\nframe #"}) {
        size_t cut = s.find(tail);
        if (cut != std::string::npos)
            s = s.substr(0, cut);
    }
    // c10's enforce messages start with where the check sits: "[enforce fail at x.cpp:75] err == 0. "
    if (s.rfind("[enforce fail at ", 0) == 0) {
        size_t dot = s.find(". ");
        if (dot != std::string::npos)
            s = s.substr(dot + 2);
    }
    if (s.find("can't allocate memory") != std::string::npos || s == "std::bad_alloc")
        s = "out of memory: " + s;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    if (s.size() > 2000)
        s = s.substr(0, 2000) + " ...";
    return s;
}

} // namespace te
