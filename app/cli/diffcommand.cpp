// `diff A B`: keys, shapes, dtypes and value differences of two files, read with the core
// reader only (no libtorch). The keys are lined up first (state dicts, wrapper prefixes;
// printed), unless --exact. Exit 0 when they hold the same tensors, 1 when they differ, 2
// when either cannot be read or the arguments are wrong.
#include "app/cli/command.h"
#include "app/cli/opendocument.h"

#include "core/diagnose/documentdiff.h"
#include "core/formats/documentreader.h"
#include "core/report/valuejson.h"

#include <cstdio>
#include <iostream>
#include <memory>

namespace te::cli {
namespace {

void printDiff(const Document &a, const Document &b, const DocumentDiff &diff, bool json)
{
    if (!json) {
        std::cout << "A: " << a.path << "\nB: " << b.path << "\n" << diffText(diff);
        return;
    }
    nlohmann::ordered_json out{{"a", a.path}, {"b", b.path}};
    const nlohmann::ordered_json body = diffJson(diff);
    for (const auto &[k, v] : body.items())
        out[k] = v;
    std::cout << jsonText(out, 2) << "\n";
}

int diff(const Arguments &args)
{
    // Both are opened before giving up so that one run reports every unreadable input.
    auto a = openOrReport(args.operand(0));
    auto b = openOrReport(args.operand(1));
    if (!a || !b)
        return 2;
    const KeyAlignment alignment = args.has("--exact") ? KeyAlignment{} : alignKeys(*a, *b);
    const DocumentDiff diff = diffDocuments(*a, *b, alignment);
    printDiff(*a, *b, diff, args.has("--json"));
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

} // namespace

const Command diffCommand{{"diff",
                           {"A", "B"},
                           {flag("--json"), flag("--exact")},
                           "A B [--json] [--exact]",
                           "keys, shapes, dtypes, value differences"},
                          diff};

} // namespace te::cli
