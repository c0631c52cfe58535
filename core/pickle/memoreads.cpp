#include "core/pickle/memoreads.h"

#include <algorithm>
#include <cstring>

namespace te {

void MemoReads::read(uint64_t index)
{
    // Dense growth only, as for the memo itself: a hostile LONG_BINGET 0xFFFFFFFF is one
    // entry of the set, not four billion bits.
    if (index < m_dense.size() + (uint64_t(1) << 20)) {
        if (index >= m_dense.size())
            m_dense.resize(index + 1, false);
        m_dense[index] = true;
    } else {
        m_sparse.insert(index);
    }
}

namespace {

// What follows an opcode, by protocol: nothing; a fixed number of bytes; one or two lines
// of text; a memo index (as text, or 1 or 4 bytes); a length (1, 4 or 8 bytes) and that
// many bytes. STOP ends the pickle; out-of-band buffers and unknown opcodes end the scan.
enum class ArgKind { None, Skip, Lines, GetLine, Get, Counted, Stop, Unknown };
struct Arg {
    ArgKind kind;
    int width = 0; // Skip: bytes; Lines: lines; Get, Counted: bytes of the number
};

Arg argumentOf(uint8_t op)
{
    switch (op) {
    case '.': return {ArgKind::Stop};
    case '(':
    case '0':
    case '1':
    case '2':
    case 'N':
    case 0x88:
    case 0x89:
    case ']':
    case '}':
    case ')':
    case 0x8f:
    case 'l':
    case 't':
    case 0x85:
    case 0x86:
    case 0x87:
    case 0x91:
    case 'd':
    case 'a':
    case 'e':
    case 0x90:
    case 's':
    case 'u':
    case 0x94:
    case 0x93:
    case 'R':
    case 0x81:
    case 0x92:
    case 'o':
    case 'b':
    case 'Q': return {ArgKind::None};
    case 0x80:
    case 'K':
    case 'q':
    case 0x82: return {ArgKind::Skip, 1};
    case 'M':
    case 0x83: return {ArgKind::Skip, 2};
    case 'J':
    case 'r':
    case 0x84: return {ArgKind::Skip, 4};
    case 'G':
    case 0x95: return {ArgKind::Skip, 8}; // FRAME only announces a length; its bytes are opcodes too
    case 'I':
    case 'L':
    case 'F':
    case 'S':
    case 'V':
    case 'P':
    case 'p': return {ArgKind::Lines, 1};
    case 'c':
    case 'i': return {ArgKind::Lines, 2};
    case 'g': return {ArgKind::GetLine};
    case 'h': return {ArgKind::Get, 1};
    case 'j': return {ArgKind::Get, 4};
    case 0x8a:
    case 'U':
    case 'C':
    case 0x8c: return {ArgKind::Counted, 1};
    case 0x8b:
    case 'T':
    case 'X':
    case 'B': return {ArgKind::Counted, 4};
    case 0x8d:
    case 0x8e:
    case 0x96: return {ArgKind::Counted, 8};
    default: return {ArgKind::Unknown};
    }
}

// A cursor over the pickle's bytes; each step fails rather than run past the end.
struct Cursor {
    std::string_view b;
    uint64_t pos = 0;

    bool skip(uint64_t n)
    {
        if (n > b.size() - pos)
            return false;
        pos += n;
        return true;
    }
    bool number(int bytes, uint64_t *out)
    {
        if (static_cast<uint64_t>(bytes) > b.size() - pos)
            return false;
        uint64_t v = 0;
        for (int i = 0; i < bytes; ++i)
            v |= static_cast<uint64_t>(static_cast<uint8_t>(b[pos + static_cast<uint64_t>(i)])) << (8 * i);
        pos += static_cast<uint64_t>(bytes);
        *out = v;
        return true;
    }
    bool line(uint64_t maxLine, std::string_view *out)
    {
        const uint64_t limit = std::min<uint64_t>(b.size() - pos, maxLine + 1);
        const void *nl = std::memchr(b.data() + pos, '\n', limit);
        if (!nl)
            return false;
        const uint64_t len = static_cast<uint64_t>(static_cast<const char *>(nl) - (b.data() + pos));
        if (out) {
            *out = b.substr(pos, len);
            if (!out->empty() && out->back() == '\r')
                out->remove_suffix(1);
        }
        pos += len + 1;
        return true;
    }
};

// GET's decimal index; false when it is not one.
bool decimalIndex(std::string_view text, uint64_t *index)
{
    if (text.empty() || text.size() > 19)
        return false;
    *index = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        *index = *index * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
}

} // namespace

void MemoReads::scan(std::string_view b, const PickleLimits &limits)
{
    // Argument lengths exactly as PickleMachine::step takes them: where this pass stops
    // early, everything counts as read; where it goes on, it sees the same opcodes.
    m_all = true;
    m_dense.clear();
    m_sparse.clear();
    Cursor at{b};
    uint64_t ops = 0, n = 0;
    while (at.pos < b.size() && ++ops <= limits.maxOps) {
        const uint8_t op = static_cast<uint8_t>(b[at.pos++]);
        const Arg arg = argumentOf(op);
        switch (arg.kind) {
        case ArgKind::Stop: m_all = false; return;
        case ArgKind::None: break;
        case ArgKind::Skip:
            if (!at.skip(static_cast<uint64_t>(arg.width)))
                return;
            break;
        case ArgKind::Lines:
            for (int i = 0; i < arg.width; ++i)
                if (!at.line(limits.maxLine, nullptr))
                    return;
            break;
        case ArgKind::GetLine: {
            std::string_view text;
            if (!at.line(limits.maxLine, &text) || !decimalIndex(text, &n))
                return;
            read(n);
            break;
        }
        case ArgKind::Get:
            if (!at.number(arg.width, &n))
                return;
            read(n);
            break;
        case ArgKind::Counted:
            if (!at.number(arg.width, &n))
                return;
            // LONG4 and BINSTRING take a signed length; LONG4's is bounded too.
            if ((op == 0x8b && ((n & 0x80000000u) || n > limits.maxDigits)) || (op == 'T' && (n & 0x80000000u)))
                return;
            if (!at.skip(n))
                return;
            break;
        case ArgKind::Unknown: return; // out-of-band buffers and unknown opcodes: the machine stops there
        }
    }
}

} // namespace te
