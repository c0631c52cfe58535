#include "core/runtime/npyfile.h"
#include "core/document/document.h"

#include <cstring>

namespace te {
namespace {

constexpr uint64_t kMaxHeaderBytes = 1 << 20;

// The value of 'key' in the header's dict literal, up to the next top-level comma.
std::string dictItem(const std::string &dict, const std::string &key)
{
    const size_t at = dict.find("'" + key + "'");
    if (at == std::string::npos)
        return {};
    size_t colon = dict.find(':', at);
    if (colon == std::string::npos)
        return {};
    size_t start = dict.find_first_not_of(' ', colon + 1);
    if (start == std::string::npos)
        return {};
    if (dict[start] == '(') {
        const size_t end = dict.find(')', start);
        return end == std::string::npos ? std::string() : dict.substr(start, end - start + 1);
    }
    if (dict[start] == '\'' || dict[start] == '"') {
        const size_t end = dict.find(dict[start], start + 1);
        return end == std::string::npos ? std::string() : dict.substr(start, end - start + 1);
    }
    const size_t end = dict.find_first_of(",}", start);
    return dict.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// '<f4' and friends; *why says what is refused.
DType dtypeOfDescr(const std::string &descr, std::string *why)
{
    if (descr.size() < 3) {
        *why = "dtype " + descr + " is not a plain number type";
        return DType::Unknown;
    }
    const char order = descr[0];
    const std::string kind = descr.substr(1);
    static const std::pair<const char *, DType> kTypes[] = {
        {"b1", DType::Bool},      {"u1", DType::UInt8},       {"i1", DType::Int8},    {"i2", DType::Int16},
        {"i4", DType::Int32},     {"i8", DType::Int64},       {"u2", DType::UInt16},  {"u4", DType::UInt32},
        {"u8", DType::UInt64},    {"f2", DType::Float16},     {"f4", DType::Float32}, {"f8", DType::Float64},
        {"c8", DType::Complex64}, {"c16", DType::Complex128},
    };
    for (const auto &[name, type] : kTypes) {
        if (kind != name)
            continue;
        if (order == '>' && dtypeItemSize(type) > 1) {
            *why = "big-endian values (" + descr + ") are not read: save the array as little-endian (astype('<" + kind +
                   "'))";
            return DType::Unknown;
        }
        if (order != '<' && order != '|' && order != '=' && order != '>')
            break;
        return type;
    }
    *why = kind[0] == 'O' ? "it holds Python objects, which numpy.load would unpickle: not read"
                          : "dtype " + descr + " is not a plain number type";
    return DType::Unknown;
}

bool parseShape(const std::string &text, std::vector<int64_t> *shape)
{
    if (text.size() < 2 || text.front() != '(' || text.back() != ')')
        return false;
    size_t at = 1;
    while (at < text.size() - 1) {
        at = text.find_first_not_of(" ,", at);
        if (at == std::string::npos || at >= text.size() - 1)
            break;
        int64_t v = 0;
        size_t digits = 0;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            if (v > (int64_t{1} << 50))
                return false;
            v = v * 10 + (text[at++] - '0');
            ++digits;
        }
        if (!digits)
            return false;
        shape->push_back(v);
        if (text[at] == 'L') // Python 2 longs
            ++at;
    }
    return true;
}

} // namespace

bool parseNpy(std::shared_ptr<const MappedFile> file, NpyArray *out, std::string *error)
{
    const std::string &name = file->path();
    const uint8_t *p = file->data();
    const uint64_t size = file->size();
    if (size < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) {
        *error = name + ": not a NumPy .npy file (no \\x93NUMPY magic)";
        return false;
    }
    const int major = p[6];
    if (major < 1 || major > 3) {
        *error = name + ": .npy format version " + std::to_string(major) + " is not known";
        return false;
    }
    const uint64_t lengthBytes = major == 1 ? 2 : 4;
    uint64_t headerLength = 0;
    for (uint64_t i = 0; i < lengthBytes && 8 + i < size; ++i)
        headerLength |= static_cast<uint64_t>(p[8 + i]) << (8 * i);
    const uint64_t dataOffset = 8 + lengthBytes + headerLength;
    if (headerLength > kMaxHeaderBytes || dataOffset > size) {
        *error = name + ": the header claims " + std::to_string(headerLength) + " bytes at offset " +
                 std::to_string(8 + lengthBytes) + ", past the end of the file (" + std::to_string(size) + " bytes)";
        return false;
    }
    const std::string dict(reinterpret_cast<const char *>(p + 8 + lengthBytes), headerLength);
    std::string descr = dictItem(dict, "descr");
    const std::string fortran = dictItem(dict, "fortran_order");
    std::vector<int64_t> shape;
    if (descr.size() < 2 || descr.front() != '\'' || !parseShape(dictItem(dict, "shape"), &shape) ||
        (fortran != "True" && fortran != "False")) {
        *error = name + ": the header is not a dict of descr, fortran_order and shape: " + dict.substr(0, 200);
        return false;
    }
    descr = descr.substr(1, descr.size() - 2);
    std::string why;
    out->dtype = dtypeOfDescr(descr, &why);
    if (out->dtype == DType::Unknown) {
        *error = name + ": " + why;
        return false;
    }
    out->shape = shape;
    out->strides = contiguousStrides(shape);
    if (fortran == "True") { // column-major: the first dimension varies fastest
        int64_t stride = 1;
        for (size_t i = 0; i < shape.size(); ++i) {
            out->strides[i] = stride;
            stride *= std::max<int64_t>(shape[i], 1);
        }
    }
    uint64_t numel = 1;
    for (int64_t d : shape) {
        if (d != 0 && numel > (uint64_t{1} << 62) / static_cast<uint64_t>(d)) {
            *error = name + ": the shape's element count overflows";
            return false;
        }
        numel *= static_cast<uint64_t>(d);
    }
    out->nbytes = numel * static_cast<uint64_t>(dtypeItemSize(out->dtype));
    if (out->nbytes > size - dataOffset) {
        *error = name + ": " + std::to_string(out->nbytes) + " bytes of values expected at offset " +
                 std::to_string(dataOffset) + ", but the file ends after " + std::to_string(size - dataOffset);
        return false;
    }
    out->offset = dataOffset;
    out->file = std::move(file);
    return true;
}

bool readNpy(const std::string &path, NpyArray *out, std::string *error)
{
    try {
        return parseNpy(MappedFile::open(path), out, error);
    } catch (const std::exception &e) {
        *error = e.what();
        return false;
    }
}

} // namespace te
