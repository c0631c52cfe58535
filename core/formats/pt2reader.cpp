#include "core/formats/pt2reader.h"
#include "core/formats/readersupport.h"
#include "core/io/boundedjson.h"
#include "core/io/readerror.h"
#include "core/io/ziparchive.h"

#include <algorithm>
#include <map>

namespace te {
namespace {

constexpr uint64_t kMaxProgram = uint64_t(256) << 20; // a graph of a few hundred thousand nodes
constexpr uint64_t kMaxConfig = uint64_t(64) << 20;
constexpr size_t kGraphLines = 400; // nodes listed in the metadata; the count says the rest

std::string trimmed(std::string_view s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.remove_suffix(1);
    return std::string(s.substr(0, 64));
}

bool endsWith(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A member's bytes, located and within a size limit; null when the archive lacks it.
const ZipEntry *member(Document &doc, const std::string &name)
{
    const ZipEntry *e = doc.zip->find(name);
    if (e)
        doc.zip->locate(*e);
    return e;
}

nlohmann::json memberJson(Document &doc, const ZipEntry &e, uint64_t limit)
{
    const std::string name(e.name);
    if (e.size > limit)
        throw ReadError("over " + std::to_string(limit >> 20) + " MiB, more than any real one", name);
    return parseBoundedJsonUnordered(doc.zip->read(e, limit), name);
}

// PyTorch's serialized ScalarType (torch/_export/serde/schema.py), to our dtypes.
DType dtypeOfScalarType(int64_t v)
{
    switch (v) {
    case 1: return DType::UInt8;
    case 2: return DType::Int8;
    case 3: return DType::Int16;
    case 4: return DType::Int32;
    case 5: return DType::Int64;
    case 6: return DType::Float16;
    case 7: return DType::Float32;
    case 8: return DType::Float64;
    case 9: return DType::Complex32;
    case 10: return DType::Complex64;
    case 11: return DType::Complex128;
    case 12: return DType::Bool;
    case 13: return DType::BFloat16;
    case 28: return DType::UInt16;
    case 29: return DType::Float8E4M3FN;
    case 30: return DType::Float8E5M2;
    case 31: return DType::Float8E4M3FNUZ;
    case 32: return DType::Float8E5M2FNUZ;
    default: return DType::Unknown;
    }
}

// {"as_int": n}; false for a symbolic size ({"as_expr": ...}) or anything else.
bool symInt(const nlohmann::json &v, int64_t *out)
{
    if (!v.is_object() || !v.contains("as_int") || !v["as_int"].is_number_integer())
        return false;
    *out = v["as_int"].get<int64_t>();
    return true;
}

std::string shapeOf(const nlohmann::json &meta)
{
    std::string text = "[";
    if (meta.contains("sizes") && meta["sizes"].is_array())
        for (const auto &d : meta["sizes"]) {
            int64_t n = 0;
            text += (text.size() > 1 ? ", " : "") + (symInt(d, &n) ? std::to_string(n) : std::string("?"));
        }
    return text + "]";
}

std::string describeMeta(const nlohmann::json &meta)
{
    if (!meta.is_object())
        return "?";
    const int64_t dtype =
        meta.contains("dtype") && meta["dtype"].is_number_integer() ? meta["dtype"].get<int64_t>() : 0;
    return std::string(dtypeName(dtypeOfScalarType(dtype))) + shapeOf(meta);
}

// One tensor of a payload config: the shared storage of its payload file and the view.
void addPayloadTensor(Document &doc, const std::string &key, const nlohmann::json &payload, const std::string &folder,
                      std::map<std::string, int> &storageOfFile)
{
    TensorInfo t;
    auto fail = [&](const std::string &why) {
        t.error = why;
        doc.entries.push_back({key, static_cast<int>(doc.tensors.size())});
        doc.tensors.push_back(std::move(t));
    };
    if (!payload.is_object() || !payload.contains("tensor_meta") || !payload["tensor_meta"].is_object())
        return fail("the weights config gives no tensor_meta for it");
    const auto &meta = payload["tensor_meta"];
    const int64_t scalar =
        meta.contains("dtype") && meta["dtype"].is_number_integer() ? meta["dtype"].get<int64_t>() : 0;
    t.dtype = dtypeOfScalarType(scalar);
    t.requiresGrad = meta.contains("requires_grad") && meta["requires_grad"].is_boolean() && meta["requires_grad"];
    t.isParameter = payload.contains("is_param") && payload["is_param"].is_boolean() && payload["is_param"];
    const auto &sizes = meta.contains("sizes") ? meta["sizes"] : nlohmann::json();
    const auto &strides = meta.contains("strides") ? meta["strides"] : nlohmann::json();
    if (!sizes.is_array() || !strides.is_array() || sizes.size() != strides.size())
        return fail("sizes and strides do not match in the weights config");
    for (size_t i = 0; i < sizes.size(); ++i) {
        int64_t n = 0, s = 0;
        if (!symInt(sizes[i], &n) || !symInt(strides[i], &s) || n < 0)
            return fail("a size or stride is symbolic or negative");
        t.shape.push_back(n);
        t.strides.push_back(s);
    }
    if (meta.contains("storage_offset") && !symInt(meta["storage_offset"], &t.storageOffset))
        return fail("the storage offset is symbolic");
    if (t.dtype == DType::Unknown)
        return fail("dtype " + std::to_string(scalar) + " of the export schema is not known to this program");
    if (payload.contains("use_pickle") && payload["use_pickle"].is_boolean() && payload["use_pickle"])
        return fail("stored with torch.save (a tensor subclass); its values are not read");
    const std::string path = payload.contains("path_name") && payload["path_name"].is_string()
                                 ? payload["path_name"].get<std::string>()
                                 : "";
    if (path.empty() || path.find('/') != std::string::npos || path.find("..") != std::string::npos)
        return fail("its payload name '" + path + "' is not a file of " + folder);
    auto found = storageOfFile.find(path);
    if (found == storageOfFile.end()) {
        StorageInfo s;
        s.key = path;
        s.location = "cpu";
        s.dtype = t.dtype;
        s.member = folder + path;
        const ZipEntry *e = member(doc, folder + path);
        if (!e) {
            s.error = "payload " + folder + path + " is missing from the archive";
        } else if (e->method != 0) {
            s.error = "payload " + folder + path + " is compressed; PyTorch stores payloads uncompressed";
        } else {
            s.fileOffset = e->dataOffset;
            s.nbytes = e->size;
            s.numel = dtypeItemSize(t.dtype) ? e->size / static_cast<uint64_t>(dtypeItemSize(t.dtype)) : 0;
            s.resolved = true;
        }
        found = storageOfFile.emplace(path, static_cast<int>(doc.storages.size())).first;
        doc.storages.push_back(std::move(s));
    }
    t.storage = found->second;
    const StorageInfo &s = doc.storages[static_cast<size_t>(t.storage)];
    uint64_t need = 0;
    std::string why;
    if (!s.error.empty())
        t.error = s.error;
    else if (!tensorExtentBytes(t, &need, &why))
        t.error = why;
    else if (need > s.nbytes && t.numel() > 0)
        t.error = "the tensor reaches byte " + std::to_string(need) + " of payload " + path + ", which has " +
                  std::to_string(s.nbytes);
    doc.entries.push_back({key, static_cast<int>(doc.tensors.size())});
    doc.tensors.push_back(std::move(t));
}

// The program's interface and its operator calls, for the metadata.
void describeProgram(Document &doc, const nlohmann::json &program, const std::string &model)
{
    const std::string at = "program." + model + ".";
    if (program.contains("schema_version") && program["schema_version"].is_object()) {
        const auto &v = program["schema_version"];
        doc.metadata[at + "schema_version"] =
            v.value("major", 0) * 1000 + v.value("minor", 0) == 0
                ? std::string("?")
                : std::to_string(v.value("major", 0)) + "." + std::to_string(v.value("minor", 0));
    }
    if (program.contains("torch_version") && program["torch_version"].is_string())
        doc.metadata[at + "torch_version"] = program["torch_version"];
    const auto gm = program.contains("graph_module") ? program["graph_module"] : nlohmann::json();
    const auto graph = gm.is_object() && gm.contains("graph") ? gm["graph"] : nlohmann::json();
    const auto values =
        graph.is_object() && graph.contains("tensor_values") ? graph["tensor_values"] : nlohmann::json();
    auto tensorText = [&](const std::string &name) {
        return values.is_object() && values.contains(name) ? describeMeta(values[name]) : std::string("?");
    };
    // Inputs: the user's, with what the graph says of their dtype and shape; parameters,
    // buffers and constants by their state-dict names.
    nlohmann::json inputs = nlohmann::json::array(), lifted = nlohmann::json::array();
    const auto sig = gm.is_object() && gm.contains("signature") ? gm["signature"] : nlohmann::json();
    for (const auto &spec : sig.is_object() && sig.contains("input_specs") ? sig["input_specs"] : nlohmann::json()) {
        if (!spec.is_object() || spec.empty())
            continue;
        const std::string kind = spec.begin().key();
        const auto &body = spec.begin().value();
        if (kind == "user_input") {
            const auto &arg = body.contains("arg") ? body["arg"] : nlohmann::json();
            const std::string name = arg.contains("as_tensor") && arg["as_tensor"].contains("name")
                                         ? arg["as_tensor"]["name"].get<std::string>()
                                         : arg.dump();
            inputs.push_back(name + ": " + tensorText(name));
        } else {
            for (const char *field : {"parameter_name", "buffer_name", "tensor_constant_name", "custom_obj_name"})
                if (body.is_object() && body.contains(field) && body[field].is_string())
                    lifted.push_back(kind + " " + body[field].get<std::string>());
        }
    }
    nlohmann::json outputs = nlohmann::json::array();
    for (const auto &spec : sig.is_object() && sig.contains("output_specs") ? sig["output_specs"] : nlohmann::json()) {
        if (!spec.is_object() || spec.empty())
            continue;
        const auto &arg = spec.begin().value().contains("arg") ? spec.begin().value()["arg"] : nlohmann::json();
        const std::string name = arg.contains("as_tensor") && arg["as_tensor"].contains("name")
                                     ? arg["as_tensor"]["name"].get<std::string>()
                                     : arg.dump();
        outputs.push_back(spec.begin().key() + " " + name + ": " + tensorText(name));
    }
    doc.metadata[at + "inputs"] = inputs;
    doc.metadata[at + "outputs"] = outputs;
    doc.metadata[at + "lifted_inputs"] = lifted.size();
    // The operator calls, in order, with how often each operator is used.
    std::map<std::string, size_t> uses;
    std::vector<std::string> order;
    nlohmann::json lines = nlohmann::json::array();
    size_t count = 0;
    for (const auto &node : graph.is_object() && graph.contains("nodes") ? graph["nodes"] : nlohmann::json()) {
        if (!node.is_object() || !node.contains("target") || !node["target"].is_string())
            continue;
        std::string target = node["target"].get<std::string>();
        if (target.rfind("torch.ops.", 0) == 0)
            target = target.substr(10);
        if (uses[target]++ == 0)
            order.push_back(target);
        if (++count > kGraphLines)
            continue;
        std::string args, outs;
        for (const auto &in : node.contains("inputs") ? node["inputs"] : nlohmann::json()) {
            const auto &arg = in.contains("arg") ? in["arg"] : nlohmann::json();
            std::string text = arg.is_object() && !arg.empty() ? arg.begin().value().dump() : "?";
            if (arg.contains("as_tensor") && arg["as_tensor"].contains("name"))
                text = arg["as_tensor"]["name"].get<std::string>();
            args += (args.empty() ? "" : ", ") + text;
        }
        for (const auto &out : node.contains("outputs") ? node["outputs"] : nlohmann::json())
            if (out.contains("as_tensor") && out["as_tensor"].contains("name"))
                outs += (outs.empty() ? "" : ", ") + out["as_tensor"]["name"].get<std::string>();
        lines.push_back((outs.empty() ? "" : outs + " = ") + target + "(" + args.substr(0, 200) + ")");
    }
    if (count > kGraphLines)
        lines.push_back("… " + std::to_string(count - kGraphLines) + " more");
    nlohmann::json operators = nlohmann::json::array();
    for (const auto &op : order)
        operators.push_back(op + " x" + std::to_string(uses[op]));
    doc.metadata[at + "nodes"] = count;
    doc.metadata[at + "operators"] = operators;
    doc.metadata[at + "graph"] = lines;
}

// Compiled parts of an AOTInductor package: the files, the platform they were built for,
// and every library, which loading the package would run.
void describeCompiled(Document &doc, const std::string &prefix)
{
    const std::string folder = prefix + "data/aotinductor/";
    std::map<std::string, nlohmann::json> files;
    for (const auto &e : doc.zip->entries()) {
        if (e.name.compare(0, folder.size(), folder) != 0)
            continue;
        const std::string rest(e.name.substr(folder.size()));
        const size_t slash = rest.find('/');
        const std::string model = slash == std::string::npos ? std::string("?") : rest.substr(0, slash);
        files[model].push_back(rest.substr(slash == std::string::npos ? 0 : slash + 1));
        if (endsWith(e.name, ".so") || endsWith(e.name, ".dll") || endsWith(e.name, ".dylib") ||
            endsWith(e.name, ".pyd"))
            doc.security.nativeCode.emplace_back(e.name);
        if (endsWith(e.name, "metadata.json") && e.size < (uint64_t(1) << 20)) {
            try {
                doc.zip->locate(e);
                const nlohmann::json meta =
                    parseBoundedJsonUnordered(doc.zip->read(e, uint64_t(1) << 20), std::string(e.name));
                for (const char *key :
                     {"AOTI_DEVICE_KEY", "AOTI_PLATFORM", "AOTI_MACHINE", "AOTI_CPU_ISA", "AOTI_COMPUTE_CAPABILITY"})
                    if (meta.is_object() && meta.contains(key) && meta[key].is_string())
                        doc.metadata["aotinductor." + model + "." + key] = meta[key];
            } catch (const ReadError &err) {
                doc.warnings.push_back(std::string("AOTInductor metadata: ") + err.what());
            }
        }
    }
    for (auto &[model, names] : files)
        doc.metadata["aotinductor." + model + ".files"] = std::move(names);
}

// A torch.save file inside the archive (the sample inputs): torch.export.load unpickles
// it, so its pickle is scanned like any other, from a copy of its bytes.
void scanNestedSave(Document &doc, const ZipEntry &e, const ReadOptions &options)
{
    const std::string name(e.name);
    if (e.size > (uint64_t(64) << 20)) {
        doc.security.findings.push_back(name + " is over 64 MiB and was not scanned");
        return;
    }
    try {
        auto inner = MappedFile::fromBytes(std::string(doc.zip->read(e, uint64_t(64) << 20)), name);
        ZipArchive zip(inner, ZipArchive::Offsets::Later);
        for (const auto &m : zip.entries())
            if (endsWith(m.name, "/data.pkl")) {
                zip.locate(m);
                scanExtraPickle(doc, zip.read(m, uint64_t(64) << 20), name + ": " + std::string(m.name), options,
                                false);
            }
    } catch (const ReadError &err) {
        doc.security.findings.push_back(name + " could not be scanned: " + err.what());
    }
}

void readModel(Document &doc, const std::string &prefix, const std::string &model, const ReadOptions &options)
{
    if (const ZipEntry *program = member(doc, prefix + "models/" + model + ".json")) {
        reportProgress(options, 0.2, "reading the program of " + model);
        describeProgram(doc, memberJson(doc, *program, kMaxProgram), model);
    }
    const std::string keyPrefix = model == "model" ? std::string() : model + ".";
    const std::string weights = prefix + "data/weights/";
    std::map<std::string, int> storageOfFile;
    if (const ZipEntry *config = member(doc, weights + model + "_weights_config.json")) {
        const nlohmann::json j = memberJson(doc, *config, kMaxConfig);
        if (!j.is_object() || !j.contains("config") || !j["config"].is_object())
            throw ReadError("the weights config has no config object", std::string(config->name));
        for (const auto &[fqn, payload] : j["config"].items())
            addPayloadTensor(doc, keyPrefix + fqn, payload, weights, storageOfFile);
    } else if (const ZipEntry *save = member(doc, weights + model + ".pt")) {
        // PyTorch 2.8 wrote a model's weights as one torch.save.
        readNestedSave(doc, *save, keyPrefix, true, options);
    }
    if (const ZipEntry *constants = member(doc, prefix + "data/constants/" + model + "_constants_config.json")) {
        const nlohmann::json j = memberJson(doc, *constants, kMaxConfig);
        nlohmann::json listed = nlohmann::json::array();
        if (j.is_object() && j.contains("config") && j["config"].is_object())
            for (const auto &[fqn, payload] : j["config"].items())
                listed.push_back(fqn + ": " +
                                 (payload.contains("tensor_meta") && payload["tensor_meta"].is_object()
                                      ? describeMeta(payload["tensor_meta"])
                                      : std::string("a custom object")));
        doc.metadata["constants." + model] = listed;
    } else if (const ZipEntry *save = member(doc, prefix + "data/constants/" + model + ".pt")) {
        // 2.8: the constants as one torch.save, which torch.export.load unpickles.
        const Document *part = readNestedSave(doc, *save, "", false, options);
        nlohmann::json listed = nlohmann::json::array();
        for (const TensorEntry &e : part->entries)
            listed.push_back(e.key + ": " + dtypeName(part->tensors[static_cast<size_t>(e.tensor)].dtype));
        doc.metadata["constants." + model] = listed;
    }
    if (const ZipEntry *samples = member(doc, prefix + "data/sample_inputs/" + model + ".pt")) {
        doc.metadata["sample_inputs." + model] =
            std::string(samples->name) + " (" + std::to_string(samples->size) + " bytes, torch.save of (args, kwargs))";
        scanNestedSave(doc, *samples, options);
    }
    // The weights in the order they were written (weight_0, weight_1, ...: the state dict's).
    auto payloadIndex = [&doc](const TensorEntry &e) -> uint64_t {
        const TensorInfo &t = doc.tensors[static_cast<size_t>(e.tensor)];
        if (t.storage < 0)
            return ~uint64_t(0);
        const std::string key = doc.storages[static_cast<size_t>(t.storage)].key.str();
        const size_t last = key.find_last_not_of("0123456789");
        const size_t start = last == std::string::npos ? 0 : last + 1;
        return start < key.size() && key.size() - start < 19 ? std::stoull(key.substr(start)) : ~uint64_t(0);
    };
    std::stable_sort(doc.entries.begin(), doc.entries.end(),
                     [&](const TensorEntry &a, const TensorEntry &b) { return payloadIndex(a) < payloadIndex(b); });
}

} // namespace

bool isPt2Archive(ZipArchive &zip, std::string *prefix)
{
    const auto &entries = zip.entries();
    if (entries.empty())
        return false;
    const std::string first(entries.front().name);
    const size_t slash = first.find('/');
    *prefix = slash == std::string::npos ? std::string() : first.substr(0, slash + 1);
    const ZipEntry *format = zip.find(*prefix + "archive_format");
    if (!format && !prefix->empty()) {
        prefix->clear(); // AOTInductor packages of 2.6 have no folder
        format = zip.find("archive_format");
    }
    if (!format || format->size > 64)
        return false;
    zip.locate(*format);
    return trimmed(zip.read(*format, 64)) == "pt2";
}

void readPt2Document(Document &doc, const std::string &prefix, const ReadOptions &options)
{
    doc.format = FileFormat::TorchExport;
    std::string version, byteorder;
    if (const ZipEntry *v = member(doc, prefix + "archive_version"))
        version = trimmed(doc.zip->read(*v, 64));
    if (const ZipEntry *b = member(doc, prefix + "byteorder"))
        byteorder = trimmed(doc.zip->read(*b, 64));
    if (byteorder == "big")
        doc.warnings.push_back("tensor data is big-endian; values are shown as stored, byte-swapped");
    doc.producer =
        "torch.export program (.pt2" + (version.empty() ? std::string() : ", archive version " + version) + ")";
    std::vector<std::string> models;
    const std::string folder = prefix + "models/";
    for (const auto &e : doc.zip->entries())
        if (e.name.compare(0, folder.size(), folder) == 0 && endsWith(e.name, ".json") &&
            e.name.find('/', folder.size()) == std::string::npos)
            models.emplace_back(e.name.substr(folder.size(), e.name.size() - folder.size() - 5));
    for (const auto &e : doc.zip->entries()) { // an AOTInductor package without a program
        const std::string aoti = prefix + "data/aotinductor/";
        if (e.name.compare(0, aoti.size(), aoti) == 0) {
            const std::string rest(e.name.substr(aoti.size()));
            const std::string model = rest.substr(0, rest.find('/'));
            if (std::find(models.begin(), models.end(), model) == models.end())
                models.push_back(model);
        }
    }
    doc.metadata["models"] = models;
    for (const auto &model : models) {
        checkCancel(options);
        try {
            readModel(doc, prefix, model, options);
        } catch (const ReadError &e) {
            doc.error += (doc.error.empty() ? "" : "; ") + model + ": " + e.what();
        }
    }
    describeCompiled(doc, prefix);
    // Pickles in the archive (TorchBind objects, opaque objects) are read for their globals.
    for (const auto &e : doc.zip->entries()) {
        const std::string name(e.name);
        if (name.find("/custom_obj_") == std::string::npos && name.find("/opaque_obj_") == std::string::npos)
            continue;
        if (e.size > (uint64_t(64) << 20))
            continue;
        try {
            doc.zip->locate(e);
            scanExtraPickle(doc, doc.zip->read(e, uint64_t(64) << 20), name, options, false);
        } catch (const ReadError &) { }
    }
    const std::vector<std::string> extras = [&] {
        std::vector<std::string> names;
        for (const auto &e : doc.zip->entries())
            if (e.name.compare(0, prefix.size() + 6, prefix + "extra/") == 0)
                names.emplace_back(e.name.substr(prefix.size() + 6));
        return names;
    }();
    if (!extras.empty())
        doc.metadata["extra_files"] = extras;
    if (!doc.entries.empty())
        doc.stateDicts.push_back("");
}

} // namespace te

namespace te {

// For the reader of the older layouts (pt2legacyreader.cpp).
const ZipEntry *pt2Member(Document &doc, const std::string &name) { return member(doc, name); }

std::string pt2Trimmed(std::string_view text) { return trimmed(text); }

nlohmann::json pt2MemberJson(Document &doc, const ZipEntry &e) { return memberJson(doc, e, kMaxProgram); }

void describeExportProgram(Document &doc, const nlohmann::json &program, const std::string &model)
{
    describeProgram(doc, program, model);
}

} // namespace te
