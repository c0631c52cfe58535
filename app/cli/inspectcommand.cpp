// `inspect FILE`: tensors, modules, state dicts, metadata and the security verdict, read
// with the core reader only (no libtorch).
#include "app/cli/command.h"
#include "app/cli/opendocument.h"

#include "core/formats/documentreader.h"
#include "core/report/inspectreport.h"

#include <cstdio>
#include <iostream>

namespace te::cli {
namespace {

int inspect(const Arguments &args)
{
    auto doc = openOrReport(args.operand(0));
    if (!doc)
        return 2;
    const bool stats = args.has("--stats");
    if (args.has("--json")) {
        writeInspectJson(std::cout, *doc, stats);
        std::cout << "\n";
    } else {
        std::cout << inspectText(*doc, stats);
    }
    std::cout.flush();
    int rc = 0;
    if (!doc->error.empty()) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", doc->error.c_str());
        rc = 2;
    }
    keepUntilExit(std::move(doc));
    return rc;
}

} // namespace

const Command inspectCommand{{"inspect",
                              {"FILE"},
                              {flag("--json"), flag("--stats")},
                              "FILE [--json] [--stats]",
                              "tensors, modules, state dicts, metadata"},
                             inspect};

} // namespace te::cli
