#include "core/pickle/value.h"

#include <algorithm>
#include <cstdlib>
#include <sys/mman.h>

namespace te {

Value *Value::get(const std::string &key) const
{
    for (const auto &[k, v] : entries)
        if (k && k->kind == ValueKind::String && k->text == key)
            return v;
    return nullptr;
}

void ValueArena::grow()
{
    // Chunks double from a few kilobytes, so a small pickle stays small, up to 8 MiB.
    // Big chunks are mapped and offered to the kernel as huge pages: a file of a hundred
    // thousand tensors makes millions of values, and faulting them in 4 KiB at a time
    // cost more than parsing them.
    constexpr size_t kFirst = 64, kMaxBytes = size_t(8) << 20;
    size_t capacity = m_chunks.empty() ? kFirst : m_chunks.back().capacity * 2;
    capacity = std::min(capacity, kMaxBytes / sizeof(Value));
    Chunk c;
    c.capacity = capacity;
    const size_t bytes = capacity * sizeof(Value);
    if (bytes >= (size_t(2) << 20)) {
        void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
        ::madvise(p, bytes, MADV_HUGEPAGE); // a hint; without it the chunk works the same
#endif
        c.values = static_cast<Value *>(p);
        c.bytes = bytes;
    } else {
        c.values = static_cast<Value *>(::operator new(bytes));
    }
    m_chunks.push_back(c);
}

size_t ValueArena::size() const
{
    size_t n = 0;
    for (const auto &c : m_chunks)
        n += c.used;
    return n;
}

ValueArena::~ValueArena()
{
    for (auto &c : m_chunks) {
        for (size_t i = 0; i < c.used; ++i)
            c.values[i].~Value();
        if (c.bytes)
            ::munmap(c.values, c.bytes);
        else
            ::operator delete(c.values);
    }
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
