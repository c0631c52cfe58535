#pragma once
// Shared by the pickle machine suites: running the machine on hand-written bytes.
#include "core/io/readerror.h"
#include "core/pickle/picklemachine.h"

#include <QtTest>

#include <cmath>
#include <memory>
#include <string>

using namespace std::string_literals;

namespace {

// One run of the machine; keeps the arena alive as long as the values are looked at.
struct Unpickled {
    te::ValueArena arena;
    std::unique_ptr<te::PickleMachine> machine;
    te::Value *value = nullptr;
    QString error;
    int64_t errorOffset = -2;
    std::string errorMember;
};

inline std::unique_ptr<Unpickled> unpickle(const std::string &bytes, te::PickleLimits limits = {})
{
    auto u = std::make_unique<Unpickled>();
    u->machine = std::make_unique<te::PickleMachine>(u->arena, bytes, "test.pkl", nullptr, limits);
    try {
        u->value = u->machine->run();
    } catch (const te::ReadError &e) {
        u->error = QString::fromStdString(e.what());
        u->errorOffset = e.offset();
        u->errorMember = e.member();
    }
    return u;
}

// PyTorch-style: 8-byte little-endian length fields.
inline std::string le64(uint64_t v)
{
    std::string s;
    for (int i = 0; i < 8; ++i)
        s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
}

inline std::string le32(uint32_t v)
{
    std::string s;
    for (int i = 0; i < 4; ++i)
        s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
}

} // namespace

// The bytes must stay alive while the machine runs: the machine keeps a view of them.
#define UNPICKLE_WITH(var, bytes, limits)                                                                              \
    const std::string var##Bytes = (bytes);                                                                            \
    auto var = unpickle(var##Bytes, limits)
#define UNPICKLE(var, bytes) UNPICKLE_WITH(var, bytes, te::PickleLimits())

#define EXPECT_VALUE(u) QVERIFY2((u)->value, qPrintable(QStringLiteral("unexpected error: ") + (u)->error))

#define EXPECT_ERROR(u) QVERIFY2(!(u)->value && !(u)->error.isEmpty(), "the machine accepted bytes it must reject")

Q_DECLARE_METATYPE(te::ValueKind)
