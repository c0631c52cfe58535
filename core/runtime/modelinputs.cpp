#include "core/runtime/modelinputs.h"
#include "core/document/tensorbytes.h"
#include "core/io/readerror.h"
#include "core/runtime/fileinput.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace te {
namespace {

bool isTensorType(const std::string &type) { return type == "Tensor" || type == "Optional[Tensor]"; }

} // namespace

std::vector<std::string> specFields(const std::string &text, char separator)
{
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, separator))
        out.push_back(part);
    return out;
}

bool parseInputSpec(const std::string &text, InputSpec *spec, std::string *error)
{
    if (isFileInputSpec(text)) { // read by loadFileInput once the model's input shape is known
        spec->isTensor = true;
        spec->fill = "data";
        spec->source = text;
        return true;
    }
    if (text.rfind("value:", 0) == 0) {
        spec->isTensor = false;
        spec->text = text.substr(6);
        return true;
    }
    std::string fill = text.substr(0, text.find(':'));
    std::string rest = text.find(':') == std::string::npos ? std::string() : text.substr(text.find(':') + 1);
    spec->isTensor = true;
    spec->fillArgs.clear();
    size_t paren = fill.find('(');
    if (paren != std::string::npos) {
        if (fill.back() != ')') {
            *error = "unclosed parenthesis in " + text;
            return false;
        }
        for (const auto &a : specFields(fill.substr(paren + 1, fill.size() - paren - 2), ',')) {
            char *end = nullptr;
            double v = std::strtod(a.c_str(), &end);
            if (a.empty() || *end) {
                *error = "not a number: " + a;
                return false;
            }
            spec->fillArgs.push_back(v);
        }
        fill = fill.substr(0, paren);
    }
    static const char *fills[] = {"ones", "zeros", "randn", "arange", "linspace", "full"};
    bool known = false;
    for (const char *f : fills)
        known = known || fill == f;
    if (!known) {
        *error = "unknown fill '" + fill + "' (ones, zeros, randn, arange, linspace, full)";
        return false;
    }
    spec->fill = fill;
    auto parts = specFields(rest, ':');
    if (parts.empty() || parts[0].empty()) {
        *error = "a tensor input needs a shape: " + text + " (e.g. ones:1x3x224x224)";
        return false;
    }
    spec->shape.clear();
    for (const auto &d : specFields(parts[0], 'x')) {
        char *end = nullptr;
        long long v = std::strtoll(d.c_str(), &end, 10);
        if (d.empty() || *end || v < 0) {
            *error = "bad dimension '" + d + "' in " + text;
            return false;
        }
        spec->shape.push_back(v);
    }
    spec->dtype = parts.size() > 1 && !parts[1].empty() ? parts[1] : "float32";
    if (dtypeFromTorchName(spec->dtype) == DType::Unknown) {
        *error = "unknown dtype " + spec->dtype;
        return false;
    }
    return true;
}

std::string inputSpecText(const InputSpec &s)
{
    if (!s.isTensor)
        return "value:" + s.text;
    if (s.fill == "data")
        return s.source;
    std::string t = s.fill;
    if (!s.fillArgs.empty()) {
        t += "(";
        for (size_t i = 0; i < s.fillArgs.size(); ++i) {
            std::ostringstream v;
            v << s.fillArgs[i];
            t += (i ? "," : "") + v.str();
        }
        t += ")";
    }
    t += ":";
    for (size_t i = 0; i < s.shape.size(); ++i)
        t += (i ? "x" : "") + std::to_string(s.shape[i]);
    return t + ":" + s.dtype;
}

std::vector<InputSpec> guessInputs(const Document &model, const std::vector<ArgumentInfo> &arguments)
{
    // The first module with a weight decides the input.
    InputSpec first;
    first.shape = {1, 3, 224, 224};
    for (const auto &m : model.modules) {
        std::string cls = m.className.substr(m.className.rfind('.') + 1);
        const std::string weightKey = m.path.empty() ? "weight" : m.path + ".weight";
        const TensorInfo *w = nullptr;
        for (const auto &e : model.entries)
            if (e.key == weightKey)
                w = &model.tensors[static_cast<size_t>(e.tensor)];
        if (!w)
            continue;
        if (cls == "Conv2d" && w->shape.size() == 4)
            first.shape = {1, w->shape[1], 224, 224};
        else if (cls == "Conv1d" && w->shape.size() == 3)
            first.shape = {1, w->shape[1], 128};
        else if (cls == "Conv3d" && w->shape.size() == 5)
            first.shape = {1, w->shape[1], 16, 112, 112};
        else if (cls == "Linear" && w->shape.size() == 2)
            first.shape = {1, w->shape[1]};
        else if (cls == "Embedding" && w->shape.size() == 2) {
            // token ids 0..15, all below the vocabulary size
            first.shape = {1, 16};
            first.dtype = "int64";
            first.fill = w->shape[0] >= 16 ? "arange" : "zeros";
        } else {
            continue;
        }
        break;
    }
    std::vector<InputSpec> out;
    for (const auto &a : arguments) {
        if (!a.defaultValue.empty())
            continue;
        InputSpec s = first;
        s.name = a.name;
        // An exported program says what it was exported with.
        if (!a.shape.empty() && std::all_of(a.shape.begin(), a.shape.end(), [](int64_t d) { return d >= 0; })) {
            s.shape = a.shape;
            s.dtype = a.dtype.empty() ? s.dtype : a.dtype;
            const bool integral = s.dtype.find("int") != std::string::npos || s.dtype == "bool";
            s.fill = integral ? "zeros" : "randn";
            s.fillArgs = integral ? std::vector<double>{} : std::vector<double>{0};
        }
        if (!isTensorType(a.type)) {
            s.isTensor = false;
            s.type = a.type;
            s.text = a.type == "bool" ? "false" : a.type == "float" ? "0.0" : a.type.rfind("List", 0) == 0 ? "1" : "0";
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<ArgumentInfo> parseForwardSignature(const std::string &signature)
{
    std::vector<ArgumentInfo> out;
    size_t open = signature.find('(');
    if (open == std::string::npos)
        return out;
    // Split at commas outside brackets: types like Tuple[int, int] hold commas too.
    std::vector<std::string> parts;
    std::string current;
    int depth = 0;
    for (size_t i = open + 1; i < signature.size(); ++i) {
        char c = signature[i];
        if ((c == ')' && depth == 0)) {
            parts.push_back(current);
            break;
        }
        if (c == '[' || c == '(')
            ++depth;
        else if (c == ']' || c == ')')
            --depth;
        if (c == ',' && depth == 0) {
            parts.push_back(current);
            current.clear();
        } else {
            current += c;
        }
    }
    auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(' '));
        s.erase(s.find_last_not_of(' ') + 1);
        return s;
    };
    for (size_t i = 1; i < parts.size(); ++i) { // parts[0] is self
        std::string p = trim(parts[i]);
        if (p.empty())
            continue;
        ArgumentInfo a;
        size_t colon = p.find(':');
        size_t eq = p.find('=');
        a.name = trim(p.substr(0, std::min(colon, eq)));
        if (colon != std::string::npos)
            a.type = trim(p.substr(colon + 1, eq == std::string::npos ? std::string::npos : eq - colon - 1));
        else
            a.type = "Tensor";
        if (eq != std::string::npos)
            a.defaultValue = trim(p.substr(eq + 1));
        out.push_back(std::move(a));
    }
    return out;
}

uint64_t modelBytes(const Document &model)
{
    uint64_t total = 0;
    for (const auto &e : model.entries)
        total += model.tensors[static_cast<size_t>(e.tensor)].nbytes();
    return total;
}

uint64_t activationEstimate(const Document &model, const std::vector<InputSpec> &inputs)
{
    // Saturating arithmetic: a made-up shape must not wrap round to a small number.
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    auto mul = [](uint64_t a, uint64_t b) { return a != 0 && b > kMax / a ? kMax : a * b; };
    uint64_t in = 0;
    for (const auto &s : inputs) {
        if (!s.isTensor)
            continue;
        uint64_t n = static_cast<uint64_t>(std::max(dtypeItemSize(dtypeFromTorchName(s.dtype)), 1));
        for (int64_t d : s.shape)
            n = mul(n, static_cast<uint64_t>(std::max<int64_t>(d, 0)));
        in = in > kMax - n ? kMax : in + n;
    }
    return mul(mul(in, 4), std::max<uint64_t>(model.modules.size(), 1));
}

uint64_t availableHostMemory()
{
    FILE *f = std::fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t kib = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "MemAvailable: %llu kB", reinterpret_cast<unsigned long long *>(&kib)) == 1)
            break;
    std::fclose(f);
    return kib * 1024;
}

std::string memoryCheck(const Document &model, const std::vector<InputSpec> &inputs, const std::string &device)
{
    if (device != "cpu")
        return {}; // device memory is known to the runtime only where it has CUDA headers
    const uint64_t params = modelBytes(model) * 2, acts = activationEstimate(model, inputs); // file copy + model
    const uint64_t need = acts > std::numeric_limits<uint64_t>::max() - params ? acts : params + acts;
    const uint64_t free = availableHostMemory();
    if (free == 0 || need <= free)
        return {};
    return "the model needs about " + std::to_string(need >> 20) +
           " MiB (parameters, a copy while loading, "
           "activations) but only " +
           std::to_string(free >> 20) + " MiB of memory are available";
}

bool tensorSource(const Document &doc, int tensor, TensorSource *source, std::string *error)
{
    const TensorInfo &t = doc.tensors[static_cast<size_t>(tensor)];
    const uint8_t *base = tensorBase(doc, t, error);
    if (!base)
        return false;
    source->storage = base;
    source->storageBytes = doc.storages[static_cast<size_t>(t.storage)].nbytes;
    source->dtype = dtypeName(t.dtype);
    source->shape = t.shape;
    source->strides = t.strides;
    source->storageOffset = t.storageOffset;
    return true;
}

bool programSource(const Document &doc, ProgramSource *source, std::string *error)
{
    if (doc.format != FileFormat::TorchExport || !doc.zip) {
        *error = "not a torch.export program";
        return false;
    }
    // The program: models/<first model>.json in the spec's layout, or the older
    // serialized_exported_program.json.
    const ZipEntry *program = doc.zip->find("serialized_exported_program.json");
    for (const auto &e : doc.zip->entries()) {
        const std::string name(e.name);
        const size_t at = name.find("models/");
        if (!program && at != std::string::npos && name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0 &&
            name.find('/', at + 7) == std::string::npos)
            program = &e;
    }
    if (!program) {
        *error = "the archive holds no program (an AOTInductor package runs only as compiled code)";
        return false;
    }
    try {
        doc.zip->locate(*program);
        source->programJson = std::string(doc.zip->read(*program, uint64_t(256) << 20));
    } catch (const ReadError &e) {
        *error = e.what();
        return false;
    }
    for (const auto &e : doc.entries) {
        TensorSource t;
        if (!tensorSource(doc, e.tensor, &t, error)) {
            *error = e.key + ": " + *error;
            return false;
        }
        source->tensors.emplace_back(e.key, std::move(t));
    }
    return true;
}

std::vector<ArgumentInfo> programArguments(const Document &doc)
{
    std::vector<ArgumentInfo> out;
    const auto &models = doc.metadata.contains("models") ? doc.metadata["models"] : nlohmann::ordered_json();
    if (!models.is_array() || models.empty() || !models[0].is_string())
        return out;
    const std::string key = "program." + models[0].get<std::string>() + ".inputs";
    if (!doc.metadata.contains(key) || !doc.metadata[key].is_array())
        return out;
    for (const auto &text : doc.metadata[key]) {
        if (!text.is_string())
            continue;
        const std::string s = text.get<std::string>();
        const size_t colon = s.find(": "), bracket = s.find('[', colon);
        ArgumentInfo a;
        a.name = s.substr(0, colon);
        a.type = "Tensor";
        if (colon != std::string::npos && bracket != std::string::npos) {
            a.dtype = s.substr(colon + 2, bracket - colon - 2);
            std::stringstream dims(s.substr(bracket + 1, s.find(']', bracket) - bracket - 1));
            std::string d;
            // A symbolic size ("s0") is -1: not known before the program runs.
            while (std::getline(dims, d, ',')) {
                char *end = nullptr;
                const long long n = std::strtoll(d.c_str(), &end, 10);
                a.shape.push_back(end != d.c_str() && *end == '\0' ? n : -1);
            }
        }
        out.push_back(std::move(a));
    }
    return out;
}

} // namespace te
