// `cache`: the models in the local Hugging Face hub cache, with their revisions, sizes
// and whether each snapshot is complete; open one as hf:org/name[@rev].
#include "app/cli/command.h"

#include "core/formats/hubcache.h"
#include "core/report/units.h"
#include "core/report/valuejson.h"

#include <cstdio>
#include <iostream>

namespace te::cli {
namespace {

void printJson(const std::string &root, const std::vector<CachedModel> &models)
{
    nlohmann::ordered_json out{{"root", root}, {"models", nlohmann::ordered_json::array()}};
    for (const auto &m : models) {
        nlohmann::ordered_json snaps = nlohmann::ordered_json::array();
        for (const auto &s : m.snapshots)
            snaps.push_back({{"commit", s.commit},
                             {"revisions", s.revisions},
                             {"files", s.files},
                             {"bytes", s.bytes},
                             {"complete", s.complete},
                             {"missing", s.missing}});
        out["models"].push_back({{"repo", m.repo}, {"bytes", m.bytes}, {"snapshots", std::move(snaps)}});
    }
    std::cout << jsonText(out, 2) << "\n";
}

void printText(const std::string &root, const std::vector<CachedModel> &models)
{
    std::printf("Hugging Face cache at %s: %zu models\n", root.c_str(), models.size());
    for (const auto &m : models) {
        std::printf("  %s  %s\n", m.repo.c_str(), formatBytes(m.bytes).c_str());
        for (const auto &s : m.snapshots) {
            std::string refs;
            for (const auto &r : s.revisions)
                refs += (refs.empty() ? "" : ", ") + r;
            std::printf("    %.12s  %-12s %s%s\n", s.commit.c_str(), refs.empty() ? "-" : refs.c_str(),
                        s.complete ? "complete" : "incomplete: missing ", s.complete ? "" : s.missing.c_str());
        }
    }
}

int cache(const Arguments &args)
{
    const std::string root = args.has("--root") ? args.value("--root") : hubCacheRoot();
    const auto models = listHubCache(root);
    if (args.has("--json"))
        printJson(root, models);
    else
        printText(root, models);
    return 0;
}

} // namespace

const Command cacheCommand{{"cache",
                            {},
                            {value("--root", "DIR"), flag("--json")},
                            "[--root DIR] [--json]",
                            "models in the Hugging Face hub cache"},
                           cache};

} // namespace te::cli
