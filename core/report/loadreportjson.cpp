#include "core/report/loadreportjson.h"

#include "core/report/units.h"
#include <algorithm>
#include <cstdio>

#include <regex>
#include <sstream>

namespace te {

nlohmann::ordered_json loadReportJson(const LoadReport &r, const ExpectedModel &model)
{
    using J = nlohmann::ordered_json;
    J j;
    j["state_dict"] = r.stateDict;
    j["model_class"] = model.originalClass.empty() ? model.className : model.originalClass;
    j["missing"] = r.missing;
    j["unexpected"] = r.unexpected;
    J mismatch = J::array();
    for (const auto &m : r.shapeMismatch)
        mismatch.push_back({{"key", m.key}, {"checkpoint_shape", m.checkpointShape}, {"model_shape", m.modelShape}});
    j["shape_mismatch"] = std::move(mismatch);
    J dtypes = J::array();
    for (const auto &d : r.dtypeMismatch)
        dtypes.push_back(
            {{"key", d.key}, {"checkpoint_dtype", dtypeName(d.checkpoint)}, {"model_dtype", dtypeName(d.model)}});
    j["dtype_mismatch"] = std::move(dtypes);
    j["strict_ok"] = r.strictOk;
    j["strict_error"] = r.strictError;
    j["non_strict_ok"] = r.nonStrictOk;
    j["non_strict_error"] = r.nonStrictError;
    j["loaded"] = r.loaded.size();
    j["expected"] = model.keys.size();
    j["loaded_elements"] = r.loadedElements;
    j["expected_elements"] = r.expectedElements;
    j["loaded_fraction"] = loadedFraction(r, model);
    if (const std::string w = partialLoadWarning(r, model); !w.empty())
        j["load_warning"] = w;
    J suggestions = J::array();
    for (const auto &s : r.suggestions)
        suggestions.push_back(
            {{"kind", s.kind}, {"from", s.from}, {"to", s.to}, {"fixes", s.fixes}, {"description", s.description}});
    j["suggestions"] = std::move(suggestions);
    return j;
}

double loadedFraction(const LoadReport &r, const ExpectedModel &model)
{
    if (r.expectedElements)
        return static_cast<double>(r.loadedElements) / static_cast<double>(r.expectedElements);
    return model.keys.empty() ? 1.0 : static_cast<double>(r.loaded.size()) / static_cast<double>(model.keys.size());
}

std::string partialLoadWarning(const LoadReport &r, const ExpectedModel &model)
{
    const double f = loadedFraction(r, model);
    if (model.keys.empty() || f >= 0.5)
        return {};
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", 100.0 * f);
    std::string w = "only " + std::to_string(r.loaded.size()) + " of " + std::to_string(model.keys.size()) +
                    " keys would load (" + share + " of the model's elements). ";
    w += r.loaded.empty() ? "Nothing loads: load_state_dict(strict=False) still reports success, and the model keeps "
                            "its random initial values. "
                          : "load_state_dict(strict=False) reports success, but most of the model keeps its random "
                            "initial values. ";
    size_t best = 0;
    for (const auto &sg : r.suggestions)
        best = std::max(best, static_cast<size_t>(sg.fixes));
    // Only a suggestion that exists is pointed at; shapes that differ are no renaming's to fix.
    if (best > 0 && (r.loaded.size() + best) * 2 >= model.keys.size())
        w += "See the suggestions: a renaming fixes much of it.";
    else if (!r.shapeMismatch.empty())
        w += "No renaming fixes it: " + std::to_string(r.shapeMismatch.size()) +
             (r.shapeMismatch.size() == 1 ? " key has another shape" : " keys have other shapes") +
             " in the model, so its architecture differs from the checkpoint's.";
    else
        w += "The checkpoint is probably for another model.";
    return w;
}

std::string loadReportText(const LoadReport &r, const ExpectedModel &model, bool nonStrict)
{
    std::ostringstream os;
    if (const std::string w = partialLoadWarning(r, model); !w.empty())
        os << "WARNING: " << w << "\n";
    os << "state dict: " << (r.stateDict.empty() ? "(root)" : r.stateDict) << "\n";
    os << "model: " << (model.originalClass.empty() ? model.className : model.originalClass) << ", "
       << model.keys.size() << " keys\n";
    os << "loaded: " << r.loaded.size() << " of " << model.keys.size() << " keys";
    if (r.expectedElements)
        os << " (" << formatCount(r.loadedElements) << " of " << formatCount(r.expectedElements) << " elements)";
    os << "\nmissing: " << r.missing.size() << ", unexpected: " << r.unexpected.size()
       << ", shape mismatch: " << r.shapeMismatch.size() << ", dtype differs: " << r.dtypeMismatch.size() << "\n";
    for (const auto &k : r.missing)
        os << "  missing     " << k << "\n";
    for (const auto &k : r.unexpected)
        os << "  unexpected  " << k << "\n";
    for (const auto &m : r.shapeMismatch)
        os << "  shape       " << m.key << ": checkpoint " << torchSizeText(m.checkpointShape) << ", model "
           << torchSizeText(m.modelShape) << "\n";
    for (const auto &d : r.dtypeMismatch)
        os << "  dtype       " << d.key << ": checkpoint " << dtypeName(d.checkpoint) << ", model "
           << dtypeName(d.model) << " (PyTorch casts silently)\n";
    if (nonStrict) {
        os << (r.nonStrictOk ? "load_state_dict(strict=False) succeeds" : "load_state_dict(strict=False) fails:")
           << "\n";
        if (!r.nonStrictOk)
            os << r.nonStrictError << "\n";
        if (r.expectedElements && r.loadedElements < r.expectedElements)
            os << "left at their initial values: " << (model.keys.size() - r.loaded.size()) << " keys, "
               << (100.0 * static_cast<double>(r.expectedElements - r.loadedElements) /
                   static_cast<double>(r.expectedElements))
               << "% of the elements\n";
    } else {
        os << (r.strictOk ? "load_state_dict(strict=True) succeeds" : "load_state_dict(strict=True) fails:") << "\n";
        if (!r.strictOk)
            os << r.strictError << "\n";
    }
    if (!r.suggestions.empty()) {
        os << "suggestions:\n";
        for (const auto &s : r.suggestions)
            os << "  +" << s.fixes << "  " << s.description << "\n";
    }
    return os.str();
}

bool parseRule(const std::string &text, RemapRule *rule, std::string *error)
{
    std::string body = text;
    bool regex = body.rfind("re:", 0) == 0;
    if (regex)
        body = body.substr(3);
    size_t eq = body.find('=');
    if (eq == std::string::npos) {
        *error = "a rule is FROM=TO or re:PATTERN=REPLACEMENT: " + text;
        return false;
    }
    rule->kind = regex ? RemapRule::Kind::Regex : RemapRule::Kind::Prefix;
    rule->from = body.substr(0, eq);
    rule->to = body.substr(eq + 1);
    if (regex) {
        try {
            std::regex check(rule->from);
        } catch (const std::regex_error &e) {
            *error = "invalid regular expression '" + rule->from + "': " + e.what();
            return false;
        }
    }
    return true;
}

} // namespace te
