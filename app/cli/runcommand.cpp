// torch-explorer-cli run MODEL: loads TorchScript through the runtime library (the only
// command besides devices that loads libtorch), optionally applies weights through the
// loading doctor, and runs forward on made-up inputs with timing.
#include "app/cli/clicommands.h"

#include "core/report/loadreportjson.h"
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/report/valuejson.h"
#include "core/report/inspectreport.h"
#include "core/runtime/modelinputs.h"
#include "core/runtime/runtimeloader.h"
#include "core/runtime/weightapplier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace te::cli {
namespace {

struct RunOptions {
    std::string model, weights, stateDict, device = "cpu";
    std::vector<std::string> inputs;
    std::vector<RemapRule> rules;
    int repeat = 10, warmup = 1;
    bool json = false, strict = false, haveStateDict = false;
};

int usage(const std::string &why)
{
    std::fprintf(stderr,
                 "torch-explorer-cli run: %s\nusage: run MODEL [--weights FILE [--state-dict KEY] [--rename FROM=TO]... "
                 "[--strict]] [--device cpu|cuda:N|mps] [--input SPEC]... [--repeat N] [--warmup N] [--json]\n"
                 "SPEC: fill[(args)]:AxBxC[:dtype] with fill ones, zeros, randn(seed), arange(start,step),\n"
                 "      linspace(low,high), full(value); or value:TEXT for int, float, bool and list arguments\n",
                 why.c_str());
    return 2;
}

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

} // namespace

int runCommand(const std::vector<std::string> &args)
{
    RunOptions o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](std::string *out) {
            if (i + 1 >= args.size())
                return false;
            *out = args[++i];
            return true;
        };
        std::string v;
        if (a == "--json") {
            o.json = true;
        } else if (a == "--strict") {
            o.strict = true;
        } else if (a == "--weights" || a == "--device" || a == "--input" || a == "--state-dict" || a == "--rename" ||
                   a == "--repeat" || a == "--warmup") {
            if (!value(&v))
                return usage(a + " needs a value");
            if (a == "--weights")
                o.weights = v;
            else if (a == "--device")
                o.device = v;
            else if (a == "--input")
                o.inputs.push_back(v);
            else if (a == "--state-dict")
                o.stateDict = v, o.haveStateDict = true;
            else if (a == "--repeat" || a == "--warmup") {
                char *end = nullptr;
                long n = std::strtol(v.c_str(), &end, 10);
                if (*end || n < 0 || n > 100000)
                    return usage(a + " needs a count");
                (a == "--repeat" ? o.repeat : o.warmup) = static_cast<int>(n);
            } else {
                RemapRule rule;
                std::string error;
                if (!parseRule(v, &rule, &error))
                    return usage(error);
                o.rules.push_back(rule);
            }
        } else if (a.rfind("--", 0) == 0) {
            return usage("unknown option " + a);
        } else if (o.model.empty()) {
            o.model = a;
        } else {
            return usage("more than one MODEL");
        }
    }
    if (o.model.empty())
        return usage("expected a MODEL (TorchScript)");

    auto modelDoc = openOrReport(o.model);
    if (!modelDoc)
        return 2;
    if (modelDoc->format != FileFormat::TorchScript) {
        std::fprintf(stderr, "torch-explorer-cli: %s is %s, not TorchScript: only TorchScript models can run without "
                             "Python (torch.jit.script or torch.jit.trace makes one)\n",
                     o.model.c_str(), formatName(modelDoc->format));
        return 2;
    }
    std::unique_ptr<Document> weightsDoc;
    if (!o.weights.empty() && !(weightsDoc = openOrReport(o.weights)))
        return 2;
    std::string error;
    {
        // Refuse before loading rather than fail half-way (inputs are not known yet: the
        // parameters alone decide here).
        const std::string tooBig = memoryCheck(*modelDoc, {}, o.device);
        if (!tooBig.empty()) {
            std::fprintf(stderr, "torch-explorer-cli: refusing to load %s: %s\n", o.model.c_str(), tooBig.c_str());
            return 2;
        }
    }
    Runtime *runtime = loadRuntime(&error);
    if (!runtime) {
        std::fprintf(stderr, "torch-explorer-cli: cannot run: %s\n", error.c_str());
        return 2;
    }
    const auto loadStart = std::chrono::steady_clock::now();
    auto model = runtime->loadModel(o.model, o.device, &error);
    const double loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - loadStart).count();
    if (!model) {
        std::fprintf(stderr, "torch-explorer-cli: cannot load %s on %s: %s\n", o.model.c_str(), o.device.c_str(),
                     error.c_str());
        return 2;
    }
    nlohmann::ordered_json out{{"model", o.model}, {"device", model->device()},
                               {"load_ms", loadSeconds * 1000.0},
                               {"load_mib_per_s", static_cast<double>(modelDoc->file->size()) / 1048576.0 / std::max(loadSeconds, 1e-9)}};
    if (weightsDoc) {
        if (!o.haveStateDict) {
            auto candidates = candidateStateDicts(*weightsDoc);
            o.stateDict = candidates.empty() ? std::string() : candidates.front();
        }
        ApplyResult applied = applyWeights(*model, *modelDoc, *weightsDoc, o.stateDict, o.rules, o.strict);
        if (!applied.ok) {
            std::fprintf(stderr, "torch-explorer-cli: %s\n", applied.error.c_str());
            return 1;
        }
        if (!applied.warning.empty())
            std::fprintf(stderr, "torch-explorer-cli: %s\n", applied.warning.c_str());
        out["weights"] = {{"path", o.weights}, {"state_dict", o.stateDict}, {"applied", applied.applied},
                          {"missing", applied.report.missing}, {"unexpected", applied.report.unexpected},
                          {"skipped_shape_mismatch", applied.report.shapeMismatch.size()},
                          {"bytes", applied.bytes},
                          {"transfer_mib_per_s", applied.seconds > 0 ? static_cast<double>(applied.bytes) / 1048576.0 / applied.seconds : 0.0}};
    }
    const auto arguments = model->forwardArguments();
    std::vector<InputSpec> specs = guessInputs(*modelDoc, arguments);
    if (!o.inputs.empty()) {
        specs.clear();
        for (size_t i = 0; i < o.inputs.size(); ++i) {
            InputSpec s;
            if (!parseInputSpec(o.inputs[i], &s, &error))
                return usage(error);
            s.name = i < arguments.size() ? arguments[i].name : "input" + std::to_string(i);
            if (!s.isTensor)
                s.type = i < arguments.size() ? arguments[i].type : "float";
            specs.push_back(std::move(s));
        }
    }
    {
        // Now the inputs are known: refuse those that cannot fit, before allocating them.
        const std::string tooBig = memoryCheck(*modelDoc, specs, o.device);
        if (!tooBig.empty()) {
            std::fprintf(stderr, "torch-explorer-cli: refusing to run %s: %s\n", o.model.c_str(), tooBig.c_str());
            return 2;
        }
    }
    RunResult r = model->run(specs, o.warmup, o.repeat, 1024);
    out["memory"] = {{"parameters_bytes", modelBytes(*modelDoc)}, {"activation_estimate_bytes", activationEstimate(*modelDoc, specs)}};
    nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
    for (const auto &s : specs)
        inputs.push_back({{"name", s.name}, {"spec", inputSpecText(s)}});
    out["inputs"] = std::move(inputs);
    if (!r.ok) {
        std::fprintf(stderr, "torch-explorer-cli: the model raised an error: %s\n", r.error.c_str());
        if (o.json) {
            out["error"] = r.error;
            std::cout << jsonText(out, 2) << "\n";
        }
        return 1;
    }
    out["outputs"] = outputsJson(r);
    out["latency_ms"] = {{"min", r.minMs}, {"median", r.medianMs}, {"p95", r.p95Ms}, {"repeats", r.latenciesMs.size()}};
    if (o.json) {
        std::cout << jsonText(out, 2) << "\n";
        return 0;
    }
    std::printf("%s on %s\n", o.model.c_str(), model->device().c_str());
    for (const auto &s : specs)
        std::printf("  input %s = %s\n", s.name.c_str(), inputSpecText(s).c_str());
    for (const auto &v : r.outputs) {
        if (!v.isTensor) {
            std::printf("  output %s = %s\n", v.path.empty() ? "(result)" : v.path.c_str(), v.text.c_str());
            continue;
        }
        std::printf("  output %s: %s %s, sum %.6g, first:", v.path.empty() ? "(result)" : v.path.c_str(),
                    v.dtype.c_str(), shapeText(v.shape).c_str(), v.sum);
        for (size_t i = 0; i < v.values.size() && i < 8; ++i)
            std::printf(" %.5g", v.values[i]);
        std::printf("\n");
    }
    std::printf("  latency: min %.3f ms, median %.3f ms, p95 %.3f ms over %zu runs\n", r.minMs, r.medianMs, r.p95Ms,
                r.latenciesMs.size());
    return 0;
}

} // namespace te::cli
