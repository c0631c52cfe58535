#pragma once
// The commands of torch-explorer-cli (DESIGN.md, the headless contract). Each returns
// the process exit code: 0 ok, 1 the check failed, 2 unreadable input or bad arguments.
#include <memory>
#include <string>
#include <vector>

namespace te {
struct Document;
}

namespace te::cli {

// Reads a file with the core reader; null after printing why on stderr.
std::unique_ptr<Document> openOrReport(const std::string &path);
// Keeps a document alive until the process exits. Freeing a document of a hundred
// thousand tensors takes longer than the operating system needs to drop the whole
// process, so commands hand theirs over here when they are done with it.
void keepUntilExit(std::unique_ptr<Document> doc);

int inspectCommand(const std::vector<std::string> &args);
int scanCommand(const std::vector<std::string> &args);
int devicesCommand(const std::vector<std::string> &args);
int checkCommand(const std::vector<std::string> &args);
int diffCommand(const std::vector<std::string> &args);
int runCommand(const std::vector<std::string> &args);
int cacheCommand(const std::vector<std::string> &args);
int versionCommand();
int helpCommand();

} // namespace te::cli
