#pragma once
// The check document of the headless contract (DESIGN.md) and its text form.
#include "loadcheck.h"

#include <nlohmann/json.hpp>

namespace te {

nlohmann::ordered_json loadReportJson(const LoadReport &report, const ExpectedModel &model);
std::string loadReportText(const LoadReport &report, const ExpectedModel &model, bool nonStrict);
// Parses "FROM=TO" (a prefix rule) or "re:PATTERN=REPLACEMENT"; false when malformed.
bool parseRule(const std::string &text, RemapRule *rule, std::string *error);

} // namespace te
