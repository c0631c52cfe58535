#pragma once
// The one exception type of the reader: every failure to understand bytes says which
// file member and which byte offset it concerns, so a user can tell a truncated download
// from a hostile file.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace te {

class ReadError : public std::runtime_error {
public:
    ReadError(std::string message, std::string member = {}, int64_t offset = -1);

    const std::string &member() const { return m_member; }
    int64_t offset() const { return m_offset; }
    const std::string &message() const { return m_message; }

private:
    std::string m_message;
    std::string m_member;
    int64_t m_offset;
};

// Thrown when the caller's cancel flag was raised; not an error in the file.
class Cancelled : public std::runtime_error {
public:
    Cancelled()
        : std::runtime_error("cancelled")
    { }
};

} // namespace te
