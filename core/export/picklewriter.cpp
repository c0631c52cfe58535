#include "core/export/picklewriter.h"

#include <stdexcept>

namespace te {
namespace {

// Opcodes of pickletools, protocol 2 and below.
enum : uint8_t {
    MARK = '(',
    STOP = '.',
    BININT = 'J',
    BININT1 = 'K',
    BININT2 = 'M',
    BINPERSID = 'Q',
    REDUCE = 'R',
    BINUNICODE = 'X',
    GLOBAL = 'c',
    BINGET = 'h',
    LONG_BINGET = 'j',
    BINPUT = 'q',
    LONG_BINPUT = 'r',
    TUPLE = 't',
    EMPTY_TUPLE = ')',
    SETITEMS = 'u',
    PROTO = 0x80,
    TUPLE1 = 0x85,
    TUPLE2 = 0x86,
    TUPLE3 = 0x87,
    NEWTRUE = 0x88,
    NEWFALSE = 0x89,
    LONG1 = 0x8a,
};

} // namespace

PickleWriter::PickleWriter()
{
    op(PROTO);
    op(2);
}

void PickleWriter::le(uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        m_out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void PickleWriter::mark() { op(MARK); }

void PickleWriter::global(const std::string &module, const std::string &name)
{
    const std::string key = module + '\n' + name;
    auto it = m_memo.find(key);
    if (it != m_memo.end()) {
        if (it->second < 256) {
            op(BINGET);
            le(it->second, 1);
        } else {
            op(LONG_BINGET);
            le(it->second, 4);
        }
        return;
    }
    op(GLOBAL);
    m_out += key;
    m_out += '\n';
    put(key);
}

void PickleWriter::put(const std::string &memoKey)
{
    const auto index = static_cast<uint32_t>(m_memo.size());
    m_memo.emplace(memoKey, index);
    if (index < 256) {
        op(BINPUT);
        le(index, 1);
    } else {
        op(LONG_BINPUT);
        le(index, 4);
    }
}

void PickleWriter::string(std::string_view s)
{
    if (s.size() > 0xFFFFFFFFu)
        throw std::runtime_error("string too long for a pickle");
    op(BINUNICODE);
    le(s.size(), 4);
    m_out.append(s.data(), s.size());
}

void PickleWriter::integer(int64_t v)
{
    if (v >= 0 && v < 256) {
        op(BININT1);
        le(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
        op(BININT2);
        le(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        op(BININT);
        le(static_cast<uint64_t>(v), 4);
    } else {
        // LONG1: the shortest little-endian two's complement that keeps the sign.
        const auto u = static_cast<uint64_t>(v);
        int n = 8;
        while (n > 1) {
            const uint8_t top = static_cast<uint8_t>(u >> (8 * (n - 1)));
            const uint8_t next = static_cast<uint8_t>(u >> (8 * (n - 2)));
            if ((top == 0x00 && !(next & 0x80)) || (top == 0xFF && (next & 0x80)))
                --n;
            else
                break;
        }
        op(LONG1);
        le(static_cast<uint64_t>(n), 1);
        le(u, n);
    }
}

void PickleWriter::boolean(bool v) { op(v ? NEWTRUE : NEWFALSE); }
void PickleWriter::emptyTuple() { op(EMPTY_TUPLE); }

void PickleWriter::tuple(size_t n)
{
    switch (n) {
    case 0: op(EMPTY_TUPLE); break;
    case 1: op(TUPLE1); break;
    case 2: op(TUPLE2); break;
    case 3: op(TUPLE3); break;
    default: op(TUPLE); break;
    }
}

void PickleWriter::reduce() { op(REDUCE); }
void PickleWriter::persistentId() { op(BINPERSID); }
void PickleWriter::setItems() { op(SETITEMS); }
void PickleWriter::stop() { op(STOP); }

} // namespace te
