#include "globalpolicy.h"

#include <set>
#include <sstream>
#include <vector>

namespace te {

extern const char kGlobalPolicyText[];
extern const char kStdlibModulesText[];

namespace {

struct Policy {
    std::vector<PolicyEntry> entries; // in file order: the first match wins
    std::set<std::string, std::less<>> stdlib;
};

const Policy &policy()
{
    static const Policy p = [] {
        Policy out;
        std::istringstream in(kGlobalPolicyText);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#')
                continue;
            std::istringstream fields(line);
            PolicyEntry e;
            fields >> e.verdict >> e.pattern;
            std::getline(fields >> std::ws, e.reason);
            if (e.pattern.empty())
                continue;
            e.wildcard = e.pattern.find('*') != std::string::npos;
            out.entries.push_back(std::move(e));
        }
        std::istringstream names(kStdlibModulesText);
        while (std::getline(names, line))
            if (!line.empty() && line[0] != '#')
                out.stdlib.insert(line);
        return out;
    }();
    return p;
}

bool matchFrom(std::string_view p, std::string_view t)
{
    while (!p.empty()) {
        if (p.size() >= 2 && p[0] == '*' && p[1] == '*') {
            std::string_view rest = p.substr(2);
            for (size_t i = 0; i <= t.size(); ++i)
                if (matchFrom(rest, t.substr(i)))
                    return true;
            return false;
        }
        if (p[0] == '*') {
            std::string_view rest = p.substr(1);
            for (size_t i = 0; i <= t.size(); ++i) {
                if (matchFrom(rest, t.substr(i)))
                    return true;
                if (i < t.size() && t[i] == '.')
                    return false;
            }
            return false;
        }
        if (t.empty() || p[0] != t[0])
            return false;
        p.remove_prefix(1);
        t.remove_prefix(1);
    }
    return t.empty();
}

} // namespace

bool policyPatternMatches(std::string_view pattern, std::string_view text)
{
    return matchFrom(pattern, text);
}

bool looksLikeClass(std::string_view qualified)
{
    const size_t dot = qualified.rfind('.');
    std::string_view last = dot == std::string_view::npos ? qualified : qualified.substr(dot + 1);
    while (!last.empty() && last[0] == '_')
        last.remove_prefix(1);
    return !last.empty() && last[0] >= 'A' && last[0] <= 'Z';
}

bool isStdlibModule(std::string_view topLevel)
{
    return policy().stdlib.count(topLevel) > 0;
}

const PolicyEntry *findPolicyEntry(const std::string &qualified)
{
    const bool classLike = looksLikeClass(qualified);
    for (const auto &e : policy().entries) {
        if (!e.wildcard) {
            if (e.pattern == qualified)
                return &e;
        } else if ((classLike || e.verdict != "suspicious") && policyPatternMatches(e.pattern, qualified)) {
            return &e;
        }
    }
    return nullptr;
}

} // namespace te
