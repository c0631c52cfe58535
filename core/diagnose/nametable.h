#pragma once
// A hash table from names to numbers for the key check's hundred thousand names: names are
// viewed where they are kept (they must outlive the table), nothing is allocated per
// entry, and a name that is not there is usually told by one look into a small array of
// slots, without visiting any name. A name may be looked up within a scope (a module's
// number).
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace te {

class NameTable {
public:
    static constexpr uint32_t kNone = UINT32_MAX;

    explicit NameTable(size_t expected = 0)
    {
        m_entries.reserve(expected);
        rehash(capacityFor(expected));
    }

    uint32_t find(std::string_view name, uint32_t scope = 0) const
    {
        const uint64_t hash = hashOf(name, scope);
        for (size_t i = hash & m_mask;; i = (i + 1) & m_mask) {
            const uint64_t slot = m_slots[i];
            if (slot == 0)
                return kNone;
            if ((slot >> 32) == (hash >> 32)) {
                const Entry &e = m_entries[(slot & 0xffffffffu) - 1];
                if (e.scope == scope && e.name == name)
                    return e.value;
            }
        }
    }

    // The number of (scope, name), which is `value` when it was not there yet: then true.
    std::pair<uint32_t, bool> insert(std::string_view name, uint32_t value, uint32_t scope = 0)
    {
        if (2 * (m_entries.size() + 1) > m_slots.size())
            rehash(2 * m_slots.size());
        const uint64_t hash = hashOf(name, scope);
        for (size_t i = hash & m_mask;; i = (i + 1) & m_mask) {
            const uint64_t slot = m_slots[i];
            if (slot == 0) {
                m_entries.push_back({name, scope, value, hash});
                m_slots[i] = slotOf(hash, m_entries.size());
                return {value, true};
            }
            if ((slot >> 32) == (hash >> 32)) {
                const Entry &e = m_entries[(slot & 0xffffffffu) - 1];
                if (e.scope == scope && e.name == name)
                    return {e.value, false};
            }
        }
    }

    size_t size() const { return m_entries.size(); }

private:
    struct Entry {
        std::string_view name;
        uint32_t scope;
        uint32_t value;
        uint64_t hash;
    };

    static size_t capacityFor(size_t n)
    {
        size_t c = 16;
        while (c < 2 * n)
            c *= 2;
        return c;
    }

    static uint64_t hashOf(std::string_view name, uint32_t scope)
    {
        const uint64_t h = std::hash<std::string_view>()(name);
        return h ^ (static_cast<uint64_t>(scope) * 0x9E3779B97F4A7C15ull);
    }

    // The hash's high half beside the entry's number (from 1; 0 is an empty slot).
    static uint64_t slotOf(uint64_t hash, size_t entry) { return (hash & 0xffffffff00000000ull) | entry; }

    void rehash(size_t capacity)
    {
        m_slots.assign(capacity, 0);
        m_mask = capacity - 1;
        for (size_t e = 0; e < m_entries.size(); ++e) {
            size_t i = m_entries[e].hash & m_mask;
            while (m_slots[i] != 0)
                i = (i + 1) & m_mask;
            m_slots[i] = slotOf(m_entries[e].hash, e + 1);
        }
    }

    std::vector<uint64_t> m_slots; // a power of two of them, at most half used
    std::vector<Entry> m_entries;  // in the order they came
    size_t m_mask = 0;
};

} // namespace te
