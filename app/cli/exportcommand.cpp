// `export`: a document's tensors as a file that torch.load reads, or as safetensors in
// the layout save_pretrained writes, from any readable source (a distributed checkpoint
// included), streaming tensor by tensor.
#include "app/cli/command.h"
#include "app/cli/opendocument.h"

#include "core/document/document.h"
#include "core/export/documentexport.h"
#include "core/io/readerror.h"
#include "core/report/units.h"
#include "core/report/valuejson.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>

namespace te::cli {
namespace {

int exportState(const Arguments &args)
{
    ExportRequest request;
    request.target = args.value("--to");
    // Without --format, the target says: a .pt/.pth/.bin file is torch.save's, anything
    // else (a .safetensors file, a folder) safetensors.
    const std::string &to = request.target;
    auto endsWith = [&to](const char *s) {
        const std::string e(s);
        return to.size() > e.size() && to.compare(to.size() - e.size(), e.size(), e) == 0;
    };
    const std::string format =
        args.value("--format", endsWith(".pt") || endsWith(".pth") || endsWith(".bin") ? "pt" : "safetensors");
    request.format = format == "safetensors" ? ExportFormat::Safetensors : ExportFormat::TorchSave;
    if (args.has("--state-dict"))
        request.stateDict = args.value("--state-dict");
    if (args.has("--max-shard-size") && !parseByteSize(args.value("--max-shard-size"), &request.maxShardBytes)) {
        std::fprintf(stderr, "torch-explorer-cli: --max-shard-size %s is not a size (say 5GB, 500MB or 2GiB)\n",
                     args.value("--max-shard-size").c_str());
        return 2;
    }
    auto doc = openOrReport(args.operand(0));
    if (!doc)
        return 2;
    if (request.stateDict && !request.stateDict->empty() &&
        std::find(doc->stateDicts.begin(), doc->stateDicts.end(), *request.stateDict) == doc->stateDicts.end()) {
        std::string known;
        for (const auto &s : doc->stateDicts)
            known += (known.empty() ? "" : ", ") + (s.empty() ? std::string("\"\" (the root)") : s);
        std::fprintf(stderr, "torch-explorer-cli: %s holds no state dict \"%s\"; it has: %s\n", doc->path.c_str(),
                     request.stateDict->c_str(), known.empty() ? "none" : known.c_str());
        keepUntilExit(std::move(doc));
        return 2;
    }
    try {
        const ExportResult r = exportDocument(*doc, request);
        if (args.has("--json")) {
            nlohmann::ordered_json out{{"source", doc->path},
                                       {"format", request.format == ExportFormat::Safetensors ? "safetensors" : "pt"},
                                       {"files", r.files},
                                       {"tensors", r.tensors},
                                       {"bytes", r.bytes}};
            std::cout << jsonText(out, 2) << "\n";
        } else {
            std::printf("exported %zu tensors (%s) from %s\n", r.tensors, formatBytes(r.bytes).c_str(),
                        doc->path.c_str());
            for (const auto &f : r.files)
                std::printf("  %s\n", f.c_str());
        }
        keepUntilExit(std::move(doc));
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", e.what());
        keepUntilExit(std::move(doc));
        return 2;
    }
}

} // namespace

const Command exportCommand{
    {"export",
     {"SRC"},
     {required("--to", "OUT"), choice("--format", {"pt", "safetensors"}), value("--state-dict", "PATH"),
      value("--max-shard-size", "SIZE"), flag("--json")},
     "SRC --to OUT.pt|OUT_DIR --format pt|safetensors [--state-dict PATH] [--max-shard-size SIZE] [--json]",
     "write the tensors of any readable model as a file torch.load reads, or as safetensors, tensor by tensor",
     "Without --format, OUT says which: a .pt, .pth or .bin file is torch.save's, anything else safetensors. "
     "--format pt writes a torch.save zip (an OrderedDict of tensors) to OUT. --format safetensors writes OUT "
     "when it ends in .safetensors, otherwise the folder OUT in save_pretrained's layout: model.safetensors, or "
     "model-00001-of-0000N.safetensors shards of at most --max-shard-size (default 5GB) and "
     "model.safetensors.index.json.\n"
     "Keys are the tensors' dotted paths (model.layers.0.weight in a distributed checkpoint); --state-dict model "
     "exports only that state dict, without its prefix. Values that are not tensors (a step count, optimizer "
     "settings) are not exported. Memory stays flat whatever the size of the model.\n"},
    exportState};

} // namespace te::cli
