// `check WEIGHTS --against REFERENCE`: would load_state_dict succeed, in PyTorch's
// words, and which renaming would make it. Read with the core reader only (no libtorch).
#include "app/cli/command.h"
#include "app/cli/opendocument.h"

#include "core/diagnose/loaddiagnosis.h"
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/report/loadreportjson.h"
#include "core/report/valuejson.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

namespace te::cli {
namespace {

struct CheckOptions {
    std::string weightsPath, referencePath;
    std::optional<std::string> stateDict; // of the weights; the conventional one when not given
    std::vector<RemapRule> rules;
    double minLoaded = -1; // none
    bool json = false, nonStrict = false;
};

struct Diagnosis {
    std::unique_ptr<Document> weights, reference;
    ExpectedModel model;
    LoadReport report;
};

// The values the parser leaves as text; nullopt after reporting a malformed one.
std::optional<CheckOptions> readOptions(const Arguments &args)
{
    CheckOptions o;
    o.weightsPath = args.operand(0);
    o.referencePath = args.value("--against");
    o.json = args.has("--json");
    o.nonStrict = args.has("--non-strict");
    if (args.has("--state-dict"))
        o.stateDict = args.value("--state-dict");
    if (args.has("--min-loaded")) {
        const std::string text = args.value("--min-loaded");
        char *end = nullptr;
        o.minLoaded = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end || !(o.minLoaded >= 0 && o.minLoaded <= 1)) {
            args.usageError("--min-loaded takes a fraction between 0 and 1, not '" + text + "'");
            return std::nullopt;
        }
    }
    for (const auto &text : args.values("--rename")) {
        RemapRule rule;
        std::string error;
        if (!parseRule(text, &rule, &error)) {
            args.usageError(error);
            return std::nullopt;
        }
        o.rules.push_back(rule);
    }
    return o;
}

// Reads both files and compares them; throws std::runtime_error (ReadError among them)
// when either cannot be read or the reference defines no keys.
Diagnosis diagnose(const CheckOptions &o)
{
    Diagnosis d;
    d.weights = readDocument(o.weightsPath);
    d.reference = readDocument(o.referencePath);
    for (const auto *doc : {d.weights.get(), d.reference.get()})
        if (!doc->error.empty())
            throw ReadError(doc->error);
    d.model = expectedModelFrom(*d.reference);
    std::string stateDict;
    if (o.stateDict) {
        stateDict = *o.stateDict;
    } else {
        const auto candidates = candidateStateDicts(*d.weights);
        if (candidates.empty())
            throw ReadError("holds no tensors to load", o.weightsPath);
        stateDict = candidates.front();
    }
    d.report = diagnoseLoad(*d.weights, stateDict, d.model, o.rules);
    return d;
}

void printReport(const CheckOptions &o, const Diagnosis &d)
{
    if (!o.json) {
        std::cout << loadReportText(d.report, d.model, o.nonStrict);
        return;
    }
    nlohmann::ordered_json j{{"weights", o.weightsPath}, {"reference", o.referencePath}};
    const nlohmann::ordered_json body = loadReportJson(d.report, d.model);
    for (const auto &[k, v] : body.items())
        j[k] = v;
    std::cout << jsonText(j, 2) << "\n";
    // The text report carries the warning; JSON leaves stdout to the document.
    const std::string warning = partialLoadWarning(d.report, d.model);
    if (!warning.empty())
        std::fprintf(stderr, "torch-explorer-cli: warning: %s\n", warning.c_str());
}

// 0 when the weights would load as asked, 1 when not.
int verdict(const CheckOptions &o, const Diagnosis &d)
{
    if (!(o.nonStrict ? d.report.nonStrictOk : d.report.strictOk))
        return 1;
    // strict=False "succeeds" even when nothing loads; a check must not.
    if (o.nonStrict && d.report.loaded.empty() && !d.model.keys.empty())
        return 1;
    const double fraction = loadedFraction(d.report, d.model);
    if (o.minLoaded >= 0 && fraction < o.minLoaded) {
        std::fprintf(stderr, "torch-explorer-cli: %.1f%% of the model's elements load, below --min-loaded %g\n",
                     100.0 * fraction, o.minLoaded);
        return 1;
    }
    return 0;
}

int check(const Arguments &args)
{
    const std::optional<CheckOptions> options = readOptions(args);
    if (!options)
        return 2;
    try {
        const Diagnosis diagnosis = diagnose(*options);
        printReport(*options, diagnosis);
        return verdict(*options, diagnosis);
    } catch (const std::runtime_error &e) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", e.what());
    }
    return 2;
}

} // namespace

const Command checkCommand{
    {"check",
     {"WEIGHTS"},
     {required("--against", "REFERENCE"), flag("--json"), flag("--non-strict"), value("--min-loaded", "FRACTION"),
      repeated("--rename", "FROM=TO"), value("--state-dict", "KEY")},
     "WEIGHTS --against REFERENCE [--json] [--non-strict] [--min-loaded FRACTION] [--rename FROM=TO]... "
     "[--rename re:PATTERN=REPLACEMENT]... [--state-dict KEY]",
     "would load_state_dict succeed; exit 1 if not"},
    check};

} // namespace te::cli
