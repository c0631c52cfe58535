#pragma once
// The value tree a pickle describes, built without running anything. Values live in an
// arena owned by the document, so shared references (the pickle memo) stay shared and
// cycles (a list containing itself) cost nothing and leak nothing. While a pickle is read,
// values count their references, so that the ones used up on the way (the argument tuples
// of a checkpoint's tensor rebuilds) go back to the arena for the next ones.
#include "core/pickle/compactvector.h"

#include <cstdint>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace te {

enum class ValueKind : uint8_t {
    None,
    Bool,
    Int,
    BigInt, // text holds the decimal digits
    Float,
    String,
    Bytes,
    List,
    Tuple,
    Dict, // also collections.OrderedDict (ordered = true); keeps insertion order
    Set,
    FrozenSet,
    Global,  // a reference to module.name, never resolved
    Call,    // callee(args) that the reader did not recognise: stays symbolic
    Object,  // cls.__new__(cls, args) with state from BUILD
    Storage, // a persistent id resolved to a storage of the container
    Tensor,  // a recognised tensor rebuild
    Mark,    // internal: the pickle MARK on the stack
};

struct Value;
using ValueList = CompactVector<Value *>;

struct Value {
    ValueKind kind = ValueKind::None;
    bool boolean = false;
    bool ordered = false;    // Dict: built from collections.OrderedDict
    uint32_t refs = 0;       // while reading: see ValueArena::hold
    union {                  // by kind: a value is never both
        int64_t integer = 0; // Int, Bool; Storage/Tensor: index into the document's tables
        double real;         // Float
    };
    std::string text;                                   // String/Bytes/BigInt; Global: module
    OutOfLineString name;                               // Global: qualified name inside the module
    CompactVector<Value *> items;                       // List/Tuple/Set; Call/Object: LIST items appended
    CompactVector<std::pair<Value *, Value *>> entries; // Dict; Call/Object: SETITEM entries
    Value *callee = nullptr;                            // Call: the callable; Object: the class
    Value *args = nullptr;                              // Call/Object: the argument tuple
    Value *state = nullptr;                             // Object/Call: what BUILD set

    bool isString() const { return kind == ValueKind::String; }
    bool isGlobal(const char *module, const char *qualname) const
    {
        return kind == ValueKind::Global && text == module && name == qualname;
    }
    std::string globalName() const { return text + "." + name.str(); }
    // The value of a dict entry whose key is the given string, or null.
    Value *get(const std::string &key) const;
};

class ValueArena {
public:
    ValueArena() = default;
    ~ValueArena();
    ValueArena(const ValueArena &) = delete;
    ValueArena &operator=(const ValueArena &) = delete;

    // A new value that nothing refers to yet (refs 0).
    Value *make(ValueKind kind)
    {
        Value *v = m_free;
        if (v) {
            m_free = v->callee;
            v->callee = nullptr;
            --m_freed;
        } else {
            if (m_chunks.empty() || m_chunks.back().used == m_chunks.back().capacity)
                grow();
            Chunk &c = m_chunks.back();
            v = new (c.values + c.used++) Value;
        }
        v->kind = kind;
        return v;
    }

    // Reference counting while a pickle is read. Whoever stores a pointer to a value (the
    // machine's stack, a memo slot it will read back, another value's items, entries,
    // callee, args or state) holds it; dropping the last reference frees the value and
    // drops what it refers to in turn. A value that must never be freed is pinned (the
    // machine's shared None, booleans and small ints). Tensors are never freed: the
    // document's tensor table points at them.
    static constexpr uint32_t kPinned = UINT32_MAX;
    static Value *hold(Value *v)
    {
        if (v && v->refs < kPinned - 1)
            ++v->refs;
        else if (v)
            v->refs = kPinned; // so many references that it stays for good
        return v;
    }
    static void pin(Value *v) { v->refs = kPinned; }
    void drop(Value *v)
    {
        // Most drops leave a value that is still referenced: no work list for those.
        if (!v || v->refs == 0 || v->refs == kPinned)
            return;
        if (v->refs > 1 || v->kind == ValueKind::Tensor)
            --v->refs;
        else
            freeLast(v);
    }

    size_t size() const; // values in use

private:
    struct Chunk {
        Value *values = nullptr;
        size_t capacity = 0;
        size_t used = 0;
        size_t bytes = 0; // of the mapping, when mapped
    };
    void grow();
    void freeLast(Value *v);
    void release(Value *v);
    std::vector<Chunk> m_chunks; // stable addresses: chunks never move
    Value *m_free = nullptr;     // freed values, linked through their callee
    size_t m_freed = 0;
    std::vector<Value *> m_dropping;
};

const char *kindName(ValueKind kind);

} // namespace te
