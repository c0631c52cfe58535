#pragma once
// The headless contract's documents (DESIGN.md): inspect and scan as JSON, and the same
// information as readable text for a terminal.
#include "core/document/document.h"

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace te {

nlohmann::ordered_json inspectJson(const Document &doc, bool withStats);
// Writes jsonText(inspectJson(doc, withStats), 2) without building the whole document.
void writeInspectJson(std::ostream &os, const Document &doc, bool withStats);
nlohmann::ordered_json securityJson(const SecurityReport &report);
// One sentence on why the verdict is what it is ("needs trusted Python classes: ...").
std::string securitySummary(const SecurityReport &report);
std::string inspectText(const Document &doc, bool withStats);
std::string scanText(const Document &doc);
// Where a document read from the Hub came from and what reading it has fetched so far
// (null / empty for a local one).
nlohmann::ordered_json remoteJson(const Document &doc);
std::string remoteText(const Document &doc);
// The inspect document as Markdown: a summary, the tensor table, metadata, security.
std::string inspectMarkdown(const Document &doc);
// Text for a Markdown table cell ('|' escaped).
std::string markdownCell(const std::string &text);

} // namespace te
