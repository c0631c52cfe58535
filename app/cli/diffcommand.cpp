// `diff A B [--json]`: keys, shapes, dtypes and value differences of two files, read with
// the core reader only (no libtorch). Exit 0 when they hold the same tensors, 1 when they
// differ, 2 when either cannot be read or the arguments are wrong.
#include "app/cli/clicommands.h"

#include "core/diagnose/documentdiff.h"
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/report/valuejson.h"

#include <cstdio>
#include <iostream>
#include <memory>

namespace te::cli {

int diffCommand(const std::vector<std::string> &args)
{
    std::vector<std::string> files;
    bool json = false;
    std::string error;
    for (const auto &a : args) {
        if (a == "--json")
            json = true;
        else if (a.rfind("--", 0) == 0)
            error = "unknown option " + a;
        else
            files.push_back(a);
    }
    if (error.empty() && files.size() != 2)
        error = "expected two files, A and B";
    if (!error.empty()) {
        std::fprintf(stderr, "torch-explorer-cli diff: %s\nusage: diff A B [--json]\n", error.c_str());
        return 2;
    }
    // Both are opened before giving up so that one run reports every unreadable input.
    auto a = openOrReport(files[0]);
    auto b = openOrReport(files[1]);
    if (!a || !b)
        return 2;

    const DocumentDiff diff = diffDocuments(*a, *b);
    if (json) {
        nlohmann::ordered_json out{{"a", a->path}, {"b", b->path}};
        const nlohmann::ordered_json body = diffJson(diff);
        for (const auto &[k, v] : body.items())
            out[k] = v;
        std::cout << jsonText(out, 2) << "\n";
    } else {
        std::cout << "A: " << a->path << "\nB: " << b->path << "\n" << diffText(diff);
    }
    // A pickle that failed part-way leaves keys out: the comparison cannot be trusted.
    bool partial = false;
    for (const Document *doc : {a.get(), b.get()}) {
        if (!doc->error.empty()) {
            std::fprintf(stderr, "torch-explorer-cli: %s: %s\n", doc->path.c_str(), doc->error.c_str());
            partial = true;
        }
    }
    if (partial)
        return 2;
    return diff.same() ? 0 : 1;
}

} // namespace te::cli
