#include "value.h"

namespace te {

Value *Value::get(const std::string &key) const
{
    for (const auto &[k, v] : entries)
        if (k && k->kind == ValueKind::String && k->text == key)
            return v;
    return nullptr;
}

const char *kindName(ValueKind kind)
{
    switch (kind) {
    case ValueKind::None: return "None";
    case ValueKind::Bool: return "bool";
    case ValueKind::Int: return "int";
    case ValueKind::BigInt: return "int";
    case ValueKind::Float: return "float";
    case ValueKind::String: return "str";
    case ValueKind::Bytes: return "bytes";
    case ValueKind::List: return "list";
    case ValueKind::Tuple: return "tuple";
    case ValueKind::Dict: return "dict";
    case ValueKind::Set: return "set";
    case ValueKind::FrozenSet: return "frozenset";
    case ValueKind::Global: return "global";
    case ValueKind::Call: return "call";
    case ValueKind::Object: return "object";
    case ValueKind::Storage: return "storage";
    case ValueKind::Tensor: return "tensor";
    case ValueKind::Mark: return "mark";
    }
    return "?";
}

} // namespace te
