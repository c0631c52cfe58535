// `run MODEL`: loads TorchScript through the runtime library (the only command besides
// devices that loads libtorch), optionally applies weights through the loading doctor,
// and runs forward on made-up inputs with timing. Three phases: reading the options,
// running, printing the report.
#include "app/cli/command.h"
#include "app/cli/opendocument.h"

#include "core/formats/documentreader.h"
#include "core/report/inspectreport.h"
#include "core/report/loadreportjson.h"
#include "core/report/valuejson.h"
#include "core/runtime/modelinputs.h"
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
    std::string model, weights, device;
    std::optional<std::string> stateDict; // of the weights; the conventional one when not given
    std::vector<RemapRule> rules;
    std::vector<InputSpec> inputs; // as given; guessed from the model when none
    int repeat = 10, warmup = 1;
    bool json = false, strict = false;
};

// What a run did, for the report.
struct RunReport {
    std::string device;
    double loadSeconds = 0;
    uint64_t modelFileBytes = 0;
    std::string stateDict;              // of the weights applied
    std::optional<ApplyResult> weights; // when --weights was given
    std::vector<InputSpec> inputs;
    uint64_t parameterBytes = 0, activationBytes = 0;
    RunResult result;
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
    std::unique_ptr<Document> model, weights;
};

// Reads MODEL (TorchScript only) and the weights; false after reporting why not.
bool openFiles(const RunOptions &o, Files *files)
{
    if (!(files->model = openOrReport(o.model)))
        return false;
    if (files->model->format != FileFormat::TorchScript) {
        std::fprintf(stderr,
                     "torch-explorer-cli: %s is %s, not TorchScript: only TorchScript models can run without "
                     "Python (torch.jit.script or torch.jit.trace makes one)\n",
                     o.model.c_str(), formatName(files->model->format));
        return false;
    }
    if (!o.weights.empty() && !(files->weights = openOrReport(o.weights)))
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

// The model on its device through the runtime library; null after reporting why not.
std::unique_ptr<LoadedModel> loadModel(const RunOptions &o, RunReport *report)
{
    std::string error;
    Runtime *runtime = loadRuntime(&error);
    if (!runtime) {
        std::fprintf(stderr, "torch-explorer-cli: cannot run: %s\n", error.c_str());
        return nullptr;
    }
    const auto start = std::chrono::steady_clock::now();
    auto model = runtime->loadModel(o.model, o.device, &error);
    report->loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!model) {
        std::fprintf(stderr, "torch-explorer-cli: cannot load %s on %s: %s\n", o.model.c_str(), o.device.c_str(),
                     error.c_str());
        return nullptr;
    }
    report->device = model->device();
    return model;
}

// Applies the weights as load_state_dict would; false after reporting why not.
bool applyWeightsTo(LoadedModel &model, const RunOptions &o, const Files &files, RunReport *report)
{
    if (o.stateDict) {
        report->stateDict = *o.stateDict;
    } else {
        const auto candidates = candidateStateDicts(*files.weights);
        report->stateDict = candidates.empty() ? std::string() : candidates.front();
    }
    ApplyResult applied = applyWeights(model, *files.model, *files.weights, report->stateDict, o.rules, o.strict);
    if (!applied.ok) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", applied.error.c_str());
        return false;
    }
    if (!applied.warning.empty())
        std::fprintf(stderr, "torch-explorer-cli: %s\n", applied.warning.c_str());
    report->weights = std::move(applied);
    return true;
}

// The inputs given, named after forward's arguments, or else guessed from the model.
std::vector<InputSpec> chooseInputs(const RunOptions &o, const LoadedModel &model, const Document &modelDoc)
{
    const auto arguments = model.forwardArguments();
    if (o.inputs.empty())
        return guessInputs(modelDoc, arguments);
    std::vector<InputSpec> specs = o.inputs;
    for (size_t i = 0; i < specs.size(); ++i) {
        specs[i].name = i < arguments.size() ? arguments[i].name : "input" + std::to_string(i);
        if (!specs[i].isTensor)
            specs[i].type = i < arguments.size() ? arguments[i].type : "float";
    }
    return specs;
}

// Fills the report; the exit code when the run could not happen (why is on stderr), else 0.
int execute(const RunOptions &o, RunReport *report)
{
    Files files;
    if (!openFiles(o, &files))
        return 2;
    auto model = loadModel(o, report);
    if (!model)
        return 2;
    report->modelFileBytes = files.model->file->size();
    if (files.weights && !applyWeightsTo(*model, o, files, report))
        return 1;
    report->inputs = chooseInputs(o, *model, *files.model);
    // Now the inputs are known: refuse those that cannot fit, before allocating them.
    const std::string tooBig = memoryCheck(*files.model, report->inputs, o.device);
    if (!tooBig.empty()) {
        std::fprintf(stderr, "torch-explorer-cli: refusing to run %s: %s\n", o.model.c_str(), tooBig.c_str());
        return 2;
    }
    report->result = model->run(report->inputs, o.warmup, o.repeat, 1024, nullptr);
    report->parameterBytes = modelBytes(*files.model);
    report->activationBytes = activationEstimate(*files.model, report->inputs);
    return 0;
}

// ---- printing

nlohmann::ordered_json outputsJson(const RunResult &r)
{
    nlohmann::ordered_json outs = nlohmann::ordered_json::array();
    for (const auto &o : r.outputs) {
        nlohmann::ordered_json j{{"path", o.path}};
        if (o.isTensor) {
            j["shape"] = o.shape;
            j["dtype"] = o.dtype;
            j["sum"] = o.sum;
            nlohmann::ordered_json values = nlohmann::ordered_json::array();
            for (double v : o.values)
                values.push_back(std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr));
            j["values"] = std::move(values);
        } else {
            j["value"] = o.text;
        }
        outs.push_back(std::move(j));
    }
    return outs;
}

nlohmann::ordered_json weightsJson(const RunOptions &o, const RunReport &report)
{
    const ApplyResult &w = *report.weights;
    return {{"path", o.weights},
            {"state_dict", report.stateDict},
            {"applied", w.applied},
            {"missing", w.report.missing},
            {"unexpected", w.report.unexpected},
            {"skipped_shape_mismatch", w.report.shapeMismatch.size()},
            {"bytes", w.bytes},
            {"transfer_mib_per_s", w.seconds > 0 ? static_cast<double>(w.bytes) / 1048576.0 / w.seconds : 0.0}};
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
        out["weights"] = weightsJson(o, report);
    out["memory"] = {{"parameters_bytes", report.parameterBytes},
                     {"activation_estimate_bytes", report.activationBytes}};
    nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
    for (const auto &s : report.inputs)
        inputs.push_back({{"name", s.name}, {"spec", inputSpecText(s)}});
    out["inputs"] = std::move(inputs);
    if (!r.ok) {
        out["error"] = r.error;
        return out;
    }
    out["outputs"] = outputsJson(r);
    out["latency_ms"] = {{"min", r.minMs}, {"median", r.medianMs}, {"p95", r.p95Ms}, {"repeats", r.latenciesMs.size()}};
    return out;
}

void printText(const RunOptions &o, const RunReport &report)
{
    const RunResult &r = report.result;
    std::printf("%s on %s\n", o.model.c_str(), report.device.c_str());
    for (const auto &s : report.inputs)
        std::printf("  input %s = %s\n", s.name.c_str(), inputSpecText(s).c_str());
    for (const auto &v : r.outputs) {
        const char *path = v.path.empty() ? "(result)" : v.path.c_str();
        if (!v.isTensor) {
            std::printf("  output %s = %s\n", path, v.text.c_str());
            continue;
        }
        std::printf("  output %s: %s %s, sum %.6g, first:", path, v.dtype.c_str(), shapeText(v.shape).c_str(), v.sum);
        for (size_t i = 0; i < v.values.size() && i < 8; ++i)
            std::printf(" %.5g", v.values[i]);
        std::printf("\n");
    }
    std::printf("  latency: min %.3f ms, median %.3f ms, p95 %.3f ms over %zu runs\n", r.minMs, r.medianMs, r.p95Ms,
                r.latenciesMs.size());
}

// 1 when the model raised an error (its text on stderr, and in the JSON), else 0.
int printReport(const RunOptions &o, const RunReport &report)
{
    if (!report.result.ok)
        std::fprintf(stderr, "torch-explorer-cli: the model raised an error: %s\n", report.result.error.c_str());
    if (o.json)
        std::cout << jsonText(reportJson(o, report), 2) << "\n";
    else if (report.result.ok)
        printText(o, report);
    return report.result.ok ? 0 : 1;
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
     {value("--weights", "FILE"), value("--state-dict", "KEY"), repeated("--rename", "FROM=TO"), flag("--strict"),
      value("--device", "cpu|cuda:N|mps"), repeated("--input", "SPEC"), value("--repeat", "N"), value("--warmup", "N"),
      flag("--json")},
     "MODEL [--weights FILE [--state-dict KEY] [--rename FROM=TO]... [--strict]] [--device cpu|cuda:N|mps] "
     "[--input SPEC]... [--repeat N] [--warmup N] [--json]",
     "run TorchScript on made-up inputs (runs its code)",
     "SPEC: fill[(args)]:AxBxC[:dtype] with fill ones, zeros, randn(seed), arange(start,step),\n"
     "      linspace(low,high), full(value); or value:TEXT for int, float, bool and list arguments\n"},
    run};

} // namespace te::cli
