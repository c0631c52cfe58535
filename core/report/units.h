#pragma once
// Numbers as people read them, the same in the terminal, the reports and the window.
#include <cstdint>
#include <string>

namespace te {

std::string formatBytes(uint64_t bytes); // "4.6 MiB"
std::string formatCount(uint64_t count); // "1.2 M"

} // namespace te
