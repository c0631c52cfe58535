#include "core/io/readerror.h"

namespace te {

static std::string describe(const std::string &message, const std::string &member, int64_t offset)
{
    std::string where;
    if (!member.empty())
        where = member;
    if (offset >= 0)
        where += (where.empty() ? "byte " : " at byte ") + std::to_string(offset);
    return where.empty() ? message : where + ": " + message;
}

ReadError::ReadError(std::string message, std::string member, int64_t offset)
    : std::runtime_error(describe(message, member, offset))
    , m_message(std::move(message))
    , m_member(std::move(member))
    , m_offset(offset)
{ }

} // namespace te
