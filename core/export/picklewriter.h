#pragma once
// A minimal pickle emitter for the files we write ourselves (protocol 2, the one
// torch.save uses by default): only the opcodes a state dict needs. Globals are memoized,
// so a large state dict names torch._utils._rebuild_tensor_v2 once, as Python's pickler does.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace te {

class PickleWriter {
public:
    PickleWriter(); // writes PROTO 2

    void mark();
    void global(const std::string &module, const std::string &name);
    void string(std::string_view s); // BINUNICODE: s must be UTF-8
    void integer(int64_t v);         // BININT1/2, BININT or LONG1, whichever fits
    void boolean(bool v);
    void emptyTuple();
    void tuple(size_t n); // the last n values; n > 3 needs a mark() first
    void reduce();
    void persistentId(); // BINPERSID of the value on top
    void setItems();     // pairs since the last mark() into the dict below it
    void stop();

    const std::string &bytes() const { return m_out; }

private:
    void put(const std::string &memoKey); // remembers the value on top under a new index
    void op(uint8_t code) { m_out.push_back(static_cast<char>(code)); }
    void le(uint64_t v, int bytes);

    std::string m_out;
    std::map<std::string, uint32_t> m_memo;
};

} // namespace te
