// `scan FILE`: the security report only; exit 1 if anything is dangerous or, with
// --fail-on suspicious, anything torch.load(weights_only=True) would refuse.
#include "app/cli/command.h"
#include "app/cli/opendocument.h"

#include "core/formats/documentreader.h"
#include "core/report/inspectreport.h"
#include "core/report/valuejson.h"

#include <cstdio>
#include <iostream>

namespace te::cli {
namespace {

void printJson(const Document &doc)
{
    nlohmann::ordered_json out{{"path", doc.path}, {"format", formatName(doc.format)}};
    const nlohmann::ordered_json security = securityJson(doc.security);
    for (const auto &[k, v] : security.items())
        out[k] = v;
    if (!doc.error.empty())
        out["error"] = doc.error;
    if (doc.remote)
        out["remote"] = remoteJson(doc);
    std::cout << jsonText(out, 2) << "\n";
}

int scan(const Arguments &args)
{
    auto doc = openOrReport(args.operand(0));
    if (!doc)
        return 2;
    if (args.has("--json"))
        printJson(*doc);
    else
        std::cout << scanText(*doc) << (doc->remote ? "remote: " + remoteText(*doc) + "\n" : std::string());
    if (doc->security.verdict == "dangerous")
        return 1;
    if (!doc->security.complete) {
        std::fprintf(stderr, "torch-explorer-cli: not fully scanned: %s\n", doc->error.c_str());
        return 2;
    }
    // For pipelines that accept only what torch.load(weights_only=True) reads.
    if (args.value("--fail-on", "dangerous") == "suspicious" && !doc->security.weightsOnlyLoadable)
        return 1;
    return 0;
}

} // namespace

const Command scanCommand{{"scan",
                           {"FILE"},
                           {flag("--json"), choice("--fail-on", {"dangerous", "suspicious"})},
                           "FILE [--json] [--fail-on dangerous|suspicious]",
                           "security report; exit 1 if dangerous (or anything weights_only=True would refuse)"},
                          scan};

} // namespace te::cli
