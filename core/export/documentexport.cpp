#include "core/export/documentexport.h"

#include <cctype>
#include <stdexcept>

namespace te {

// "5GB" (10^9, as transformers reads it), "2GiB" (2^30), "500MB", "123" (bytes).
bool parseByteSize(const std::string &text, uint64_t *out)
{
    size_t i = 0;
    uint64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        if (n > (UINT64_MAX - 9) / 10)
            return false;
        n = n * 10 + static_cast<uint64_t>(text[i++] - '0');
    }
    if (i == 0)
        return false;
    std::string unit = text.substr(i);
    for (char &c : unit)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    static const std::pair<const char *, uint64_t> units[] = {{"", 1},
                                                              {"B", 1},
                                                              {"KB", 1000ULL},
                                                              {"MB", 1000000ULL},
                                                              {"GB", 1000000000ULL},
                                                              {"KIB", 1ULL << 10},
                                                              {"MIB", 1ULL << 20},
                                                              {"GIB", 1ULL << 30},
                                                              {"TB", 1000000000000ULL}};
    for (const auto &[name, factor] : units)
        if (unit == name) {
            if (n > UINT64_MAX / factor)
                return false;
            *out = n * factor;
            return n > 0;
        }
    return false;
}

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
