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

void MemoReads::scan(std::string_view b, const PickleLimits &limits)
{
    // Argument lengths exactly as PickleMachine::step takes them: where this pass stops
    // early, everything counts as read; where it goes on, it sees the same opcodes.
    m_all = true;
    m_dense.clear();
    m_sparse.clear();
    const uint64_t size = b.size();
    uint64_t pos = 0, ops = 0;
    auto skip = [&](uint64_t n) {
        if (n > size - pos)
            return false;
        pos += n;
        return true;
    };
    auto number = [&](int bytes, uint64_t *out) {
        if (static_cast<uint64_t>(bytes) > size - pos)
            return false;
        uint64_t v = 0;
        for (int i = 0; i < bytes; ++i)
            v |= static_cast<uint64_t>(static_cast<uint8_t>(b[pos + static_cast<uint64_t>(i)])) << (8 * i);
        pos += static_cast<uint64_t>(bytes);
        *out = v;
        return true;
    };
    auto line = [&](std::string_view *out) {
        const uint64_t limit = std::min<uint64_t>(size - pos, limits.maxLine + 1);
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
    };
    uint64_t n = 0;
    while (pos < size && ++ops <= limits.maxOps) {
        const uint8_t op = static_cast<uint8_t>(b[pos++]);
        switch (op) {
        case '.': m_all = false; return;
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
        case 'Q': break;
        case 0x80:
        case 'K':
        case 'q':
        case 0x82:
            if (!skip(1))
                return;
            break;
        case 'M':
        case 0x83:
            if (!skip(2))
                return;
            break;
        case 'J':
        case 'r':
        case 0x84:
            if (!skip(4))
                return;
            break;
        case 'G':
        case 0x95: // FRAME only announces a length; its bytes are opcodes too
            if (!skip(8))
                return;
            break;
        case 'I':
        case 'L':
        case 'F':
        case 'S':
        case 'V':
        case 'P':
        case 'p':
            if (!line(nullptr))
                return;
            break;
        case 'c':
        case 'i':
            if (!line(nullptr) || !line(nullptr))
                return;
            break;
        case 'g': {
            std::string_view text;
            if (!line(&text) || text.empty() || text.size() > 19)
                return;
            uint64_t index = 0;
            for (char c : text) {
                if (c < '0' || c > '9')
                    return;
                index = index * 10 + static_cast<uint64_t>(c - '0');
            }
            read(index);
            break;
        }
        case 'h':
            if (!number(1, &n))
                return;
            read(n);
            break;
        case 'j':
            if (!number(4, &n))
                return;
            read(n);
            break;
        case 0x8a:
            if (!number(1, &n) || !skip(n))
                return;
            break;
        case 0x8b:
            if (!number(4, &n) || (n & 0x80000000u) || n > limits.maxDigits || !skip(n))
                return;
            break;
        case 'T':
        case 'X':
        case 'B':
            if (!number(4, &n) || (op == 'T' && (n & 0x80000000u)) || !skip(n))
                return;
            break;
        case 'U':
        case 'C':
        case 0x8c:
            if (!number(1, &n) || !skip(n))
                return;
            break;
        case 0x8d:
        case 0x8e:
        case 0x96:
            if (!number(8, &n) || !skip(n))
                return;
            break;
        default: // out-of-band buffers and unknown opcodes: the machine stops there
            return;
        }
    }
}

} // namespace te
