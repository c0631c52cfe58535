#include "core/io/boundedjson.h"
#include "core/io/readerror.h"

namespace te {

int64_t jsonTooDeepAt(std::string_view text, int maxDepth)
{
    int depth = 0;
    bool inString = false, escaped = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > maxDepth)
                return static_cast<int64_t>(i);
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return -1;
}

namespace {

template <typename Json>
Json parseBounded(std::string_view text, const std::string &member, int64_t baseOffset, int maxDepth)
{
    const int64_t deep = jsonTooDeepAt(text, maxDepth);
    if (deep >= 0)
        throw ReadError("JSON nested deeper than " + std::to_string(maxDepth) + " levels (real files nest a few)",
                        member, baseOffset + deep);
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::parse_error &e) {
        throw ReadError(std::string("not valid JSON: ") + e.what(), member,
                        baseOffset + static_cast<int64_t>(e.byte > 0 ? e.byte - 1 : 0));
    } catch (const nlohmann::json::exception &e) {
        throw ReadError(std::string("not valid JSON: ") + e.what(), member, baseOffset);
    }
}

} // namespace

nlohmann::ordered_json parseBoundedJson(std::string_view text, const std::string &member, int64_t baseOffset,
                                        int maxDepth)
{
    return parseBounded<nlohmann::ordered_json>(text, member, baseOffset, maxDepth);
}

nlohmann::json parseBoundedJsonUnordered(std::string_view text, const std::string &member, int64_t baseOffset,
                                         int maxDepth)
{
    return parseBounded<nlohmann::json>(text, member, baseOffset, maxDepth);
}

} // namespace te
