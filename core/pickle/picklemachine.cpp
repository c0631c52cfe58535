#include "core/pickle/picklemachine.h"
#include "core/io/readerror.h"
#include "core/pickle/memoreads.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace te {
namespace {

bool allDigits(std::string_view s)
{
    if (s.empty())
        return false;
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    return true;
}

} // namespace

PickleMachine::PickleMachine(ValueArena &arena, std::string_view bytes, std::string member, PickleHooks *hooks,
                             PickleLimits limits)
    : m_arena(arena)
    , m_bytes(bytes)
    , m_member(std::move(member))
    , m_hooks(hooks)
    , m_limits(limits)
{ }

PickleMachine::~PickleMachine() = default;

void PickleMachine::fail(const std::string &message) const
{
    throw ReadError("pickle: " + message, m_member, static_cast<int64_t>(m_opOffset));
}

void PickleMachine::need(uint64_t n) const
{
    if (n > m_bytes.size() - m_pos)
        fail("truncated: opcode needs " + std::to_string(n) + " more bytes, " + std::to_string(m_bytes.size() - m_pos) +
             " left");
}

uint8_t PickleMachine::u8()
{
    need(1);
    return static_cast<uint8_t>(m_bytes[m_pos++]);
}

uint64_t PickleMachine::uLE(int bytes)
{
    need(static_cast<uint64_t>(bytes));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= static_cast<uint64_t>(static_cast<uint8_t>(m_bytes[m_pos + i])) << (8 * i);
    m_pos += static_cast<uint64_t>(bytes);
    return v;
}

std::string_view PickleMachine::take(uint64_t n)
{
    need(n);
    std::string_view s = m_bytes.substr(m_pos, n);
    m_pos += n;
    return s;
}

std::string_view PickleMachine::line()
{
    uint64_t limit = std::min<uint64_t>(m_bytes.size() - m_pos, m_limits.maxLine + 1);
    const void *nl = std::memchr(m_bytes.data() + m_pos, '\n', limit);
    if (!nl) {
        if (limit > m_limits.maxLine)
            fail("text argument longer than " + std::to_string(m_limits.maxLine) + " bytes");
        fail("truncated: text argument has no end of line");
    }
    uint64_t len = static_cast<uint64_t>(static_cast<const char *>(nl) - (m_bytes.data() + m_pos));
    std::string_view s = m_bytes.substr(m_pos, len);
    m_pos += len + 1;
    if (!s.empty() && s.back() == '\r')
        s.remove_suffix(1);
    return s;
}

// A new value, held once for the caller: pushing it or storing it in another value hands
// that reference over; otherwise the caller drops it.
Value *PickleMachine::make(ValueKind kind)
{
    if (++m_made > m_limits.maxValues)
        fail("more than " + std::to_string(m_limits.maxValues) + " values: limit exceeded");
    return hold(m_arena.make(kind));
}

Value *PickleMachine::shared(Value *&slot, ValueKind kind, int64_t integer)
{
    // None, booleans, small ints and the empty tuple are immutable: one value each serves
    // every occurrence, as in Python. A checkpoint of many tensors makes millions of them.
    if (!slot) {
        slot = make(kind);
        slot->integer = integer;
        slot->boolean = kind == ValueKind::Bool && integer != 0;
        ValueArena::pin(slot);
    }
    return slot;
}

// The stack takes over the caller's reference to v; pop() hands it back.
void PickleMachine::push(Value *v)
{
    if (m_stack.size() >= m_limits.maxStack)
        fail("stack deeper than " + std::to_string(m_limits.maxStack) + ": limit exceeded");
    m_stack.push_back(v);
}

Value *PickleMachine::pop()
{
    size_t floor = m_marks.empty() ? 0 : m_marks.back();
    if (m_stack.size() <= floor)
        fail("stack underflow");
    Value *v = m_stack.back();
    m_stack.pop_back();
    return v;
}

Value *PickleMachine::top()
{
    size_t floor = m_marks.empty() ? 0 : m_marks.back();
    if (m_stack.size() <= floor)
        fail("stack underflow");
    return m_stack.back();
}

std::vector<Value *> PickleMachine::popMark()
{
    if (m_marks.empty())
        fail("no MARK on the stack");
    size_t at = m_marks.back();
    m_marks.pop_back();
    std::vector<Value *> items(m_stack.begin() + static_cast<std::ptrdiff_t>(at), m_stack.end());
    m_stack.resize(at);
    return items;
}

bool PickleMachine::memoHas(uint64_t index) const
{
    return (index < m_memoPresent.size() && m_memoPresent[index]) || m_memo.count(index);
}

Value *PickleMachine::memoGet(uint64_t index)
{
    if (!memoHas(index))
        fail("memo key " + std::to_string(index) + " was never stored");
    Value *v = index < m_memoDense.size() ? m_memoDense[index] : nullptr;
    if (!v) {
        auto it = m_memo.find(index);
        v = it == m_memo.end() ? nullptr : it->second;
    }
    if (!v) // MemoReads saw no read of this slot: the two passes disagree
        fail("memo key " + std::to_string(index) + " was not kept (internal error)");
    return v;
}

void PickleMachine::memoPut(uint64_t index, Value *v)
{
    const bool fresh = !memoHas(index);
    if (fresh && m_memoCount >= m_limits.maxMemo)
        fail("more than " + std::to_string(m_limits.maxMemo) + " memo entries: limit exceeded");
    if (fresh)
        ++m_memoCount;
    Value *kept = m_reads->isRead(index) ? hold(v) : nullptr;
    Value *replaced = nullptr;
    // Dense growth only: an index far beyond what has been stored goes to the map.
    if (index < m_memoPresent.size() + 1024 && index < m_limits.maxMemo) {
        if (index == m_memoPresent.size())
            m_memoPresent.push_back(true); // the usual case: the next index
        else if (index > m_memoPresent.size())
            m_memoPresent.resize(index + 1, false);
        m_memoPresent[index] = true;
        if (kept && index >= m_memoDense.size())
            m_memoDense.resize(index + 1, nullptr);
        if (index < m_memoDense.size())
            std::swap(m_memoDense[index], kept);
        replaced = kept;
        auto it = m_memo.find(index);
        if (it != m_memo.end()) {
            drop(it->second);
            m_memo.erase(it);
        }
    } else {
        Value *&slot = m_memo[index];
        replaced = slot;
        slot = kept;
    }
    drop(replaced);
}

Value *PickleMachine::makeGlobal(std::string module, std::string name, bool computed)
{
    Value *g = make(ValueKind::Global);
    g->integer = static_cast<int64_t>(m_globals.size());
    GlobalRef ref;
    ref.module = module;
    ref.name = name;
    ref.offset = static_cast<int64_t>(m_opOffset);
    ref.computed = computed;
    ref.member = m_member;
    m_globals.push_back(std::move(ref));
    g->text = std::move(module);
    g->name = std::move(name);
    return g;
}

void PickleMachine::markCalled(Value *callee)
{
    if (callee && callee->kind == ValueKind::Global && callee->integer >= 0 &&
        static_cast<size_t>(callee->integer) < m_globals.size())
        m_globals[static_cast<size_t>(callee->integer)].called = true;
}

Value *PickleMachine::extension(int64_t code)
{
    auto it = m_extensions.find(code);
    Value *g = it != m_extensions.end() ? makeGlobal(it->second.first, it->second.second, false)
                                        : makeGlobal("copyreg", "extension_code_" + std::to_string(code), true);
    m_globals.back().extensionCode = code;
    return g;
}

// Calls that the callee makes with its arguments, which Python would run too: a called
// value that is not a global (the result of another call) is decided at run time.
void PickleMachine::noteCallsInside(Value *callee, Value *args)
{
    auto calledValue = [this](Value *v) {
        if (v->kind == ValueKind::Global) {
            markCalled(v);
        } else {
            Value *g = makeGlobal("", "<the result of another call>", true);
            markCalled(g);
            drop(g);
        }
    };
    if (callee->kind != ValueKind::Global) {
        calledValue(callee);
        return;
    }
    if (!args || args->kind != ValueKind::Tuple)
        return;
    const auto &a = args->items;
    // Names are compared joined: STACK_GLOBAL may split module and qualname anywhere.
    auto is = [callee](std::string_view joined) {
        const std::string &m = callee->text, &n = callee->name;
        return m.size() + 1 + n.size() == joined.size() && joined.compare(0, m.size(), m) == 0 &&
               joined[m.size()] == '.' && joined.compare(m.size() + 1, n.size(), n) == 0;
    };
    // _rebuild_from_type_v2(func, type, args, state) calls func; copyreg._reconstructor
    // (cls, base, state) calls base.__new__ and base.__init__; a partial exists to be
    // called later, so its function counts as called.
    if ((is("torch._tensor._rebuild_from_type_v2") || is("functools.partial")) && !a.empty())
        calledValue(a[0]);
    if ((is("copyreg._reconstructor") || is("copy_reg._reconstructor")) && a.size() >= 2)
        calledValue(a[1]);
    if ((is("copyreg.add_extension") || is("copy_reg.add_extension")) && a.size() == 3 && a[0]->isString() &&
        a[1]->isString() && a[2]->kind == ValueKind::Int && a[2]->integer > 0)
        m_extensions[a[2]->integer] = {a[0]->text, a[1]->text};
}

// Takes over the references to callee and args; returns a value held for the caller.
Value *PickleMachine::reduce(Value *callee, Value *args)
{
    markCalled(callee);
    noteCallsInside(callee, args);
    // What replaces the call: the arguments are dropped once it is held.
    auto replaced = [this, callee, args](Value *v) {
        drop(args);
        drop(callee);
        return v;
    };
    if (m_hooks) {
        if (Value *v = m_hooks->reduce(m_arena, callee, args, static_cast<int64_t>(m_opOffset)))
            return replaced(hold(v));
    }
    bool tuple = args && args->kind == ValueKind::Tuple;
    size_t n = tuple ? args->items.size() : 0;
    if (callee->isGlobal("collections", "OrderedDict") && tuple && n == 0) {
        Value *d = make(ValueKind::Dict);
        d->ordered = true;
        return replaced(d);
    }
    if ((callee->isGlobal("builtins", "set") || callee->isGlobal("__builtin__", "set") ||
         callee->isGlobal("builtins", "frozenset")) &&
        tuple && n <= 1) {
        Value *s = make(callee->name == "set" ? ValueKind::Set : ValueKind::FrozenSet);
        if (n == 1 && (args->items[0]->kind == ValueKind::List || args->items[0]->kind == ValueKind::Tuple)) {
            s->items = args->items[0]->items;
            for (Value *item : s->items)
                hold(item);
        }
        return replaced(s);
    }
    // Protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1').
    if (callee->isGlobal("_codecs", "encode") && tuple && n == 2 && args->items[0]->isString() &&
        args->items[1]->isString() && (args->items[1]->text == "latin1" || args->items[1]->text == "latin-1")) {
        Value *b = make(ValueKind::Bytes);
        const std::string &s = args->items[0]->text;
        // The text is UTF-8 here; map code points back to single bytes.
        for (size_t i = 0; i < s.size(); ++i) {
            uint8_t c = static_cast<uint8_t>(s[i]);
            if (c < 0x80) {
                b->text += static_cast<char>(c);
            } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size()) {
                b->text += static_cast<char>(((c & 0x1F) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3F));
                ++i;
            } else {
                b->text += '?';
            }
        }
        return replaced(b);
    }
    if (callee->isGlobal("builtins", "bytearray") && tuple && n <= 1) {
        Value *b = make(ValueKind::Bytes);
        if (n == 1 && args->items[0]->kind == ValueKind::Bytes)
            b->text = args->items[0]->text;
        return replaced(b);
    }
    // copyreg._reconstructor(cls, base, state) is how protocols 0 and 1 make objects.
    if (callee->isGlobal("copyreg", "_reconstructor") && tuple && n >= 1 && args->items[0]->kind == ValueKind::Global) {
        markCalled(args->items[0]);
        Value *o = make(ValueKind::Object);
        o->callee = hold(args->items[0]);
        o->args = args;
        drop(callee);
        return o;
    }
    Value *c = make(ValueKind::Call);
    c->callee = callee;
    c->args = args;
    return c;
}

// Takes over the references to cls and args, like reduce().
Value *PickleMachine::newObject(Value *cls, Value *args)
{
    markCalled(cls);
    if (cls->kind != ValueKind::Global)
        noteCallsInside(cls, args);
    if (cls->isGlobal("collections", "OrderedDict")) {
        Value *d = make(ValueKind::Dict);
        d->ordered = true;
        drop(args);
        drop(cls);
        return d;
    }
    Value *o = make(ValueKind::Object);
    o->callee = cls;
    o->args = args;
    return o;
}

// setItems and appendItems take over the references to what they store.
void PickleMachine::setItems(Value *target, const std::vector<Value *> &kv)
{
    if (kv.size() % 2)
        fail("SETITEMS with an odd number of items");
    switch (target->kind) {
    case ValueKind::Dict:
    case ValueKind::Call:
    case ValueKind::Object:
        for (size_t i = 0; i < kv.size(); i += 2)
            target->entries.emplace_back(kv[i], kv[i + 1]);
        break;
    default: fail(std::string("SETITEM on a ") + kindName(target->kind));
    }
}

void PickleMachine::appendItems(Value *target, const std::vector<Value *> &items)
{
    switch (target->kind) {
    case ValueKind::List:
    case ValueKind::Set:
    case ValueKind::Call:
    case ValueKind::Object: target->items.insert(target->items.end(), items.begin(), items.end()); break;
    default: fail(std::string("APPEND on a ") + kindName(target->kind));
    }
}

// Takes over the reference to state.
void PickleMachine::build(Value *target, Value *state)
{
    switch (target->kind) {
    case ValueKind::Object:
    case ValueKind::Call:
    case ValueKind::Dict:
    case ValueKind::Tensor:
    case ValueKind::List:
        // A second BUILD replaces nothing we rely on; keep the first and note the rest
        // as the object's state too by chaining (rare, but must not be lost).
        if (!target->state)
            target->state = state;
        else
            drop(state);
        break;
    case ValueKind::Global:
        // BUILD on a class or function sets attributes of it (or calls its __setstate__):
        // it changes live objects of the loading process. No pickler writes this.
        if (target->integer >= 0 && static_cast<size_t>(target->integer) < m_globals.size()) {
            m_globals[static_cast<size_t>(target->integer)].called = true;
            m_globals[static_cast<size_t>(target->integer)].mutated = true;
        }
        std::swap(target->state, state);
        drop(state);
        break;
    default: fail(std::string("BUILD on a ") + kindName(target->kind));
    }
}

Value *PickleMachine::parseIntText(std::string_view text, bool isLong)
{
    if (isLong && !text.empty() && text.back() == 'L')
        text.remove_suffix(1);
    if (text.size() > m_limits.maxDigits)
        fail("integer literal with " + std::to_string(text.size()) + " digits: limit exceeded");
    if (!isLong && text == "01") {
        Value *v = make(ValueKind::Bool);
        v->boolean = true;
        return v;
    }
    if (!isLong && text == "00") {
        Value *v = make(ValueKind::Bool);
        return v;
    }
    std::string_view digits = text;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
        negative = digits[0] == '-';
        digits.remove_prefix(1);
    }
    if (!allDigits(digits))
        fail("invalid integer literal");
    std::string s(text);
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == ERANGE) {
        Value *b = make(ValueKind::BigInt);
        b->text = s;
        (void)negative;
        return b;
    }
    return smallInt(v);
}

Value *PickleMachine::smallInt(int64_t v)
{
    if (v >= 0 && v < int64_t(kSharedInts)) {
        return shared(m_ints[v], ValueKind::Int, v);
    }
    Value *i = make(ValueKind::Int);
    i->integer = v;
    return i;
}

Value *PickleMachine::parseLongBytes(std::string_view bytes)
{
    if (bytes.size() <= 8) {
        uint64_t v = 0;
        for (size_t i = 0; i < bytes.size(); ++i)
            v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
        if (!bytes.empty() && bytes.size() < 8 && (static_cast<uint8_t>(bytes.back()) & 0x80))
            v |= ~uint64_t(0) << (8 * bytes.size()); // sign extension
        return smallInt(static_cast<int64_t>(v));
    }
    // Wider than 64 bits: keep it symbolic as hex, little-endian two's complement.
    Value *b = make(ValueKind::BigInt);
    static const char *hex = "0123456789abcdef";
    b->text = "0x";
    for (size_t i = bytes.size(); i-- > 0;) {
        b->text += hex[static_cast<uint8_t>(bytes[i]) >> 4];
        b->text += hex[static_cast<uint8_t>(bytes[i]) & 15];
    }
    return b;
}

Value *PickleMachine::run(const std::atomic<bool> *cancel)
{
    m_reads = std::make_unique<MemoReads>();
    m_reads->scan(m_bytes, m_limits);
    while (!m_stopped) {
        if (m_pos >= m_bytes.size()) {
            m_opOffset = m_pos;
            fail("truncated: pickle ends before STOP");
        }
        if (++m_ops > m_limits.maxOps)
            fail("more than " + std::to_string(m_limits.maxOps) + " opcodes: limit exceeded");
        if ((m_ops & 0xFFFF) == 0) {
            if (cancel && cancel->load(std::memory_order_relaxed))
                throw Cancelled();
            if (m_onRead)
                m_onRead(m_pos);
        }
        m_opOffset = m_pos;
        step(static_cast<uint8_t>(m_bytes[m_pos++]));
    }
    if (m_stack.size() != 1 || !m_marks.empty()) {
        if (m_stack.empty())
            fail("STOP with an empty stack");
    }
    return m_stack.back();
}

} // namespace te
