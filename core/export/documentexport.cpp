#include "core/export/documentexport.h"

#include <stdexcept>

namespace te {

std::vector<NamedTensor> exportSelection(const Document &doc, const std::optional<std::string> &stateDict)
{
    std::vector<NamedTensor> out;
    const std::string prefix = stateDict && !stateDict->empty() ? *stateDict + "." : std::string();
    for (const TensorEntry &e : doc.entries) {
        if (stateDict && e.key.compare(0, prefix.size(), prefix) != 0)
            continue;
        out.push_back({e.key.substr(prefix.size()), &doc, e.tensor});
    }
    return out;
}

ExportResult exportDocument(const Document &doc, const ExportRequest &request, const ExportOptions &options)
{
    const std::vector<NamedTensor> tensors = exportSelection(doc, request.stateDict);
    if (tensors.empty())
        throw std::runtime_error(request.stateDict ? "no tensors under \"" + *request.stateDict + "\" to export"
                                                   : std::string("the document holds no tensors to export"));
    ExportResult result;
    result.tensors = tensors.size();
    for (const NamedTensor &n : tensors)
        result.bytes += doc.tensors[static_cast<size_t>(n.tensor)].nbytes();
    const std::string &target = request.target;
    const std::string suffix = ".safetensors";
    if (request.format == ExportFormat::TorchSave) {
        writeTorchStateDict(target, tensors, options);
        result.files = {target};
    } else if (target.size() > suffix.size() &&
               target.compare(target.size() - suffix.size(), suffix.size(), suffix) == 0) {
        writeSafetensors(target, tensors, {}, options);
        result.files = {target};
    } else {
        result.files = writeSafetensorsShards(target, tensors, request.maxShardBytes, options);
    }
    return result;
}

} // namespace te
