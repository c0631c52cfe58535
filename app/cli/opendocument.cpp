#include "app/cli/opendocument.h"

#include "core/formats/documentreader.h"
#include "core/io/readerror.h"

#include <cstdio>
#include <new>
#include <vector>

namespace te::cli {

std::unique_ptr<Document> openOrReport(const std::string &path)
{
    try {
        return readDocument(path);
    } catch (const ReadError &e) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", e.what());
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "torch-explorer-cli: %s: out of memory while reading\n", path.c_str());
    }
    return nullptr;
}

void keepUntilExit(std::unique_ptr<Document> doc)
{
    // Reachable through a static, so a leak checker does not report it.
    static auto *kept = new std::vector<std::unique_ptr<Document>>;
    kept->push_back(std::move(doc));
}

} // namespace te::cli
