// torch-explorer-cli check WEIGHTS --against REFERENCE: would load_state_dict succeed,
// in PyTorch's words, and which renaming would make it.
#include "app/cli/clicommands.h"

#include "core/diagnose/loaddiagnosis.h"
#include "core/report/loadreportjson.h"
#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "core/report/valuejson.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace te::cli {

int checkCommand(const std::vector<std::string> &args)
{
    std::string weightsPath, referencePath, stateDict, refStateDict;
    bool json = false, nonStrict = false, haveStateDict = false;
    double minLoaded = -1;
    std::vector<RemapRule> rules;
    auto usage = [](const std::string &why) {
        std::fprintf(stderr,
                     "torch-explorer-cli check: %s\nusage: check WEIGHTS --against REFERENCE [--json] [--non-strict] "
                     "[--min-loaded FRACTION] [--rename FROM=TO]... [--rename re:PATTERN=REPLACEMENT]... [--state-dict KEY]\n",
                     why.c_str());
        return 2;
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](std::string *out) {
            if (i + 1 >= args.size())
                return false;
            *out = args[++i];
            return true;
        };
        if (a == "--json") {
            json = true;
        } else if (a == "--non-strict") {
            nonStrict = true;
        } else if (a == "--against") {
            if (!value(&referencePath))
                return usage("--against needs a file");
        } else if (a == "--min-loaded") {
            std::string text;
            if (!value(&text))
                return usage("--min-loaded needs a fraction between 0 and 1");
            char *end = nullptr;
            minLoaded = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end || !(minLoaded >= 0 && minLoaded <= 1))
                return usage("--min-loaded takes a fraction between 0 and 1, not '" + text + "'");
        } else if (a == "--state-dict") {
            if (!value(&stateDict))
                return usage("--state-dict needs a key");
            haveStateDict = true;
        } else if (a == "--rename") {
            std::string text, error;
            RemapRule rule;
            if (!value(&text))
                return usage("--rename needs FROM=TO");
            if (!parseRule(text, &rule, &error))
                return usage(error);
            rules.push_back(rule);
        } else if (a.rfind("--", 0) == 0) {
            return usage("unknown option " + a);
        } else if (weightsPath.empty()) {
            weightsPath = a;
        } else {
            return usage("more than one WEIGHTS file");
        }
    }
    if (weightsPath.empty() || referencePath.empty())
        return usage("expected WEIGHTS and --against REFERENCE");
    try {
        auto weights = readDocument(weightsPath);
        auto reference = readDocument(referencePath);
        for (const auto *d : {weights.get(), reference.get()})
            if (!d->error.empty())
                throw ReadError(d->error);
        ExpectedModel model = expectedModelFrom(*reference, refStateDict);
        if (!haveStateDict) {
            auto candidates = candidateStateDicts(*weights);
            if (candidates.empty())
                throw ReadError("holds no tensors to load", weightsPath);
            stateDict = candidates.front();
        }
        LoadReport report = diagnoseLoad(*weights, stateDict, model, rules);
        if (json) {
            nlohmann::ordered_json j{{"weights", weightsPath}, {"reference", referencePath}};
            const nlohmann::ordered_json body = loadReportJson(report, model);
            for (const auto &[k, v] : body.items())
                j[k] = v;
            std::cout << jsonText(j, 2) << "\n";
        } else {
            std::cout << loadReportText(report, model, nonStrict);
        }
        const std::string warning = partialLoadWarning(report, model);
        if (json && !warning.empty())
            std::fprintf(stderr, "torch-explorer-cli: warning: %s\n", warning.c_str());
        if (!(nonStrict ? report.nonStrictOk : report.strictOk))
            return 1;
        // strict=False "succeeds" even when nothing loads; a check must not.
        const double fraction = loadedFraction(report, model);
        if (nonStrict && report.loaded.empty() && !model.keys.empty())
            return 1;
        if (minLoaded >= 0 && fraction < minLoaded) {
            std::fprintf(stderr, "torch-explorer-cli: %.1f%% of the model's elements load, below --min-loaded %g\n",
                         100.0 * fraction, minLoaded);
            return 1;
        }
        return 0;
    } catch (const ReadError &e) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", e.what());
    } catch (const std::runtime_error &e) {
        std::fprintf(stderr, "torch-explorer-cli: %s\n", e.what());
    }
    return 2;
}

} // namespace te::cli
