#pragma once
// The value tree a pickle describes, built without running anything. Values live in an
// arena owned by the document, so shared references (the pickle memo) stay shared and
// cycles (a list containing itself) cost nothing and leak nothing.
#include <cstdint>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace te {

enum class ValueKind {
    None,
    Bool,
    Int,
    BigInt,   // text holds the decimal digits
    Float,
    String,
    Bytes,
    List,
    Tuple,
    Dict,     // also collections.OrderedDict (ordered = true); keeps insertion order
    Set,
    FrozenSet,
    Global,   // a reference to module.name, never resolved
    Call,     // callee(args) that the reader did not recognise: stays symbolic
    Object,   // cls.__new__(cls, args) with state from BUILD
    Storage,  // a persistent id resolved to a storage of the container
    Tensor,   // a recognised tensor rebuild
    Mark,     // internal: the pickle MARK on the stack
};

struct Value {
    ValueKind kind = ValueKind::None;
    bool boolean = false;
    bool ordered = false;          // Dict: built from collections.OrderedDict
    int64_t integer = 0;           // Int; Storage/Tensor: index into the document's tables
    double real = 0.0;
    std::string text;              // String/Bytes/BigInt; Global: module
    std::string name;              // Global: qualified name inside the module
    std::vector<Value *> items;    // List/Tuple/Set; Call/Object: LIST items appended
    std::vector<std::pair<Value *, Value *>> entries; // Dict; Call/Object: SETITEM entries
    Value *callee = nullptr;       // Call: the callable; Object: the class
    Value *args = nullptr;         // Call/Object: the argument tuple
    Value *state = nullptr;        // Object/Call: what BUILD set

    bool isString() const { return kind == ValueKind::String; }
    bool isGlobal(const char *module, const char *qualname) const
    {
        return kind == ValueKind::Global && text == module && name == qualname;
    }
    std::string globalName() const { return text + "." + name; }
    // The value of a dict entry whose key is the given string, or null.
    Value *get(const std::string &key) const;
};

class ValueArena {
public:
    ValueArena() = default;
    ~ValueArena();
    ValueArena(const ValueArena &) = delete;
    ValueArena &operator=(const ValueArena &) = delete;

    Value *make(ValueKind kind)
    {
        if (m_chunks.empty() || m_chunks.back().used == m_chunks.back().capacity)
            grow();
        Chunk &c = m_chunks.back();
        Value *v = new (c.values + c.used++) Value;
        v->kind = kind;
        return v;
    }
    size_t size() const;

private:
    struct Chunk {
        Value *values = nullptr;
        size_t capacity = 0;
        size_t used = 0;
        size_t bytes = 0;   // of the mapping, when mapped
    };
    void grow();
    std::vector<Chunk> m_chunks; // stable addresses: chunks never move
};

const char *kindName(ValueKind kind);

} // namespace te
