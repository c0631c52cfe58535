// `run MODEL`: loads TorchScript through the runtime library (the only command besides
// devices that loads libtorch), optionally applies weights through the loading doctor,
// and runs forward on made-up inputs with timing. Three phases: reading the options,
// running, printing the report.
#include "app/cli/command.h"
#include "app/cli/opendocument.h"

#include "core/formats/documentreader.h"
#include "core/report/inspectreport.h"
#include "core/report/loadreportjson.h"
#include "core/report/runreportjson.h"
#include "core/report/valuejson.h"
#include "core/runtime/fileinput.h"
#include "core/runtime/labels/labels.h"
#include "core/runtime/modelinputs.h"
#include "core/runtime/runcomparison.h"
#include "core/runtime/runtimeloader.h"
#include "core/runtime/weightapplier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

namespace te::cli {
namespace {

struct RunOptions {
    std::string model, weights, weightsB, device, labels;
    std::optional<std::string> stateDict; // of the weights; the conventional one when not given
    std::vector<RemapRule> rules;
    std::vector<InputSpec> inputs; // as given; guessed from the model when none
    int repeat = 10, warmup = 1;
    bool json = false, strict = false, layers = false;
};

// What a run did, for the report.
struct RunReport {
    std::string device;
    double loadSeconds = 0;
    uint64_t modelFileBytes = 0;
    std::string stateDict, stateDictB;            // of the weights applied
    std::optional<ApplyResult> weights, weightsB; // when --weights, --weights-b were given
    std::vector<InputSpec> inputs;
    uint64_t parameterBytes = 0, activationBytes = 0;
    RunResult result;
    std::optional<RunResult> resultB; // the same inputs with --weights-b
    std::vector<OutputComparison> comparison;
    Labels labels; // empty unless --labels
};

// ---- reading the options

bool readCount(const Arguments &args, const std::string &option, int *count)
{
    if (!args.has(option))
        return true;
    const std::string text = args.value(option);
    long n = 0;
    bool digits = !text.empty();
    for (char c : text) {
        digits = digits && c >= '0' && c <= '9';
        if (digits)
            n = std::min(n * 10 + (c - '0'), 100001L);
    }
    if (!digits || n > 100000) {
        args.usageError(option + " takes a count from 0 to 100000, not '" + text + "'");
        return false;
    }
    *count = static_cast<int>(n);
    return true;
}

// The values the parser leaves as text; nullopt after reporting a malformed one.
std::optional<RunOptions> readOptions(const Arguments &args)
{
    RunOptions o;
    o.model = args.operand(0);
    o.weights = args.value("--weights");
    o.weightsB = args.value("--weights-b");
    o.labels = args.value("--labels");
    o.layers = args.has("--layers");
    o.device = args.value("--device", "cpu");
    if (args.has("--state-dict"))
        o.stateDict = args.value("--state-dict");
    o.json = args.has("--json");
    o.strict = args.has("--strict");
    if (!readCount(args, "--repeat", &o.repeat) || !readCount(args, "--warmup", &o.warmup))
        return std::nullopt;
    std::string error;
    for (const auto &text : args.values("--rename")) {
        RemapRule rule;
        if (!parseRule(text, &rule, &error)) {
            args.usageError(error);
            return std::nullopt;
        }
        o.rules.push_back(rule);
    }
    for (const auto &text : args.values("--input")) {
        InputSpec spec;
        if (!parseInputSpec(text, &spec, &error)) {
            args.usageError(error);
            return std::nullopt;
        }
        o.inputs.push_back(std::move(spec));
    }
    return o;
}

// ---- running

struct Files {
    std::unique_ptr<Document> model, weights, weightsB;
};

// Reads MODEL (TorchScript or a .pt2) and the weights; false after reporting why not.
bool openFiles(const RunOptions &o, Files *files)
{
    if (!(files->model = openOrReport(o.model)))
        return false;
    if (files->model->format != FileFormat::TorchScript && files->model->format != FileFormat::TorchExport) {
        std::fprintf(stderr,
                     "torch-explorer-cli: %s is %s, not TorchScript or a torch.export program: only those can run "
                     "without Python (torch.jit.script, torch.jit.trace or torch.export.save makes one)\n",
                     o.model.c_str(), formatName(files->model->format));
        return false;
    }
    if (!o.weights.empty() && !(files->weights = openOrReport(o.weights)))
        return false;
    if (!o.weightsB.empty() && !(files->weightsB = openOrReport(o.weightsB)))
        return false;
    // Refuse before loading rather than fail half-way (inputs are not known yet: the
    // parameters alone decide here).
    const std::string tooBig = memoryCheck(*files->model, {}, o.device);
    if (!tooBig.empty()) {
        std::fprintf(stderr, "torch-explorer-cli: refusing to load %s: %s\n", o.model.c_str(), tooBig.c_str());
        return false;
    }
    return true;
}

// TorchScript through torch::jit::load, a torch.export program node by node.
std::unique_ptr<LoadedModel> loadWith(Runtime &runtime, const RunOptions &o, const Document &doc, std::string *error)
{
    if (doc.format != FileFormat::TorchExport)
        return runtime.loadModel(o.model, o.device, error);
    ProgramSource source;
    if (!programSource(doc, &source, error))
        return nullptr;
    return runtime.loadProgram(source, o.device, error);
}

// The model on its device through the runtime library; null after reporting why not.
std::unique_ptr<LoadedModel> loadModel(const RunOptions &o, const Document &doc, RunReport *report)
{
    std::string error;
    Runtime *runtime = loadRuntime(&error);
    if (!runtime) {
        std::fprintf(stderr, "torch-explorer-cli: cannot run: %s\n", error.c_str());
        return nullptr;
    }
    const auto start = std::chrono::steady_clock::now();
    auto model = loadWith(*runtime, o, doc, &error);
    report->loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!model) {
        std::fprintf(stderr, "torch-explorer-cli: cannot load %s on %s: %s\n", o.model.c_str(), o.device.c_str(),
                     error.c_str());
        return nullptr;
    }
    report->device = model->device();
    return model;
}

// Applies a weight set as load_state_dict would; false after reporting why not.
bool applyWeightsTo(LoadedModel &model, const RunOptions &o, const Document &modelDoc, const Document &weights,
                    std::string *stateDict, std::optional<ApplyResult> *out)
{
    if (o.stateDict) {
        *stateDict = *o.stateDict;
    } else {
        const auto candidates = candidateStateDicts(weights);
        *stateDict = candidates.empty() ? std::string() : candidates.front();
    }
    ApplyResult applied = applyWeights(model, modelDoc, weights, *stateDict, o.rules, o.strict);
    if (!applied.ok) {
        std::fprintf(stderr, "torch-explorer-cli: %s: %s\n", weights.path.c_str(), applied.error.c_str());
        return false;
    }
    if (!applied.warning.empty())
        std::fprintf(stderr, "torch-explorer-cli: %s: %s\n", weights.path.c_str(), applied.warning.c_str());
    *out = std::move(applied);
    return true;
}

// The inputs given, named after forward's arguments, with their files read, or else
// guessed from the model; false after reporting a file that cannot be read.
bool chooseInputs(const RunOptions &o, const LoadedModel &model, const Document &modelDoc,
                  std::vector<InputSpec> *specs)
{
    const auto arguments = model.forwardArguments();
    const std::vector<InputSpec> guessed = guessInputs(modelDoc, arguments);
    if (o.inputs.empty()) {
        *specs = guessed;
        return true;
    }
    *specs = o.inputs;
    for (size_t i = 0; i < specs->size(); ++i) {
        InputSpec &spec = (*specs)[i];
        spec.name = i < arguments.size() ? arguments[i].name : "input" + std::to_string(i);
        if (!spec.isTensor)
            spec.type = i < arguments.size() ? arguments[i].type : "float";
        std::string error;
        if (spec.fill == "data" &&
            !loadFileInput(&spec, i < guessed.size() ? guessed[i].shape : std::vector<int64_t>{}, &error)) {
            std::fprintf(stderr, "torch-explorer-cli: input %s: %s\n", spec.name.c_str(), error.c_str());
            return false;
        }
    }
    return true;
}

// The same inputs through a second copy of the model with the --weights-b set; false after
// reporting why not.
bool runWeightsB(const RunOptions &o, const Files &files, const RunRequest &request, RunReport *report)
{
    std::string error;
    Runtime *runtime = loadRuntime(&error);
    auto model = runtime ? loadWith(*runtime, o, *files.model, &error) : nullptr;
    if (!model) {
        std::fprintf(stderr, "torch-explorer-cli: cannot load %s a second time: %s\n", o.model.c_str(), error.c_str());
        return false;
    }
    if (!applyWeightsTo(*model, o, *files.model, *files.weightsB, &report->stateDictB, &report->weightsB))
        return false;
    report->resultB = model->run(report->inputs, request, nullptr);
    if (report->result.ok && report->resultB->ok)
        report->comparison = compareRuns(report->result, *report->resultB);
    return true;
}

// Fills the report; the exit code when the run could not happen (why is on stderr), else 0.
int execute(const RunOptions &o, RunReport *report)
{
    std::string error;
    if (!o.labels.empty() && !readLabels(o.labels, &report->labels, &error)) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", error.c_str());
        return 2;
    }
    Files files;
    if (!openFiles(o, &files))
        return 2;
    auto model = loadModel(o, *files.model, report);
    if (!model)
        return 2;
    report->modelFileBytes = files.model->file->size();
    if (files.weights && !applyWeightsTo(*model, o, *files.model, *files.weights, &report->stateDict, &report->weights))
        return 1;
    if (!chooseInputs(o, *model, *files.model, &report->inputs))
        return 2;
    // Now the inputs are known: refuse those that cannot fit, before allocating them.
    const std::string tooBig = memoryCheck(*files.model, report->inputs, o.device);
    if (!tooBig.empty()) {
        std::fprintf(stderr, "torch-explorer-cli: refusing to run %s: %s\n", o.model.c_str(), tooBig.c_str());
        return 2;
    }
    RunRequest request;
    request.warmup = o.warmup;
    request.repeats = o.repeat;
    request.layers = o.layers;
    // Two weight sets are compared over every value (up to 4 Mi per output); one run
    // reports the first 1024.
    request.maxValues = files.weightsB ? (size_t{1} << 22) : 1024;
    report->result = model->run(report->inputs, request, nullptr);
    report->parameterBytes = modelBytes(*files.model);
    report->activationBytes = activationEstimate(*files.model, report->inputs);
    if (files.weightsB && !runWeightsB(o, files, request, report))
        return 1;
    return 0;
}

// ---- printing

nlohmann::ordered_json weightsJson(const std::string &path, const std::string &stateDict, const ApplyResult &w)
{
    return {{"path", path},
            {"state_dict", stateDict},
            {"applied", w.applied},
            {"missing", w.report.missing},
            {"unexpected", w.report.unexpected},
            {"skipped_shape_mismatch", w.report.shapeMismatch.size()},
            {"bytes", w.bytes},
            {"transfer_mib_per_s", w.seconds > 0 ? static_cast<double>(w.bytes) / 1048576.0 / w.seconds : 0.0}};
}

// A run's results: its outputs, and with --layers every layer's.
void addResultJson(const RunResult &r, const RunOptions &o, const Labels &labels, const std::string &suffix,
                   nlohmann::ordered_json *out)
{
    if (!r.ok) {
        (*out)["error" + suffix] = r.error;
        return;
    }
    (*out)["outputs" + suffix] = outputsJson(r, labels);
    if (o.layers) {
        (*out)["layers" + suffix] = layersJson(r.layers);
        const int bad = firstNonFiniteLayer(r.layers);
        (*out)["first_nonfinite_layer" + suffix] =
            bad < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.layers[static_cast<size_t>(bad)].path);
        if (!r.layersNote.empty())
            (*out)["layers_note" + suffix] = r.layersNote;
    }
}

nlohmann::ordered_json reportJson(const RunOptions &o, const RunReport &report)
{
    const RunResult &r = report.result;
    nlohmann::ordered_json out{{"model", o.model},
                               {"device", report.device},
                               {"load_ms", report.loadSeconds * 1000.0},
                               {"load_mib_per_s", static_cast<double>(report.modelFileBytes) / 1048576.0 /
                                                      std::max(report.loadSeconds, 1e-9)}};
    if (report.weights)
        out["weights"] = weightsJson(o.weights, report.stateDict, *report.weights);
    if (report.weightsB)
        out["weights_b"] = weightsJson(o.weightsB, report.stateDictB, *report.weightsB);
    out["memory"] = {{"parameters_bytes", report.parameterBytes},
                     {"activation_estimate_bytes", report.activationBytes}};
    nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
    for (const auto &s : report.inputs)
        inputs.push_back({{"name", s.name}, {"spec", inputSpecText(s)}, {"shape", s.shape}, {"dtype", s.dtype}});
    out["inputs"] = std::move(inputs);
    if (!report.labels.names.empty())
        out["labels"] = report.labels.source;
    addResultJson(r, o, report.labels, "", &out);
    if (report.resultB) {
        addResultJson(*report.resultB, o, report.labels, "_b", &out);
        if (!report.comparison.empty())
            out["comparison"] = comparisonJson(report.comparison);
    }
    if (r.ok)
        out["latency_ms"] = {
            {"min", r.minMs}, {"median", r.medianMs}, {"p95", r.p95Ms}, {"repeats", r.latenciesMs.size()}};
    return out;
}

void printOutputs(const RunResult &r, const Labels &labels, const char *title)
{
    for (const auto &v : r.outputs) {
        const char *path = v.path.empty() ? "(result)" : v.path.c_str();
        if (!v.isTensor) {
            std::printf("  %s %s = %s\n", title, path, v.text.c_str());
            continue;
        }
        std::printf("  %s %s: %s %s, sum %.6g, first:", title, path, v.dtype.c_str(), shapeText(v.shape).c_str(),
                    v.sum);
        for (size_t i = 0; i < v.values.size() && i < 8; ++i)
            std::printf(" %.5g", v.values[i]);
        std::printf("\n");
        for (const auto &t : v.top)
            std::printf("    class %lld %-24s score %.5g  p %.4f\n", static_cast<long long>(t.index),
                        labels.name(t.index).c_str(), t.score, t.probability);
    }
}

void printLayers(const RunResult &r)
{
    const int bad = firstNonFiniteLayer(r.layers);
    std::printf("  layers (%zu, in the order they finished):\n", r.layers.size());
    for (size_t i = 0; i < r.layers.size(); ++i) {
        const LayerOutput &l = r.layers[i];
        std::printf("  %s %-28s %-18s mean %-11.4g std %-11.4g min %-11.4g max %-11.4g",
                    static_cast<int>(i) == bad ? "!" : " ", l.path.c_str(), shapeText(l.shape).c_str(), l.mean, l.std,
                    l.min, l.max);
        if (l.nans || l.infs)
            std::printf(" nan %llu inf %llu", static_cast<unsigned long long>(l.nans),
                        static_cast<unsigned long long>(l.infs));
        std::printf("\n");
    }
    if (bad >= 0)
        std::printf("  first NaN or infinity: %s\n", r.layers[static_cast<size_t>(bad)].path.c_str());
    if (!r.layersNote.empty())
        std::printf("  %s\n", r.layersNote.c_str());
}

void printText(const RunOptions &o, const RunReport &report)
{
    const RunResult &r = report.result;
    std::printf("%s on %s\n", o.model.c_str(), report.device.c_str());
    for (const auto &s : report.inputs)
        std::printf("  input %s = %s %s\n", s.name.c_str(), inputSpecText(s).c_str(),
                    s.isTensor ? shapeText(s.shape).c_str() : "");
    printOutputs(r, report.labels, "output");
    if (o.layers)
        printLayers(r);
    if (report.resultB && report.resultB->ok) {
        std::printf("with %s:\n", o.weightsB.c_str());
        printOutputs(*report.resultB, report.labels, "output");
        for (const auto &c : report.comparison) {
            const char *path = c.path.empty() ? "(result)" : c.path.c_str();
            if (!c.comparable) {
                std::printf("  %s: %s\n", path, c.why.c_str());
                continue;
            }
            std::printf("  %s: max |A - B| %.6g, mean %.6g", path, c.maxAbsDiff, c.meanAbsDiff);
            if (c.topK)
                std::printf(", top-1 %s, top-%zu overlap %zu", c.top1Agrees ? "agrees" : "differs", c.topK,
                            c.topOverlap);
            std::printf("\n");
        }
    }
    std::printf("  latency: min %.3f ms, median %.3f ms, p95 %.3f ms over %zu runs\n", r.minMs, r.medianMs, r.p95Ms,
                r.latenciesMs.size());
}

// 1 when the model raised an error (its text on stderr, and in the JSON), else 0.
int printReport(const RunOptions &o, const RunReport &report)
{
    if (!report.result.ok)
        std::fprintf(stderr, "torch-explorer-cli: the model raised an error: %s\n", report.result.error.c_str());
    if (report.resultB && !report.resultB->ok)
        std::fprintf(stderr, "torch-explorer-cli: with %s the model raised an error: %s\n", o.weightsB.c_str(),
                     report.resultB->error.c_str());
    if (o.json)
        std::cout << jsonText(reportJson(o, report), 2) << "\n";
    else if (report.result.ok)
        printText(o, report);
    return report.result.ok && (!report.resultB || report.resultB->ok) ? 0 : 1;
}

int run(const Arguments &args)
{
    const std::optional<RunOptions> options = readOptions(args);
    if (!options)
        return 2;
    RunReport report;
    if (const int failed = execute(*options, &report))
        return failed;
    return printReport(*options, report);
}

} // namespace

const Command runCommand{
    {"run",
     {"MODEL"},
     {value("--weights", "FILE"), value("--weights-b", "FILE"), value("--state-dict", "KEY"),
      repeated("--rename", "FROM=TO"), flag("--strict"), value("--device", "cpu|cuda:N|mps"),
      repeated("--input", "SPEC"), value("--labels", "FILE|imagenet"), flag("--layers"), value("--repeat", "N"),
      value("--warmup", "N"), flag("--json")},
     "MODEL [--weights FILE] [--weights-b FILE] [--state-dict KEY] [--rename FROM=TO]... [--strict] "
     "[--device cpu|cuda:N|mps] [--input SPEC]... [--labels FILE|imagenet] [--layers] [--repeat N] [--warmup N] "
     "[--json]",
     "run TorchScript or a torch.export program (.pt2) on made-up or real inputs (runs its code, or its "
     "operator calls)",
     "SPEC: fill[(args)]:AxBxC[:dtype] with fill ones, zeros, randn(seed), arange(start,step),\n"
     "      linspace(low,high), full(value); image:PATH[:OPTIONS] (PNG, JPEG, BMP; OPTIONS: a preset\n"
     "      imagenet|unit|raw|clip|half, then rgb|bgr, crop|stretch, gray, resize=N, size=HxW,\n"
     "      scale=255|1, mean=a/b/c, std=a/b/c); npy:PATH; tensor:FILE#KEY; or value:TEXT for int,\n"
     "      float, bool and list arguments\n"
     "--weights-b: the same inputs through a second weight set, outputs compared\n"
     "--labels: class names for the top-5 (one per line, a JSON list, a config.json with\n"
     "      id2label, or imagenet); --layers: every submodule's output statistics\n"},
    run};

} // namespace te::cli
