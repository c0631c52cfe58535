#pragma once
// The commands of torch-explorer-cli (DESIGN.md, the headless contract). Each returns
// the process exit code: 0 ok, 1 the check failed, 2 unreadable input or bad arguments.
#include <string>
#include <vector>

namespace te::cli {

int inspectCommand(const std::vector<std::string> &args);
int scanCommand(const std::vector<std::string> &args);
int devicesCommand(const std::vector<std::string> &args);
int checkCommand(const std::vector<std::string> &args);
int diffCommand(const std::vector<std::string> &args);
int versionCommand();
int helpCommand();

} // namespace te::cli
