#include "core/security/globalpolicy.h"

#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace te {

extern const char kGlobalPolicyText[];
extern const char kStdlibModulesText[];
extern const char kPython2NamesText[];

namespace {

struct Policy {
    std::vector<PolicyEntry> entries; // in file order: the first match wins
    std::set<std::string, std::less<>> stdlib;
    std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> renamedNames;
    std::map<std::string, std::string> renamedModules;
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
            // `numpy.**` names a namespace (classes only); `x.__pyx_unpickle_*` names
            // functions by their spelling.
            const size_t lastDot = e.pattern.rfind('.');
            const std::string last = e.pattern.substr(lastDot == std::string::npos ? 0 : lastDot + 1);
            e.classesOnly = e.wildcard && last.find_first_not_of('*') == std::string::npos;
            out.entries.push_back(std::move(e));
        }
        std::istringstream names(kStdlibModulesText);
        while (std::getline(names, line))
            if (!line.empty() && line[0] != '#')
                out.stdlib.insert(line);
        std::istringstream py2(kPython2NamesText);
        while (std::getline(py2, line)) {
            std::istringstream fields(line);
            std::string kind, a, b, c, d;
            fields >> kind >> a >> b >> c >> d;
            if (kind == "name" && !d.empty())
                out.renamedNames[{a, b}] = {c, d};
            else if (kind == "module" && !b.empty())
                out.renamedModules[a] = b;
        }
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

void normalizePython2Name(std::string &module, std::string &name)
{
    const Policy &p = policy();
    auto n = p.renamedNames.find({module, name});
    if (n != p.renamedNames.end()) {
        module = n->second.first;
        name = n->second.second;
        return;
    }
    auto m = p.renamedModules.find(module);
    if (m != p.renamedModules.end())
        module = m->second;
}

bool policyPatternMatches(std::string_view pattern, std::string_view text) { return matchFrom(pattern, text); }

bool looksLikeClass(std::string_view qualified)
{
    const size_t dot = qualified.rfind('.');
    std::string_view last = dot == std::string_view::npos ? qualified : qualified.substr(dot + 1);
    while (!last.empty() && last[0] == '_')
        last.remove_prefix(1);
    return !last.empty() && last[0] >= 'A' && last[0] <= 'Z';
}

bool isStdlibModule(std::string_view topLevel) { return policy().stdlib.count(topLevel) > 0; }

const PolicyEntry *findPolicyEntry(const std::string &qualified)
{
    const bool classLike = looksLikeClass(qualified);
    for (const auto &e : policy().entries) {
        if (!e.wildcard) {
            if (e.pattern == qualified)
                return &e;
        } else if ((classLike || !e.classesOnly || e.verdict != "suspicious") &&
                   policyPatternMatches(e.pattern, qualified)) {
            return &e;
        }
    }
    return nullptr;
}

} // namespace te
