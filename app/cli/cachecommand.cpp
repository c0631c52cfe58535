// torch-explorer-cli cache: the models in the local Hugging Face hub cache, with their
// revisions, sizes and whether each snapshot is complete; open one as hf:org/name[@rev].
#include "app/cli/clicommands.h"

#include "core/formats/hubcache.h"
#include "core/report/valuejson.h"
#include "core/report/units.h"

#include <cstdio>
#include <iostream>

namespace te::cli {

int cacheCommand(const std::vector<std::string> &args)
{
    bool json = false;
    std::string root = hubCacheRoot();
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--json") {
            json = true;
        } else if (args[i] == "--root" && i + 1 < args.size()) {
            root = args[++i];
        } else {
            std::fprintf(stderr, "torch-explorer-cli cache: unknown argument %s\nusage: cache [--root DIR] [--json]\n",
                         args[i].c_str());
            return 2;
        }
    }
    const auto models = listHubCache(root);
    if (json) {
        nlohmann::ordered_json out{{"root", root}, {"models", nlohmann::ordered_json::array()}};
        for (const auto &m : models) {
            nlohmann::ordered_json snaps = nlohmann::ordered_json::array();
            for (const auto &s : m.snapshots)
                snaps.push_back({{"commit", s.commit}, {"revisions", s.revisions}, {"files", s.files},
                                 {"bytes", s.bytes}, {"complete", s.complete}, {"missing", s.missing}});
            out["models"].push_back({{"repo", m.repo}, {"bytes", m.bytes}, {"snapshots", std::move(snaps)}});
        }
        std::cout << jsonText(out, 2) << "\n";
        return 0;
    }
    std::printf("Hugging Face cache at %s: %zu models\n", root.c_str(), models.size());
    for (const auto &m : models) {
        std::printf("  %s  %s\n", m.repo.c_str(), formatBytes(m.bytes).c_str());
        for (const auto &s : m.snapshots) {
            std::string refs;
            for (const auto &r : s.revisions)
                refs += (refs.empty() ? "" : ", ") + r;
            std::printf("    %.12s  %-12s %s%s\n", s.commit.c_str(), refs.empty() ? "-" : refs.c_str(),
                        s.complete ? "complete" : "incomplete: missing ",
                        s.complete ? "" : s.missing.c_str());
        }
    }
    return 0;
}

} // namespace te::cli
