#include "securityscanner.h"
#include "../security/globalpolicy.h"

#include <algorithm>
#include <set>
#include <unordered_map>

namespace te {
namespace {

bool hasDunder(const std::string &name)
{
    // __reduce__, __globals__, __builtins__...: attributes that reach Python's internals.
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('.', start);
        if (end == std::string::npos)
            end = name.size();
        const std::string_view c(name.data() + start, end - start);
        if (c.size() > 4 && c.substr(0, 2) == "__" && c.substr(c.size() - 2) == "__")
            return true;
        start = end + 1;
    }
    return false;
}

// `Trace.runctx` is an attribute path; `os.system` inside a name (pathlib + os.system,
// torch.serialization + os.system) walks from one module into another.
std::string moduleReachedThroughName(const std::string &name)
{
    size_t start = 0;
    while (true) {
        size_t end = name.find('.', start);
        if (end == std::string::npos)
            return {};
        const std::string part = name.substr(start, end - start);
        if (isStdlibModule(part))
            return part;
        start = end + 1;
    }
}

std::string topLevel(const std::string &module)
{
    return module.substr(0, module.find('.'));
}

GlobalClass fromEntry(const PolicyEntry &e)
{
    static const std::unordered_map<std::string, std::string> categories = {
        {"safe", "tensor"}, {"torchscript", "torchscript"}, {"suspicious", "python_class"}, {"dangerous", "dangerous"}};
    auto it = categories.find(e.verdict);
    return {it == categories.end() ? "dangerous" : it->second, e.reason};
}

} // namespace

GlobalClass classifyGlobal(const std::string &module, const std::string &name, bool computed, bool called,
                           int64_t extensionCode)
{
    const std::string full = module.empty() ? name : module + "." + name;
    if (computed && extensionCode >= 0)
        return {"dangerous", "extension code " + std::to_string(extensionCode) +
                                 ": resolves to whatever the loading process registered with copyreg"};
    if (computed && name.rfind("<the result of", 0) == 0)
        return {"dangerous", "calls what another call returned: what runs is decided while unpickling"};
    if (computed)
        return {"dangerous", "the callable's name is computed while unpickling, so it can be anything"};
    if (extensionCode >= 0)
        return {"dangerous", "reached through extension code " + std::to_string(extensionCode) +
                                 ", registered in the file by copyreg.add_extension"};
    if (hasDunder(name))
        return {"dangerous", "a dunder attribute reaches Python internals"};
    const std::string reached = moduleReachedThroughName(name);
    if (!reached.empty())
        return {"dangerous", "reaches the standard module " + reached + " through an attribute of " + module};
    if (const PolicyEntry *e = findPolicyEntry(full))
        return fromEntry(*e);
    if (module == "__torch__" || module.rfind("__torch__.", 0) == 0)
        return {"torchscript", "a TorchScript type, rebuilt by torch.jit.load without Python"};
    const std::string top = topLevel(module);
    if (isStdlibModule(top))
        return {"dangerous", "a callable of the standard library module " + top +
                                 " that is not on the allow list: standard modules can run programs, "
                                 "touch files or load code"};
    const bool isTorch = top == "torch";
    if (looksLikeClass(name))
        return {"python_class", isTorch ? "a PyTorch class: needs weights_only=False in Python"
                                        : "a class of " + top + ": needs it importable and trusted (weights_only=False)"};
    if (called)
        return {"dangerous", isTorch ? "a function inside torch that is not on the allow list, called while loading "
                                       "(torch has its own loaders, hub and shell helpers)"
                                     : "a function of " + top + ", called while loading: it can do anything " + top +
                                           " can"};
    return {"python_class", "a function stored as a value, not called while loading"};
}

namespace {

// Uses of one name in one member are one entry; the index keeps that linear in globals.
using UseIndex = std::unordered_map<std::string, size_t>;

void addUse(SecurityReport &r, UseIndex &index, const GlobalRef &g, const GlobalClass &c)
{
    const std::string id = g.qualified() + '\n' + g.member + (g.computed ? "\n*" : "");
    auto [it, inserted] = index.emplace(id, r.globals.size());
    if (!inserted) {
        GlobalUse &same = r.globals[it->second];
        same.called = same.called || g.called;
        ++same.count;
        if (same.offsets.size() < kMaxUseOffsets)
            same.offsets.push_back(g.offset);
        // A later call of a global first seen uncalled may change its rating.
        if (c.category == "dangerous" && same.category != "dangerous") {
            same.category = c.category;
            same.reason = c.reason;
        }
        return;
    }
    GlobalUse u;
    u.name = g.qualified();
    u.category = c.category;
    u.called = g.called;
    u.computed = g.computed;
    u.member = g.member;
    u.offset = g.offset;
    u.offsets.push_back(g.offset);
    u.reason = c.reason;
    r.globals.push_back(std::move(u));
}

void decideVerdict(const Document &doc, SecurityReport &r, bool anyDangerous, bool anyPython, bool anyTorchScript)
{
    r.weightsOnlyLoadable = !anyDangerous && !anyPython && !anyTorchScript && r.complete &&
                            doc.format != FileFormat::TorchScript && r.findings.empty();
    if (anyDangerous) {
        r.verdict = "dangerous";
        r.verdictReason = "dangerous_calls";
        r.findings.insert(r.findings.begin(), "loading this file in Python (torch.load with weights_only=False) "
                                              "would run the dangerous calls listed");
    } else if (!r.complete) {
        r.verdict = "suspicious";
        r.verdictReason = "not_fully_scanned";
    } else if (anyPython) {
        r.verdict = "suspicious";
        r.verdictReason = "needs_python_classes";
        r.findings.push_back("Python's torch.load needs the classes listed (weights_only=True refuses them); "
                             "only allow them if you trust where the file came from");
    } else if (doc.format == FileFormat::TorchScript || anyTorchScript) {
        r.verdict = "suspicious";
        r.verdictReason = "torchscript_code";
        r.findings.push_back("a TorchScript archive: torch.jit.load rebuilds it without Python; what runs is its "
                             "own TorchScript code, when the model is called");
    } else if (!r.findings.empty()) {
        r.verdict = "suspicious";
        r.verdictReason = "container_findings";
    } else {
        r.verdict = "safe";
        r.verdictReason = "weights_only";
    }
}

} // namespace

void scanSecurity(Document &doc)
{
    SecurityReport &r = doc.security;
    bool anyDangerous = false, anyPython = false, anyTorchScript = false;
    UseIndex index;
    for (size_t i = 0; i < r.globals.size(); ++i)
        index.emplace(r.globals[i].name + '\n' + r.globals[i].member + (r.globals[i].computed ? "\n*" : ""), i);
    for (const GlobalRef &g : doc.globals) {
        const GlobalClass c = classifyGlobal(g.module, g.name, g.computed, g.called, g.extensionCode);
        addUse(r, index, g, c);
        anyDangerous |= c.category == "dangerous";
        anyPython |= c.category == "python_class";
        anyTorchScript |= c.category == "torchscript";
    }
    if (!doc.error.empty()) {
        r.complete = false;
        r.findings.push_back("the file could not be read to the end, so it was not fully scanned: " + doc.error);
    }
    decideVerdict(doc, r, anyDangerous, anyPython, anyTorchScript);
}

std::vector<std::string> safeGlobalsAdvice(const SecurityReport &r)
{
    if (r.verdict == "dangerous")
        return {};
    std::set<std::string> modules;
    std::vector<std::string> names;
    for (const auto &g : r.globals) {
        if (g.category != "python_class" || g.name.empty() || g.name[0] == '<')
            continue;
        const size_t dot = g.name.rfind('.');
        if (dot == std::string::npos || std::find(names.begin(), names.end(), g.name) != names.end())
            continue;
        names.push_back(g.name);
        // A nested class (module.Outer.Inner) is imported by its module; the pickle's
        // global keeps module and qualname apart, the report joins them, so import the
        // longest prefix that is not class-like.
        std::string module = g.name.substr(0, dot);
        while (looksLikeClass(module) && module.find('.') != std::string::npos)
            module = module.substr(0, module.rfind('.'));
        modules.insert(module);
    }
    if (names.empty())
        return {};
    std::vector<std::string> lines;
    lines.push_back("import torch");
    for (const auto &m : modules)
        lines.push_back("import " + m);
    std::string list;
    for (const auto &n : names)
        list += (list.empty() ? "" : ", ") + n;
    lines.push_back("torch.serialization.add_safe_globals([" + list + "])");
    lines.push_back("# or only for one load:");
    lines.push_back("with torch.serialization.safe_globals([" + list + "]):");
    lines.push_back("    torch.load(path, weights_only=True)");
    return lines;
}

} // namespace te
