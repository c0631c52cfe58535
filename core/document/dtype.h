#pragma once
// Element types as PyTorch names them (without "torch."), with their sizes and the
// storage class names that torch.save writes for each.
#include <cstdint>
#include <string>
#include <string_view>

namespace te {

enum class DType : uint8_t {
    Unknown,
    Bool,
    UInt8,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt16,
    UInt32,
    UInt64,
    Float16,
    BFloat16,
    Float32,
    Float64,
    Complex32,
    Complex64,
    Complex128,
    Float8E4M3FN,
    Float8E5M2,
    Float8E4M3FNUZ,
    Float8E5M2FNUZ,
    QInt8,
    QUInt8,
    QInt32,
    QUInt4x2,
    QUInt2x4,
};

const char *dtypeName(DType t);
int dtypeItemSize(DType t); // bytes per element; 0 when unknown
bool dtypeIsFloating(DType t);
bool dtypeIsComplex(DType t);
// "float32", "float", "half", "long"... (names and aliases of torch dtype globals)
DType dtypeFromTorchName(std::string_view name);
// "FloatStorage" -> float32; "UntypedStorage"/"ByteStorage" -> uint8
DType dtypeFromStorageClass(std::string_view storageClass);
// safetensors names: "F32", "BF16", "F8_E4M3"...
DType dtypeFromSafetensors(std::string_view name);

} // namespace te
