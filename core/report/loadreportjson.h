#pragma once
// The check document of the headless contract (DESIGN.md) and its text form.
#include "core/diagnose/loadcheck.h"

#include <nlohmann/json.hpp>

namespace te {

nlohmann::ordered_json loadReportJson(const LoadReport &report, const ExpectedModel &model);
std::string loadReportText(const LoadReport &report, const ExpectedModel &model, bool nonStrict);
// The share of the model's elements that receive a value (keys when the model has no
// elements), from 0 to 1.
double loadedFraction(const LoadReport &report, const ExpectedModel &model);
// A loud warning when less than half of the model would load: load_state_dict(strict=
// False) then reports success while most of the model keeps its random initial values.
// Empty otherwise.
std::string partialLoadWarning(const LoadReport &report, const ExpectedModel &model);
// Parses "FROM=TO" (a prefix rule) or "re:PATTERN=REPLACEMENT"; false when malformed.
bool parseRule(const std::string &text, RemapRule *rule, std::string *error);

} // namespace te
