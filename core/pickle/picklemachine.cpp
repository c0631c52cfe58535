#include "core/pickle/picklemachine.h"
#include "core/io/readerror.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace te {
namespace {

void appendUtf8(std::string &out, uint32_t cp)
{
    if (cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

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

bool isValidUtf8(std::string_view s)
{
    size_t i = 0;
    while (i < s.size()) {
        uint8_t c = static_cast<uint8_t>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || i + static_cast<size_t>(n) >= s.size())
            return false;
        uint32_t cp = c & (0x3F >> n);
        for (int k = 1; k <= n; ++k) {
            uint8_t cc = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        static const uint32_t minimum[] = {0, 0x80, 0x800, 0x10000};
        // Surrogates pass: Python's unpickler decodes with 'surrogatepass'.
        if (cp < minimum[n] || cp > 0x10FFFF)
            return false;
        i += static_cast<size_t>(n) + 1;
    }
    return true;
}

std::string latin1ToUtf8(std::string_view s)
{
    std::string out;
    for (char c : s)
        appendUtf8(out, static_cast<uint8_t>(c));
    return out;
}

std::string decodeRawUnicodeEscape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 'u' || text[i + 1] == 'U')) {
            size_t n = text[i + 1] == 'u' ? 4 : 8;
            if (i + 2 + n <= text.size()) {
                uint32_t cp = 0;
                bool ok = true;
                for (size_t k = 0; k < n; ++k) {
                    int d = hexDigit(text[i + 2 + k]);
                    if (d < 0) { ok = false; break; }
                    cp = cp * 16 + static_cast<uint32_t>(d);
                }
                if (ok) {
                    appendUtf8(out, cp);
                    i += 1 + n;
                    continue;
                }
            }
        }
        // raw-unicode-escape maps other bytes to code points 0..255 (latin-1)
        appendUtf8(out, static_cast<uint8_t>(text[i]));
    }
    return out;
}

std::string decodePythonStringLiteral(std::string_view q, bool *ok)
{
    *ok = false;
    if (q.size() < 2 || (q.front() != '\'' && q.front() != '"') || q.back() != q.front())
        return {};
    std::string_view s = q.substr(1, q.size() - 2);
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c != '\\' || i + 1 >= s.size()) {
            out += c;
            continue;
        }
        char e = s[++i];
        switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\n': break;
        case 'x':
            if (i + 2 < s.size() + 0 && hexDigit(s[i + 1]) >= 0 && hexDigit(s[i + 2]) >= 0) {
                out += static_cast<char>(hexDigit(s[i + 1]) * 16 + hexDigit(s[i + 2]));
                i += 2;
            } else {
                return {};
            }
            break;
        default:
            if (e >= '0' && e <= '7') {
                int v = e - '0';
                for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
                    v = v * 8 + (s[++i] - '0');
                out += static_cast<char>(v & 0xFF);
            } else {
                out += '\\';
                out += e;
            }
        }
    }
    *ok = true;
    return out;
}

PickleMachine::PickleMachine(ValueArena &arena, std::string_view bytes, std::string member,
                             PickleHooks *hooks, PickleLimits limits)
    : m_arena(arena)
    , m_bytes(bytes)
    , m_member(std::move(member))
    , m_hooks(hooks)
    , m_limits(limits)
{
}

void PickleMachine::fail(const std::string &message) const
{
    throw ReadError("pickle: " + message, m_member, static_cast<int64_t>(m_opOffset));
}

void PickleMachine::need(uint64_t n) const
{
    if (n > m_bytes.size() - m_pos)
        fail("truncated: opcode needs " + std::to_string(n) + " more bytes, " +
             std::to_string(m_bytes.size() - m_pos) + " left");
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

Value *PickleMachine::make(ValueKind kind)
{
    if (++m_made > m_limits.maxValues)
        fail("more than " + std::to_string(m_limits.maxValues) + " values: limit exceeded");
    return m_arena.make(kind);
}

Value *PickleMachine::shared(Value *&slot, ValueKind kind, int64_t integer)
{
    // None, booleans, small ints and the empty tuple are immutable: one value each serves
    // every occurrence, as in Python. A checkpoint of many tensors makes millions of them.
    if (!slot) {
        slot = make(kind);
        slot->integer = integer;
        slot->boolean = kind == ValueKind::Bool && integer != 0;
    }
    return slot;
}

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

Value *PickleMachine::memoGet(uint64_t index)
{
    if (index < m_memoDense.size() && m_memoDense[index])
        return m_memoDense[index];
    auto it = m_memo.find(index);
    if (it == m_memo.end())
        fail("memo key " + std::to_string(index) + " was never stored");
    return it->second;
}

void PickleMachine::memoPut(uint64_t index, Value *v)
{
    const bool fresh = !(index < m_memoDense.size() && m_memoDense[index]) && !m_memo.count(index);
    if (fresh && m_memoCount >= m_limits.maxMemo)
        fail("more than " + std::to_string(m_limits.maxMemo) + " memo entries: limit exceeded");
    if (fresh)
        ++m_memoCount;
    // Dense growth only: an index far beyond what has been stored goes to the map.
    if (index < m_memoDense.size() + 1024 && index < m_limits.maxMemo) {
        if (index >= m_memoDense.size())
            m_memoDense.resize(index + 1, nullptr);
        m_memoDense[index] = v;
        m_memo.erase(index);
    } else {
        m_memo[index] = v;
    }
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
    const std::string name = callee->globalName();
    // _rebuild_from_type_v2(func, type, args, state) calls func; copyreg._reconstructor
    // (cls, base, state) calls base.__new__ and base.__init__; a partial exists to be
    // called later, so its function counts as called.
    if ((name == "torch._tensor._rebuild_from_type_v2" || name == "functools.partial") && !a.empty())
        calledValue(a[0]);
    if ((name == "copyreg._reconstructor" || name == "copy_reg._reconstructor") && a.size() >= 2)
        calledValue(a[1]);
    if ((name == "copyreg.add_extension" || name == "copy_reg.add_extension") && a.size() == 3 && a[0]->isString() &&
        a[1]->isString() && a[2]->kind == ValueKind::Int && a[2]->integer > 0)
        m_extensions[a[2]->integer] = {a[0]->text, a[1]->text};
}

Value *PickleMachine::reduce(Value *callee, Value *args)
{
    markCalled(callee);
    noteCallsInside(callee, args);
    if (m_hooks) {
        if (Value *v = m_hooks->reduce(m_arena, callee, args, static_cast<int64_t>(m_opOffset)))
            return v;
    }
    bool tuple = args && args->kind == ValueKind::Tuple;
    size_t n = tuple ? args->items.size() : 0;
    if (callee->isGlobal("collections", "OrderedDict") && tuple && n == 0) {
        Value *d = make(ValueKind::Dict);
        d->ordered = true;
        return d;
    }
    if ((callee->isGlobal("builtins", "set") || callee->isGlobal("__builtin__", "set") ||
         callee->isGlobal("builtins", "frozenset")) && tuple && n <= 1) {
        Value *s = make(callee->name == "set" ? ValueKind::Set : ValueKind::FrozenSet);
        if (n == 1 && (args->items[0]->kind == ValueKind::List || args->items[0]->kind == ValueKind::Tuple))
            s->items = args->items[0]->items;
        return s;
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
        return b;
    }
    if (callee->isGlobal("builtins", "bytearray") && tuple && n <= 1) {
        Value *b = make(ValueKind::Bytes);
        if (n == 1 && args->items[0]->kind == ValueKind::Bytes)
            b->text = args->items[0]->text;
        return b;
    }
    // copyreg._reconstructor(cls, base, state) is how protocols 0 and 1 make objects.
    if (callee->isGlobal("copyreg", "_reconstructor") && tuple && n >= 1 &&
        args->items[0]->kind == ValueKind::Global) {
        markCalled(args->items[0]);
        Value *o = make(ValueKind::Object);
        o->callee = args->items[0];
        o->args = args;
        return o;
    }
    Value *c = make(ValueKind::Call);
    c->callee = callee;
    c->args = args;
    return c;
}

Value *PickleMachine::newObject(Value *cls, Value *args)
{
    markCalled(cls);
    if (cls->kind != ValueKind::Global)
        noteCallsInside(cls, args);
    if (cls->isGlobal("collections", "OrderedDict")) {
        Value *d = make(ValueKind::Dict);
        d->ordered = true;
        return d;
    }
    Value *o = make(ValueKind::Object);
    o->callee = cls;
    o->args = args;
    return o;
}

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
    default:
        fail(std::string("SETITEM on a ") + kindName(target->kind));
    }
}

void PickleMachine::appendItems(Value *target, const std::vector<Value *> &items)
{
    switch (target->kind) {
    case ValueKind::List:
    case ValueKind::Set:
    case ValueKind::Call:
    case ValueKind::Object:
        target->items.insert(target->items.end(), items.begin(), items.end());
        break;
    default:
        fail(std::string("APPEND on a ") + kindName(target->kind));
    }
}

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
        break;
    case ValueKind::Global:
        // BUILD on a class or function sets attributes of it (or calls its __setstate__):
        // it changes live objects of the loading process. No pickler writes this.
        if (target->integer >= 0 && static_cast<size_t>(target->integer) < m_globals.size()) {
            m_globals[static_cast<size_t>(target->integer)].called = true;
            m_globals[static_cast<size_t>(target->integer)].mutated = true;
        }
        target->state = state;
        break;
    default:
        fail(std::string("BUILD on a ") + kindName(target->kind));
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
    while (!m_stopped) {
        if (m_pos >= m_bytes.size()) {
            m_opOffset = m_pos;
            fail("truncated: pickle ends before STOP");
        }
        if (++m_ops > m_limits.maxOps)
            fail("more than " + std::to_string(m_limits.maxOps) + " opcodes: limit exceeded");
        if (cancel && (m_ops & 0xFFFF) == 0 && cancel->load(std::memory_order_relaxed))
            throw Cancelled();
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
