#pragma once
// A pickle virtual machine (protocols 0 to 5) that executes nothing. GLOBAL and
// STACK_GLOBAL make symbolic references, REDUCE/NEWOBJ/OBJ/INST/BUILD make symbolic
// calls and objects. A few pure-data builtins (OrderedDict(), set(), _codecs.encode) are
// recognised by exact name and argument shape; everything container-specific (storages,
// tensor rebuilds) is delegated to PickleHooks. Every length is checked against the bytes
// left before anything is allocated, and every resource has a limit.
#include "core/pickle/value.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace te {

struct PickleLimits {
    uint64_t maxOps = 200'000'000;
    uint64_t maxValues = 50'000'000;
    uint64_t maxStack = 10'000'000;
    uint64_t maxMarkDepth = 100'000;
    uint64_t maxMemo = 10'000'000;
    uint64_t maxDigits = 10'000; // protocol 0 INT/LONG/FLOAT text, like Python's int limit
    uint64_t maxLine = 1 << 20;  // a text argument of protocol 0 (GLOBAL names, STRING)
};

// GlobalRef::extensionCode of a global not reached through an extension code.
constexpr int64_t kNoExtension = INT64_MIN;

// One global the pickle references, where, and how it was used.
struct GlobalRef {
    std::string module;
    std::string name;
    int64_t offset = -1;
    bool called = false;                  // used as the callable of REDUCE/NEWOBJ/OBJ/INST
    bool computed = false;                // STACK_GLOBAL operands were not literal strings
    int64_t extensionCode = kNoExtension; // reached through EXT1/2/4 (resolved when the file registers it)
    bool mutated = false;                 // the target of a BUILD: the pickle sets its attributes
    std::string member;                   // which file member's pickle
    std::string qualified() const { return module.empty() ? name : module + "." + name; }
};

// A hook keeps no pointer to the values it is given; a value it makes that refers to
// others holds them (ValueArena::hold), so the machine may free the arguments afterwards.
class MemoReads;

class PickleHooks {
public:
    virtual ~PickleHooks() = default;
    // Resolve a persistent id (BINPERSID/PERSID); return a value or throw ReadError.
    virtual Value *persistentLoad(ValueArena &arena, Value *pid, int64_t offset) = 0;
    // Recognise a call such as a tensor rebuild; return null to leave it symbolic.
    virtual Value *reduce(ValueArena &arena, Value *callee, Value *args, int64_t offset) = 0;
};

class PickleMachine {
public:
    PickleMachine(ValueArena &arena, std::string_view bytes, std::string member, PickleHooks *hooks = nullptr,
                  PickleLimits limits = {});
    ~PickleMachine();

    // Runs to STOP and returns the top value. Throws ReadError (with the member and the
    // byte offset) or Cancelled; globals() holds what was seen up to the failure.
    Value *run(const std::atomic<bool> *cancel = nullptr);

    // Called now and then while running, with how many bytes have been read so far.
    void onRead(std::function<void(uint64_t)> read) { m_onRead = std::move(read); }

    const std::vector<GlobalRef> &globals() const { return m_globals; }
    int protocol() const { return m_protocol; }
    // Offset just past STOP: where the next back-to-back pickle begins (legacy format).
    uint64_t endOffset() const { return m_pos; }

private:
    [[noreturn]] void fail(const std::string &message) const;
    void need(uint64_t n) const;
    uint8_t u8();
    uint64_t uLE(int bytes);
    std::string_view take(uint64_t n);
    std::string_view line();
    Value *make(ValueKind kind);
    Value *hold(Value *v) { return ValueArena::hold(v); }
    void drop(Value *v) { m_arena.drop(v); }
    Value *shared(Value *&slot, ValueKind kind, int64_t integer = 0);
    Value *smallInt(int64_t v);
    void push(Value *v);
    Value *pop();
    Value *top();
    std::vector<Value *> popMark();
    Value *makeGlobal(std::string module, std::string name, bool computed);
    Value *reduce(Value *callee, Value *args);
    Value *newObject(Value *cls, Value *args);
    void markCalled(Value *callee);
    void noteCallsInside(Value *callee, Value *args);
    Value *extension(int64_t code);
    void setItems(Value *target, const std::vector<Value *> &kv);
    void appendItems(Value *target, const std::vector<Value *> &items);
    void build(Value *target, Value *state);
    Value *memoGet(uint64_t index);
    void memoPut(uint64_t index, Value *v);
    bool memoHas(uint64_t index) const;
    Value *parseIntText(std::string_view text, bool isLong);
    Value *parseLongBytes(std::string_view bytes);
    void step(uint8_t op);

    ValueArena &m_arena;
    std::string_view m_bytes;
    std::string m_member;
    PickleHooks *m_hooks;
    std::function<void(uint64_t)> m_onRead;
    PickleLimits m_limits;
    uint64_t m_pos = 0;
    uint64_t m_opOffset = 0;
    uint64_t m_ops = 0;
    uint64_t m_made = 0;
    int m_protocol = 0;
    bool m_stopped = false;
    std::vector<Value *> m_stack;
    std::vector<size_t> m_marks;
    // Pickles number their memo densely from 0: bits for those, a map for the rest (a
    // hostile LONG_BINPUT 0xFFFFFFFF must not allocate four billion slots). Values are kept
    // only for the slots the pickle reads back (m_reads); the others are only counted.
    std::unique_ptr<MemoReads> m_reads;
    std::vector<bool> m_memoPresent;
    std::vector<Value *> m_memoDense;
    std::unordered_map<uint64_t, Value *> m_memo;
    uint64_t m_memoCount = 0;
    std::vector<GlobalRef> m_globals;
    // copyreg.add_extension(module, name, code) calls seen so far: what EXT codes mean
    // in a process that ran them (the call itself is rated on its own).
    std::unordered_map<int64_t, std::pair<std::string, std::string>> m_extensions;
    static constexpr size_t kSharedInts = 256;
    Value *m_ints[kSharedInts] = {};
    Value *m_none = nullptr;
    Value *m_true = nullptr;
    Value *m_false = nullptr;
    Value *m_emptyTuple = nullptr;
};

// Decoders shared with tests: Python's quoted STRING and raw-unicode-escape UNICODE text.
std::string decodePythonStringLiteral(std::string_view quoted, bool *ok);
std::string decodeRawUnicodeEscape(std::string_view text);
// UTF-8 as Python's unpickler accepts it: no overlongs, nothing past U+10FFFF.
bool isValidUtf8(std::string_view s);
std::string latin1ToUtf8(std::string_view s);

} // namespace te
