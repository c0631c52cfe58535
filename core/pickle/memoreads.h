#pragma once
// Which memo slots a pickle reads back (GET, BINGET, LONG_BINGET), found by one pass over
// its opcodes before it runs. Python's pickler memoizes nearly everything it writes, and a
// checkpoint reads back only a few strings and classes: the machine keeps in the memo only
// what will be read, so the rest (every tensor's argument tuples) can be freed once used.
#include "core/pickle/picklemachine.h"

#include <string_view>
#include <unordered_set>
#include <vector>

namespace te {

class MemoReads {
public:
    // Follows the opcodes from the start to STOP. Anything it cannot follow (an unknown
    // opcode, a truncated argument, a limit) makes every slot count as read: the machine
    // then reports the problem itself, at the same byte.
    void scan(std::string_view bytes, const PickleLimits &limits);
    bool isRead(uint64_t index) const
    {
        if (m_all)
            return true;
        if (index < m_dense.size())
            return m_dense[index];
        return !m_sparse.empty() && m_sparse.count(index);
    }

private:
    void read(uint64_t index);

    bool m_all = true;
    std::vector<bool> m_dense;
    std::unordered_set<uint64_t> m_sparse; // indices far beyond the others
};

} // namespace te
