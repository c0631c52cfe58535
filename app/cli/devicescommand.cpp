// `devices`: the devices the libtorch runtime can use, with names and memory. Loads the
// runtime library (as `run` does); without it, exit 2 with why.
#include "app/cli/command.h"

#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/runtime/runtimeloader.h"

#include <cstdio>
#include <iostream>

namespace te::cli {
namespace {

int devices(const Arguments &args)
{
    std::string error;
    Runtime *rt = loadRuntime(&error);
    if (!rt) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", error.c_str());
        return 2;
    }
    const auto devices = rt->devices();
    if (args.has("--json")) {
        nlohmann::ordered_json out{{"libtorch", rt->libtorchVersion()}, {"devices", nlohmann::ordered_json::array()}};
        for (const auto &d : devices)
            out["devices"].push_back({{"id", d.id}, {"name", d.name}, {"memory_bytes", d.memoryBytes}});
        std::cout << jsonText(out, 2) << "\n";
        return 0;
    }
    std::printf("libtorch %s\n", rt->libtorchVersion().c_str());
    for (const auto &d : devices)
        std::printf("  %-8s %s%s\n", d.id.c_str(), d.name.c_str(),
                    d.memoryBytes ? (" (" + formatBytes(d.memoryBytes) + ")").c_str() : "");
    return 0;
}

} // namespace

const Command devicesCommand{{"devices", {}, {flag("--json")}, "[--json]", "devices the libtorch runtime can use"},
                             devices};

} // namespace te::cli
