// The opcode dispatcher of PickleMachine: one case per opcode of protocols 0 to 5.
#include "core/io/readerror.h"
#include "core/pickle/picklemachine.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace te {
namespace {

double readBigEndianDouble(std::string_view b)
{
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i)
        bits = (bits << 8) | static_cast<uint8_t>(b[static_cast<size_t>(i)]);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

bool parseMemoIndex(std::string_view s, uint64_t *out)
{
    if (s.empty() || s.size() > 19)
        return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return true;
}

} // namespace

void PickleMachine::step(uint8_t op)
{
    switch (op) {
    case 0x80: { // PROTO
        m_protocol = u8();
        if (m_protocol > 5)
            fail("unsupported pickle protocol " + std::to_string(m_protocol));
        break;
    }
    case 0x95: { // FRAME: only a read-ahead hint, but its length must be possible
        uint64_t len = uLE(8);
        if (len > m_bytes.size() - m_pos)
            fail("FRAME claims " + std::to_string(len) + " bytes, only " + std::to_string(m_bytes.size() - m_pos) +
                 " left");
        break;
    }
    case '.': // STOP
        m_stopped = true;
        break;
    case '(': // MARK
        if (m_marks.size() >= m_limits.maxMarkDepth)
            fail("MARK nesting deeper than " + std::to_string(m_limits.maxMarkDepth) + ": limit exceeded");
        m_marks.push_back(m_stack.size());
        break;
    case '0': // POP: like Python, an empty frame above a MARK pops the mark itself
        if (!m_marks.empty() && m_stack.size() == m_marks.back())
            m_marks.pop_back();
        else
            drop(pop());
        break;
    case '1': // POP_MARK
        for (Value *v : popMark())
            drop(v);
        break;
    case '2': push(hold(top())); break; // DUP
    case 'N': push(shared(m_none, ValueKind::None)); break;
    case 0x88: push(shared(m_true, ValueKind::Bool, 1)); break;  // NEWTRUE
    case 0x89: push(shared(m_false, ValueKind::Bool, 0)); break; // NEWFALSE
    case 'I': push(parseIntText(line(), false)); break;
    case 'L': push(parseIntText(line(), true)); break;
    case 'J': {
        Value *v = make(ValueKind::Int);
        v->integer = static_cast<int32_t>(static_cast<uint32_t>(uLE(4)));
        push(v);
        break;
    }
    case 'K':
    case 'M': {
        push(smallInt(static_cast<int64_t>(uLE(op == 'K' ? 1 : 2))));
        break;
    }
    case 0x8a: { // LONG1
        uint64_t n = u8();
        push(parseLongBytes(take(n)));
        break;
    }
    case 0x8b: { // LONG4
        int64_t n = static_cast<int32_t>(static_cast<uint32_t>(uLE(4)));
        if (n < 0)
            fail("LONG4 with a negative length");
        if (static_cast<uint64_t>(n) > m_limits.maxDigits)
            fail("LONG4 of " + std::to_string(n) + " bytes: limit exceeded");
        push(parseLongBytes(take(static_cast<uint64_t>(n))));
        break;
    }
    case 'F': {
        std::string_view t = line();
        if (t.size() > m_limits.maxDigits)
            fail("float literal too long");
        std::string s(t);
        char *end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size())
            fail("invalid float literal");
        Value *v = make(ValueKind::Float);
        v->real = d;
        push(v);
        break;
    }
    case 'G': {
        Value *v = make(ValueKind::Float);
        v->real = readBigEndianDouble(take(8));
        push(v);
        break;
    }
    case 'S': { // STRING: a quoted Python literal
        bool ok = false;
        std::string s = decodePythonStringLiteral(line(), &ok);
        if (!ok)
            fail("STRING argument is not a quoted string");
        // Python 2 str is bytes: show what is not UTF-8 as latin-1 rather than refuse it.
        if (!isValidUtf8(s))
            s = latin1ToUtf8(s);
        Value *v = make(ValueKind::String);
        v->text = std::move(s);
        push(v);
        break;
    }
    case 'T':
    case 'U':
    case 'X':
    case 0x8c:
    case 0x8d: // BINSTRING, SHORT_BINSTRING, unicode
    case 'B':
    case 'C':
    case 0x8e:
    case 0x96: { // bytes, BYTEARRAY8
        int width = 4;
        if (op == 'U' || op == 'C' || op == 0x8c)
            width = 1;
        else if (op == 0x8d || op == 0x8e || op == 0x96)
            width = 8;
        uint64_t n = uLE(width);
        if (op == 'T' && (n & 0x80000000u))
            fail("BINSTRING with a negative length");
        std::string_view s = take(n); // checked against the bytes left before any copy
        bool bytes = op == 'B' || op == 'C' || op == 0x8e || op == 0x96;
        bool py2str = op == 'T' || op == 'U';
        // Unicode text must be UTF-8, as for Python's unpickler; Python 2 str is bytes and
        // what is not UTF-8 in it is shown as latin-1.
        if (!bytes && !py2str && !isValidUtf8(s))
            fail("text is not valid UTF-8");
        Value *v = make(bytes ? ValueKind::Bytes : ValueKind::String);
        if (py2str && !isValidUtf8(s))
            v->text = latin1ToUtf8(s);
        else
            v->text.assign(s.data(), s.size());
        push(v);
        break;
    }
    case 'V': {
        Value *v = make(ValueKind::String);
        v->text = decodeRawUnicodeEscape(line());
        push(v);
        break;
    }
    case ']': push(make(ValueKind::List)); break;
    case '}': push(make(ValueKind::Dict)); break;
    case ')': push(shared(m_emptyTuple, ValueKind::Tuple)); break;
    case 0x8f: push(make(ValueKind::Set)); break;
    case 'l': { // LIST
        auto items = popMark();
        Value *v = make(ValueKind::List);
        v->items = std::move(items);
        push(v);
        break;
    }
    case 't': { // TUPLE
        auto items = popMark();
        Value *v = make(ValueKind::Tuple);
        v->items = std::move(items);
        push(v);
        break;
    }
    case 0x85:
    case 0x86:
    case 0x87: { // TUPLE1..3
        size_t n = static_cast<size_t>(op - 0x84);
        Value *v = make(ValueKind::Tuple);
        v->items.resize(n);
        for (size_t i = n; i-- > 0;)
            v->items[i] = pop();
        push(v);
        break;
    }
    case 0x91: { // FROZENSET
        auto items = popMark();
        Value *v = make(ValueKind::FrozenSet);
        v->items = std::move(items);
        push(v);
        break;
    }
    case 'd': { // DICT
        auto kv = popMark();
        Value *v = make(ValueKind::Dict);
        setItems(v, kv);
        push(v);
        break;
    }
    case 'a': { // APPEND
        Value *item = pop();
        appendItems(top(), {item});
        break;
    }
    case 'e': { // APPENDS
        auto items = popMark();
        appendItems(top(), items);
        break;
    }
    case 0x90: { // ADDITEMS
        auto items = popMark();
        Value *target = top();
        if (target->kind != ValueKind::Set)
            fail(std::string("ADDITEMS on a ") + kindName(target->kind));
        appendItems(target, items);
        break;
    }
    case 's': { // SETITEM
        Value *value = pop();
        Value *key = pop();
        setItems(top(), {key, value});
        break;
    }
    case 'u': { // SETITEMS
        auto kv = popMark();
        setItems(top(), kv);
        break;
    }
    case 'p': { // PUT
        uint64_t idx = 0;
        if (!parseMemoIndex(line(), &idx))
            fail("invalid PUT index");
        memoPut(idx, top());
        break;
    }
    case 'q': memoPut(uLE(1), top()); break;
    case 'r': memoPut(uLE(4), top()); break;
    case 0x94: memoPut(m_memoCount, top()); break; // MEMOIZE: the next index is len(memo)
    case 'g': {
        uint64_t idx = 0;
        if (!parseMemoIndex(line(), &idx))
            fail("invalid GET index");
        push(hold(memoGet(idx)));
        break;
    }
    case 'h': push(hold(memoGet(uLE(1)))); break;
    case 'j': push(hold(memoGet(uLE(4)))); break;
    case 'c': { // GLOBAL
        std::string module(line());
        std::string name(line());
        if (!isValidUtf8(module) || !isValidUtf8(name))
            fail("GLOBAL name is not valid UTF-8");
        push(makeGlobal(std::move(module), std::move(name), false));
        break;
    }
    case 0x93: { // STACK_GLOBAL
        Value *name = pop();
        Value *module = pop();
        bool literal = module->isString() && name->isString();
        // Operands that are not strings mean the target is decided at run time:
        // record what we can see and mark it computed.
        push(makeGlobal(module->isString() ? module->text : std::string("<") + kindName(module->kind) + ">",
                        name->isString() ? name->text : std::string("<") + kindName(name->kind) + ">", !literal));
        drop(name);
        drop(module);
        break;
    }
    case 0x82:
    case 0x83:
    case 0x84: { // EXT1/2/4: the copyreg extension registry
        // EXT4's code is a signed 32-bit number, as Python reads it.
        int64_t code = static_cast<int64_t>(uLE(op == 0x82 ? 1 : op == 0x83 ? 2 : 4));
        if (op == 0x84 && code >= 0x80000000)
            code -= int64_t(1) << 32;
        push(extension(code));
        break;
    }
    case 'R': { // REDUCE
        Value *args = pop();
        Value *callee = pop();
        push(reduce(callee, args));
        break;
    }
    case 0x81: { // NEWOBJ
        Value *args = pop();
        Value *cls = pop();
        push(newObject(cls, args));
        break;
    }
    case 0x92: { // NEWOBJ_EX
        Value *kwargs = pop();
        Value *args = pop();
        Value *cls = pop();
        Value *o = newObject(cls, args);
        if (o->kind == ValueKind::Object && kwargs->kind == ValueKind::Dict && !kwargs->entries.empty()) {
            o->entries = kwargs->entries;
            for (const auto &[k, v] : o->entries) {
                hold(k);
                hold(v);
            }
        }
        drop(kwargs);
        push(o);
        break;
    }
    case 'o': { // OBJ: MARK cls args... OBJ
        auto items = popMark();
        if (items.empty())
            fail("OBJ without a class");
        Value *args = make(ValueKind::Tuple);
        args->items.assign(items.begin() + 1, items.end());
        push(reduce(items[0], args));
        break;
    }
    case 'i': { // INST module\nname\n with MARK args
        std::string module(line());
        std::string name(line());
        if (!isValidUtf8(module) || !isValidUtf8(name))
            fail("INST name is not valid UTF-8");
        auto items = popMark();
        Value *cls = makeGlobal(std::move(module), std::move(name), false);
        Value *args = make(ValueKind::Tuple);
        args->items = std::move(items);
        push(reduce(cls, args));
        break;
    }
    case 'b': { // BUILD
        Value *state = pop();
        build(top(), state);
        break;
    }
    case 'P':
    case 'Q': { // PERSID / BINPERSID
        Value *pid = nullptr;
        if (op == 'P') {
            pid = make(ValueKind::String);
            pid->text = std::string(line());
        } else {
            pid = pop();
        }
        if (!m_hooks)
            fail("persistent id without a container to resolve it");
        Value *resolved = hold(m_hooks->persistentLoad(m_arena, pid, static_cast<int64_t>(m_opOffset)));
        drop(pid);
        push(resolved);
        break;
    }
    case 0x97:
    case 0x98: // NEXT_BUFFER / READONLY_BUFFER: out-of-band data a file cannot carry
        fail("out-of-band pickle buffers are not supported in files");
    default: {
        static const char *hex = "0123456789abcdef";
        fail(std::string("unknown opcode 0x") + hex[op >> 4] + hex[op & 15]);
    }
    }
}

} // namespace te
