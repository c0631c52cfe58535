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
    return n - m_freed;
}

void ValueArena::release(Value *v)
{
    v->~Value();
    new (v) Value;
    v->callee = m_free;
    m_free = v;
    ++m_freed;
}

// v loses its last reference: it is freed, and what only it referred to after it.
void ValueArena::freeLast(Value *v)
{
    // Iterative: a freed list may hold a million values, a freed chain may be as deep.
    m_dropping.push_back(v);
    while (!m_dropping.empty()) {
        Value *x = m_dropping.back();
        m_dropping.pop_back();
        // No references counted (a value outside the counting) or pinned: left alone.
        if (!x || x->refs == 0 || x->refs == kPinned)
            continue;
        if (--x->refs != 0 || x->kind == ValueKind::Tensor)
            continue;
        m_dropping.insert(m_dropping.end(), x->items.begin(), x->items.end());
        for (const auto &[key, value] : x->entries) {
            m_dropping.push_back(key);
            m_dropping.push_back(value);
        }
        m_dropping.push_back(x->callee);
        m_dropping.push_back(x->args);
        m_dropping.push_back(x->state);
        release(x);
    }
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
