#pragma once
// Small members for records that a checkpoint of many tensors makes millions of: a vector
// that is one pointer while empty (most values have no items and no entries), a string
// held out of line (only globals have a qualified name), and a short string kept inline
// in half the room of std::string (storage keys, device names).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace te {

// The subset of std::vector that values use, for trivially destructible elements (value
// pointers and pairs of them). Its size and capacity live in front of the elements.
template <typename T> class CompactVector {
    static_assert(std::is_trivially_destructible_v<T>, "elements are never destroyed one by one");

public:
    using value_type = T;
    using iterator = T *;
    using const_iterator = const T *;

    CompactVector() = default;
    CompactVector(const CompactVector &other) { assign(other.begin(), other.end()); }
    CompactVector(CompactVector &&other) noexcept
        : m_block(other.m_block)
    {
        other.m_block = nullptr;
    }
    ~CompactVector() { std::free(m_block); }
    CompactVector &operator=(const CompactVector &other)
    {
        if (this != &other)
            assign(other.begin(), other.end());
        return *this;
    }
    CompactVector &operator=(CompactVector &&other) noexcept
    {
        std::swap(m_block, other.m_block);
        return *this;
    }
    CompactVector &operator=(const std::vector<T> &other)
    {
        assign(other.begin(), other.end());
        return *this;
    }

    size_t size() const { return m_block ? m_block->size : 0; }
    bool empty() const { return size() == 0; }
    T *begin() { return elements(); }
    T *end() { return elements() + size(); }
    const T *begin() const { return elements(); }
    const T *end() const { return elements() + size(); }
    T &operator[](size_t i) { return elements()[i]; }
    const T &operator[](size_t i) const { return elements()[i]; }
    const T &at(size_t i) const
    {
        if (i >= size())
            throw std::out_of_range("CompactVector::at");
        return elements()[i];
    }
    T &front() { return elements()[0]; }
    T &back() { return elements()[size() - 1]; }
    const T &front() const { return elements()[0]; }
    const T &back() const { return elements()[size() - 1]; }

    void clear()
    {
        if (m_block)
            m_block->size = 0;
    }
    void reserve(size_t n)
    {
        if (n <= capacity())
            return;
        if (n > UINT32_MAX)
            throw std::length_error("CompactVector: too many elements");
        const size_t count = size();
        void *p = std::malloc(sizeof(Block) + n * sizeof(T));
        if (!p)
            throw std::bad_alloc();
        auto *block = static_cast<Block *>(p);
        block->size = static_cast<uint32_t>(count);
        block->capacity = static_cast<uint32_t>(n);
        std::uninitialized_copy(begin(), end(), reinterpret_cast<T *>(block + 1));
        std::free(m_block);
        m_block = block;
    }
    void resize(size_t n)
    {
        reserve(n);
        if (n > size())
            std::uninitialized_value_construct(end(), elements() + n);
        if (m_block)
            m_block->size = static_cast<uint32_t>(n);
    }
    void push_back(const T &v) { emplace_back(v); }
    template <typename... Args> T &emplace_back(Args &&...args)
    {
        grow(size() + 1);
        T *slot = ::new (static_cast<void *>(end())) T(std::forward<Args>(args)...);
        ++m_block->size;
        return *slot;
    }
    template <typename It> void assign(It first, It last)
    {
        clear();
        insert(end(), first, last);
    }
    // Inserts [first, last) before pos; pos must point into this vector or at its end.
    template <typename It> T *insert(const T *pos, It first, It last)
    {
        const size_t at = static_cast<size_t>(pos - begin());
        const size_t n = static_cast<size_t>(std::distance(first, last));
        if (n == 0)
            return begin() + at;
        grow(size() + n);
        T *where = begin() + at;
        std::uninitialized_copy(std::make_reverse_iterator(end()), std::make_reverse_iterator(where),
                                std::make_reverse_iterator(end() + n));
        std::uninitialized_copy(first, last, where);
        m_block->size += static_cast<uint32_t>(n);
        return where;
    }

private:
    struct Block {
        uint32_t size;
        uint32_t capacity;
    };
    static_assert(alignof(T) <= sizeof(Block), "elements follow the block header");
    size_t capacity() const { return m_block ? m_block->capacity : 0; }
    T *elements() const { return m_block ? reinterpret_cast<T *>(m_block + 1) : nullptr; }
    void grow(size_t n)
    {
        if (n > capacity())
            reserve(std::max<size_t>(n, capacity() < 4 ? 4 : capacity() * 2));
    }

    Block *m_block = nullptr;
};

// A string most values do not have, as one pointer; reads as a const std::string.
class OutOfLineString {
public:
    OutOfLineString() = default;
    OutOfLineString(const OutOfLineString &other) { *this = other.str(); }
    OutOfLineString &operator=(const OutOfLineString &other)
    {
        if (this != &other)
            *this = other.str();
        return *this;
    }
    OutOfLineString &operator=(std::string s)
    {
        if (s.empty())
            m_text.reset();
        else if (m_text)
            *m_text = std::move(s);
        else
            m_text = std::make_unique<std::string>(std::move(s));
        return *this;
    }

    const std::string &str() const { return m_text ? *m_text : none(); }
    operator const std::string &() const { return str(); }
    bool empty() const { return str().empty(); }
    size_t size() const { return str().size(); }
    const char *c_str() const { return str().c_str(); }
    size_t find(std::string_view s, size_t from = 0) const { return std::string_view(str()).find(s, from); }
    bool operator==(const char *s) const { return str() == s; }
    bool operator==(const std::string &s) const { return str() == s; }
    bool operator!=(const char *s) const { return str() != s; }
    bool operator!=(const std::string &s) const { return str() != s; }
    friend std::string operator+(std::string a, const OutOfLineString &b) { return a.append(b.str()); }
    friend std::string operator+(const char *a, const OutOfLineString &b) { return std::string(a).append(b.str()); }
    friend std::string operator+(const OutOfLineString &a, std::string_view b)
    {
        return std::string(a.str()).append(b);
    }
    friend std::ostream &operator<<(std::ostream &os, const OutOfLineString &s) { return os << s.str(); }

private:
    static const std::string &none()
    {
        static const std::string none;
        return none;
    }
    std::unique_ptr<std::string> m_text;
};

// A string of up to 15 bytes inline, a longer one on the heap: 16 bytes where std::string
// takes 32. Reads as a string_view.
class ShortString {
public:
    ShortString() = default;
    ShortString(std::string_view s) { set(s); }
    ShortString(const std::string &s) { set(s); }
    ShortString(const char *s) { set(s); }
    ShortString(const ShortString &other) { set(other.view()); }
    ShortString(ShortString &&other) noexcept
    {
        std::memcpy(m_bytes, other.m_bytes, sizeof m_bytes);
        m_size = other.m_size;
        other.m_size = 0;
    }
    ~ShortString() { release(); }
    ShortString &operator=(const ShortString &other)
    {
        if (this != &other)
            *this = other.view();
        return *this;
    }
    ShortString &operator=(ShortString &&other) noexcept
    {
        if (this != &other) {
            release();
            std::memcpy(m_bytes, other.m_bytes, sizeof m_bytes);
            m_size = other.m_size;
            other.m_size = 0;
        }
        return *this;
    }
    ShortString &operator=(std::string_view s)
    {
        if (m_size == kOnHeap && s.size() > kInline) {
            heap()->assign(s.data(), s.size()); // s may be this very text
            return *this;
        }
        ShortString copy(s);
        return *this = std::move(copy);
    }
    ShortString &operator=(const std::string &s) { return *this = std::string_view(s); }
    ShortString &operator=(const char *s) { return *this = std::string_view(s); }

    std::string_view view() const
    {
        return m_size == kOnHeap ? std::string_view(*heap()) : std::string_view(m_bytes, m_size);
    }
    operator std::string_view() const { return view(); }
    std::string str() const { return std::string(view()); }
    bool empty() const { return view().empty(); }
    size_t size() const { return view().size(); }
    friend bool operator==(const ShortString &a, std::string_view b) { return a.view() == b; }
    friend bool operator!=(const ShortString &a, std::string_view b) { return a.view() != b; }
    friend bool operator<(const ShortString &a, const ShortString &b) { return a.view() < b.view(); }
    friend std::string operator+(std::string a, const ShortString &b) { return a.append(b.view()); }
    friend std::string operator+(const char *a, const ShortString &b) { return std::string(a).append(b.view()); }
    friend std::string operator+(const ShortString &a, std::string_view b) { return a.str().append(b); }
    friend std::ostream &operator<<(std::ostream &os, const ShortString &s) { return os << s.view(); }

private:
    static constexpr uint8_t kInline = 15, kOnHeap = 0xff;
    void set(std::string_view s)
    {
        if (s.size() <= kInline) {
            std::memcpy(m_bytes, s.data(), s.size());
            m_size = static_cast<uint8_t>(s.size());
        } else {
            std::string *text = new std::string(s);
            std::memcpy(m_bytes, &text, sizeof text);
            m_size = kOnHeap;
        }
    }
    std::string *heap() const
    {
        std::string *text;
        std::memcpy(&text, m_bytes, sizeof text);
        return text;
    }
    void release()
    {
        if (m_size == kOnHeap)
            delete heap();
        m_size = 0;
    }
    char m_bytes[kInline] = {};
    uint8_t m_size = 0; // kOnHeap: m_bytes holds a pointer to the text
};

} // namespace te
