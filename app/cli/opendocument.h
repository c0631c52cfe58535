#pragma once
// Opening the files a command names, shared by the commands that read documents.
#include <memory>
#include <string>

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

} // namespace te::cli
