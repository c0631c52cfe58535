#include "app/cli/clicommands.h"

#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/report/valuejson.h"
#include "core/report/inspectreport.h"
#include "core/report/units.h"
#include "core/runtime/runtimeloader.h"

#include <cstdio>
#include <iostream>

namespace te::cli {
namespace {

struct Parsed {
    std::vector<std::string> positional;
    bool json = false;
    bool stats = false;
    std::string error;
};

Parsed parse(const std::vector<std::string> &args, bool allowStats)
{
    Parsed p;
    for (const auto &a : args) {
        if (a == "--json")
            p.json = true;
        else if (a == "--stats" && allowStats)
            p.stats = true;
        else if (a.rfind("--", 0) == 0)
            p.error = "unknown option " + a;
        else
            p.positional.push_back(a);
    }
    return p;
}

} // namespace

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

int helpCommand()
{
    std::printf(
        "torch-explorer-cli %s: look inside PyTorch model files without running them\n"
        "\n"
        "usage:\n"
        "  torch-explorer-cli inspect FILE [--json] [--stats]   tensors, modules, state dicts, metadata\n"
        "  torch-explorer-cli scan FILE [--json] [--fail-on dangerous|suspicious]\n"
        "                                                       security report; exit 1 if dangerous (or\n"
        "                                                       anything weights_only=True would refuse)\n"
        "  torch-explorer-cli check WEIGHTS --against REFERENCE [--json] [--non-strict] [--min-loaded FRACTION]\n"
        "                     [--rename FROM=TO]...\n"
        "                     [--rename re:PATTERN=REPLACEMENT]... [--state-dict KEY]\n"
        "                                                       would load_state_dict succeed; exit 1 if not\n"
        "  torch-explorer-cli diff A B [--json]                 keys, shapes, dtypes, value differences\n"
        "  torch-explorer-cli run MODEL [--weights FILE] [--device D] [--input SPEC]... [--repeat N] [--json]\n"
        "                                                       run TorchScript on made-up inputs (runs its code)\n"
        "  torch-explorer-cli devices [--json]                  devices the libtorch runtime can use\n"
        "  torch-explorer-cli cache [--root DIR] [--json]       models in the Hugging Face hub cache\n"
        "  torch-explorer-cli --version                         versions of the program and its runtime\n"
        "\n"
        "FILE is anything torch.save or torch.jit.save wrote: state dicts, checkpoints, whole pickled\n"
        "models, TorchScript, legacy (pre-1.6) files; safetensors; a Hugging Face model folder or its\n"
        "*.index.json; hf:org/name[@revision] from the local hub cache. Nothing in a file is executed.\n"
        "exit status: 0 ok, 1 the check failed (dangerous content, would not load, files differ),\n"
        "2 unreadable input or bad arguments\n",
        TE_VERSION);
    return 0;
}

int versionCommand()
{
    std::printf("torch-explorer-cli %s\n", TE_VERSION);
    std::string error;
    if (Runtime *rt = loadRuntime(&error))
        std::printf("runtime: libtorch %s\n", rt->libtorchVersion().c_str());
    else
        std::printf("runtime: missing (%s)\n", error.c_str());
    return 0;
}

int inspectCommand(const std::vector<std::string> &args)
{
    Parsed p = parse(args, true);
    if (!p.error.empty() || p.positional.size() != 1) {
        std::fprintf(stderr, "torch-explorer-cli inspect: %s\nusage: inspect FILE [--json] [--stats]\n",
                     p.error.empty() ? "expected one FILE" : p.error.c_str());
        return 2;
    }
    auto doc = openOrReport(p.positional[0]);
    if (!doc)
        return 2;
    if (p.json)
        {
        writeInspectJson(std::cout, *doc, p.stats);
        std::cout << "\n";
    }
    else
        std::cout << inspectText(*doc, p.stats);
    std::cout.flush();
    int rc = 0;
    if (!doc->error.empty()) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", doc->error.c_str());
        rc = 2;
    }
    keepUntilExit(std::move(doc));
    return rc;
}

int scanCommand(const std::vector<std::string> &args)
{
    // --fail-on takes a value; the shared parser knows only flags, so take it out first.
    std::vector<std::string> rest;
    std::string failOn = "dangerous", error;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--fail-on" || args[i].rfind("--fail-on=", 0) == 0) {
            const bool inline_ = args[i].size() > 9;
            if (!inline_ && i + 1 >= args.size()) {
                error = "--fail-on needs dangerous or suspicious";
                break;
            }
            failOn = inline_ ? args[i].substr(10) : args[++i];
            if (failOn != "dangerous" && failOn != "suspicious")
                error = "--fail-on takes dangerous or suspicious, not '" + failOn + "'";
        } else {
            rest.push_back(args[i]);
        }
    }
    Parsed p = parse(rest, false);
    if (error.empty())
        error = p.error;
    if (!error.empty() || p.positional.size() != 1) {
        std::fprintf(stderr, "torch-explorer-cli scan: %s\nusage: scan FILE [--json] [--fail-on dangerous|suspicious]\n",
                     error.empty() ? "expected one FILE" : error.c_str());
        return 2;
    }
    auto doc = openOrReport(p.positional[0]);
    if (!doc)
        return 2;
    if (p.json) {
        nlohmann::ordered_json out{{"path", doc->path}, {"format", formatName(doc->format)}};
        const nlohmann::ordered_json security = securityJson(doc->security);
        for (const auto &[k, v] : security.items())
            out[k] = v;
        if (!doc->error.empty())
            out["error"] = doc->error;
        std::cout << jsonText(out, 2) << "\n";
    } else {
        std::cout << scanText(*doc);
    }
    if (doc->security.verdict == "dangerous")
        return 1;
    if (!doc->security.complete) {
        std::fprintf(stderr, "torch-explorer-cli: not fully scanned: %s\n", doc->error.c_str());
        return 2;
    }
    // For pipelines that accept only what torch.load(weights_only=True) reads.
    if (failOn == "suspicious" && !doc->security.weightsOnlyLoadable)
        return 1;
    return 0;
}

int devicesCommand(const std::vector<std::string> &args)
{
    Parsed p = parse(args, false);
    if (!p.error.empty() || !p.positional.empty()) {
        std::fprintf(stderr, "torch-explorer-cli devices: %s\n", p.error.empty() ? "takes no FILE" : p.error.c_str());
        return 2;
    }
    std::string error;
    Runtime *rt = loadRuntime(&error);
    if (!rt) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", error.c_str());
        return 2;
    }
    auto devices = rt->devices();
    if (p.json) {
        nlohmann::ordered_json out{{"libtorch", rt->libtorchVersion()}, {"devices", nlohmann::ordered_json::array()}};
        for (const auto &d : devices)
            out["devices"].push_back({{"id", d.id}, {"name", d.name}, {"memory_bytes", d.memoryBytes}});
        std::cout << jsonText(out, 2) << "\n";
    } else {
        std::printf("libtorch %s\n", rt->libtorchVersion().c_str());
        for (const auto &d : devices)
            std::printf("  %-8s %s%s\n", d.id.c_str(), d.name.c_str(),
                        d.memoryBytes ? (" (" + formatBytes(d.memoryBytes) + ")").c_str() : "");
    }
    return 0;
}

} // namespace te::cli
