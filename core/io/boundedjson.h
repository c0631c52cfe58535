#pragma once
// JSON from a file (safetensors headers, config.json, index files) parsed with its nesting
// bounded first: a header nested twenty thousand levels deep would otherwise exhaust the
// stack when the parsed value is copied or destroyed, and print quadratically.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace te {

constexpr int kMaxJsonDepth = 64; // real files nest a handful of levels

// Parses `text`; throws ReadError naming `member` and the byte offset (plus `baseOffset`)
// when it is not JSON or nests deeper than maxDepth.
nlohmann::ordered_json parseBoundedJson(std::string_view text, const std::string &member, int64_t baseOffset = 0,
                                        int maxDepth = kMaxJsonDepth);

// The same into nlohmann::json, whose objects are sorted maps: for large objects whose
// order does not matter (a safetensors header, an index's weight_map), since ordered_json
// inserts by linear search.
nlohmann::json parseBoundedJsonUnordered(std::string_view text, const std::string &member, int64_t baseOffset = 0,
                                         int maxDepth = kMaxJsonDepth);

// The byte offset at which `text` first nests deeper than maxDepth, or -1.
int64_t jsonTooDeepAt(std::string_view text, int maxDepth = kMaxJsonDepth);

} // namespace te
