// `download`: a model's files from the Hugging Face Hub into the local hub cache, in the
// cache's own layout (so transformers finds them), resumable and checked against the sizes
// and hashes the Hub lists.
#include "app/cli/command.h"

#include "core/hub/hubdownload.h"
#include "core/io/readerror.h"
#include "core/report/units.h"
#include "core/report/valuejson.h"

#include <cstdio>
#include <iostream>

namespace te::cli {
namespace {

int download(const Arguments &args)
{
    try {
        const HubSettings settings = HubSettings::fromEnvironment();
        const HubRef ref = parseHubReference(args.operand(0), settings);
        std::vector<std::string> files = args.values("--file");
        if (!ref.file.empty())
            files.push_back(ref.file);
        HubClient client(settings);
        const HubListing listing = client.list(ref);
        const bool json = args.has("--json");
        std::string last;
        const DownloadResult r = downloadToCache(client, listing, files, nullptr, [&](const DownloadProgress &p) {
            if (json || p.file == last || p.fileDone != p.fileSize)
                return;
            last = p.file;
            std::fprintf(stderr, "  %s  %s\n", p.file.c_str(), formatBytes(p.fileSize).c_str());
        });
        if (json) {
            nlohmann::ordered_json out{{"repo", listing.repo},       {"revision", listing.revision},
                                       {"commit", listing.commit},   {"snapshot", r.snapshot},
                                       {"files", r.files},           {"downloaded_bytes", r.downloaded},
                                       {"resumed_bytes", r.resumed}, {"reused_bytes", r.reused}};
            std::cout << jsonText(out, 2) << "\n";
        } else {
            std::printf("%s at %s (commit %.12s): %zu files in %s\n  downloaded %s, resumed %s, already cached %s\n",
                        listing.repo.c_str(), listing.revision.c_str(), listing.commit.c_str(), r.files.size(),
                        r.snapshot.c_str(), formatBytes(r.downloaded).c_str(), formatBytes(r.resumed).c_str(),
                        formatBytes(r.reused).c_str());
        }
        return 0;
    } catch (const ReadError &e) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", e.what());
        return 2;
    }
}

} // namespace

const Command downloadCommand{{"download",
                               {"MODEL"},
                               {repeated("--file", "PATH"), flag("--json")},
                               "MODEL [--file PATH]... [--json]",
                               "download a model (or some of its files) from the Hugging Face Hub into the local "
                               "hub cache",
                               "MODEL is hf:org/name[@revision] or its https://huggingface.co/ address; without "
                               "--file every file of the revision is downloaded.\n"},
                              download};

} // namespace te::cli
