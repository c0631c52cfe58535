#include "loadreportjson.h"
#include "../report/inspectreport.h"

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
        dtypes.push_back({{"key", d.key}, {"checkpoint_dtype", dtypeName(d.checkpoint)}, {"model_dtype", dtypeName(d.model)}});
    j["dtype_mismatch"] = std::move(dtypes);
    j["strict_ok"] = r.strictOk;
    j["strict_error"] = r.strictError;
    j["non_strict_ok"] = r.nonStrictOk;
    j["non_strict_error"] = r.nonStrictError;
    j["loaded"] = r.loaded.size();
    j["expected"] = model.keys.size();
    j["loaded_elements"] = r.loadedElements;
    j["expected_elements"] = r.expectedElements;
    J suggestions = J::array();
    for (const auto &s : r.suggestions)
        suggestions.push_back({{"kind", s.kind}, {"from", s.from}, {"to", s.to}, {"fixes", s.fixes},
                               {"description", s.description}});
    j["suggestions"] = std::move(suggestions);
    return j;
}

std::string loadReportText(const LoadReport &r, const ExpectedModel &model, bool nonStrict)
{
    std::ostringstream os;
    os << "state dict: " << (r.stateDict.empty() ? "(root)" : r.stateDict) << "\n";
    os << "model: " << (model.originalClass.empty() ? model.className : model.originalClass) << ", " << model.keys.size()
       << " keys\n";
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
        os << (r.nonStrictOk ? "load_state_dict(strict=False) succeeds" : "load_state_dict(strict=False) fails:") << "\n";
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
