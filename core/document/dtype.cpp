#include "core/document/dtype.h"

#include <array>

namespace te {
namespace {

struct DTypeInfo {
    DType type;
    const char *name;
    int size;
    const char *storage; // torch.<X>Storage
    const char *safetensors;
};

constexpr std::array<DTypeInfo, 26> kTypes{{
    {DType::Unknown, "unknown", 0, "", ""},
    {DType::Bool, "bool", 1, "BoolStorage", "BOOL"},
    {DType::UInt8, "uint8", 1, "ByteStorage", "U8"},
    {DType::Int8, "int8", 1, "CharStorage", "I8"},
    {DType::Int16, "int16", 2, "ShortStorage", "I16"},
    {DType::Int32, "int32", 4, "IntStorage", "I32"},
    {DType::Int64, "int64", 8, "LongStorage", "I64"},
    {DType::UInt16, "uint16", 2, "", "U16"},
    {DType::UInt32, "uint32", 4, "", "U32"},
    {DType::UInt64, "uint64", 8, "", "U64"},
    {DType::Float16, "float16", 2, "HalfStorage", "F16"},
    {DType::BFloat16, "bfloat16", 2, "BFloat16Storage", "BF16"},
    {DType::Float32, "float32", 4, "FloatStorage", "F32"},
    {DType::Float64, "float64", 8, "DoubleStorage", "F64"},
    {DType::Complex32, "complex32", 4, "ComplexHalfStorage", ""},
    {DType::Complex64, "complex64", 8, "ComplexFloatStorage", "C64"},
    {DType::Complex128, "complex128", 16, "ComplexDoubleStorage", ""},
    {DType::Float8E4M3FN, "float8_e4m3fn", 1, "Float8_e4m3fnStorage", "F8_E4M3"},
    {DType::Float8E5M2, "float8_e5m2", 1, "Float8_e5m2Storage", "F8_E5M2"},
    {DType::Float8E4M3FNUZ, "float8_e4m3fnuz", 1, "", ""},
    {DType::Float8E5M2FNUZ, "float8_e5m2fnuz", 1, "", ""},
    {DType::QInt8, "qint8", 1, "QInt8Storage", ""},
    {DType::QUInt8, "quint8", 1, "QUInt8Storage", ""},
    {DType::QInt32, "qint32", 4, "QInt32Storage", ""},
    {DType::QUInt4x2, "quint4x2", 1, "QUInt4x2Storage", ""},
    {DType::QUInt2x4, "quint2x4", 1, "QUInt2x4Storage", ""},
}};

constexpr bool inEnumOrder()
{
    for (size_t i = 0; i < kTypes.size(); ++i)
        if (static_cast<size_t>(kTypes[i].type) != i)
            return false;
    return true;
}
static_assert(inEnumOrder(), "kTypes is indexed by DType");

const DTypeInfo &info(DType t)
{
    const auto i = static_cast<size_t>(t);
    return i < kTypes.size() ? kTypes[i] : kTypes[0];
}

} // namespace

const char *dtypeName(DType t) { return info(t).name; }
int dtypeItemSize(DType t) { return info(t).size; }

bool dtypeIsFloating(DType t)
{
    switch (t) {
    case DType::Float16:
    case DType::BFloat16:
    case DType::Float32:
    case DType::Float64:
    case DType::Float8E4M3FN:
    case DType::Float8E5M2:
    case DType::Float8E4M3FNUZ:
    case DType::Float8E5M2FNUZ: return true;
    default: return false;
    }
}

bool dtypeIsComplex(DType t) { return t == DType::Complex32 || t == DType::Complex64 || t == DType::Complex128; }

DType dtypeFromTorchName(std::string_view n)
{
    for (const auto &i : kTypes)
        if (n == i.name && i.type != DType::Unknown)
            return i.type;
    static const std::pair<const char *, DType> aliases[] = {
        {"float", DType::Float32},    {"double", DType::Float64},     {"half", DType::Float16},
        {"long", DType::Int64},       {"int", DType::Int32},          {"short", DType::Int16},
        {"cfloat", DType::Complex64}, {"cdouble", DType::Complex128}, {"chalf", DType::Complex32},
    };
    for (const auto &[name, t] : aliases)
        if (n == name)
            return t;
    return DType::Unknown;
}

DType dtypeFromStorageClass(std::string_view s)
{
    if (s == "UntypedStorage" || s == "_UntypedStorage")
        return DType::UInt8;
    for (const auto &i : kTypes)
        if (*i.storage && s == i.storage)
            return i.type;
    return DType::Unknown;
}

DType dtypeFromSafetensors(std::string_view s)
{
    for (const auto &i : kTypes)
        if (*i.safetensors && s == i.safetensors)
            return i.type;
    if (s == "F8_E4M3FN")
        return DType::Float8E4M3FN;
    return DType::Unknown;
}

} // namespace te
