#include "core/security/securityscanner.h"
#include "core/security/globalpolicy.h"

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
// torch.serialization + os.system) walks from one module into another. Capitalised parts
// are classes (a nested `Queue.Item` is not Python 2's Queue module).
std::string moduleReachedThroughName(const std::string &name)
{
    size_t start = 0;
    while (true) {
        size_t end = name.find('.', start);
        if (end == std::string::npos)
            return {};
        const std::string part = name.substr(start, end - start);
        if (!looksLikeClass(part) && isStdlibModule(part))
            return part;
        start = end + 1;
    }
}

// A library module that re-exports a standard module which runs programs
// (torch.multiprocessing, future.moves.subprocess): its classes start processes.
std::string codeRunningModuleInPath(const std::string &module)
{
    static const char *const kRunners[] = {
        "subprocess",      "os",     "posix", "nt",      "builtins",   "__builtin__",      "ctypes",
        "multiprocessing", "runpy",  "code",  "pty",     "importlib",  "pickle",           "_pickle",
        "socket",          "shutil", "sys",   "marshal", "webbrowser", "_posixsubprocess", "pydoc",
        "asyncio"};
    size_t start = module.find('.');
    while (start != std::string::npos) {
        const size_t end = module.find('.', start + 1);
        const std::string part =
            module.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
        for (const char *r : kRunners)
            if (part == r)
                return part;
        start = end;
    }
    return {};
}

std::string topLevel(const std::string &module) { return module.substr(0, module.find('.')); }

GlobalClass fromEntry(const PolicyEntry &e)
{
    static const std::unordered_map<std::string, std::string> categories = {
        {"safe", "tensor"}, {"torchscript", "torchscript"}, {"suspicious", "python_class"}, {"dangerous", "dangerous"}};
    auto it = categories.find(e.verdict);
    return {it == categories.end() ? "dangerous" : it->second, e.reason};
}

} // namespace

GlobalClass classifyGlobal(const std::string &spelledModule, const std::string &spelledName, bool computed, bool called,
                           int64_t extensionCode, bool mutated)
{
    // Judge what Python 3 would look up: `__builtin__ xrange` is `builtins range`.
    std::string module = spelledModule, name = spelledName;
    if (!computed)
        normalizePython2Name(module, name);
    const std::string full = module.empty() ? name : module + "." + name;
    if (computed && extensionCode != kNoExtension)
        return {"dangerous", "extension code " + std::to_string(extensionCode) +
                                 ": resolves to whatever the loading process registered with copyreg"};
    if (computed && name.rfind("<the result of", 0) == 0)
        return {"dangerous", "calls what another call returned: what runs is decided while unpickling"};
    if (computed)
        return {"dangerous", "the callable's name is computed while unpickling, so it can be anything"};
    if (extensionCode != kNoExtension)
        return {"dangerous", "reached through extension code " + std::to_string(extensionCode) +
                                 ", registered in the file by copyreg.add_extension"};
    if (mutated)
        return {"dangerous", "the pickle sets attributes of this class or function in the loading process (BUILD "
                             "on a global), which changes what later code runs"};
    if (module.empty())
        return {"dangerous", "a name without a module: not something a pickler writes"};
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
    if (const std::string runner = codeRunningModuleInPath(module); !runner.empty())
        return {"dangerous", module + " re-exports the standard module " + runner + ", which runs programs"};
    const bool isTorch = top == "torch";
    if (looksLikeClass(name))
        return {"python_class", isTorch
                                    ? "a PyTorch class: needs weights_only=False in Python"
                                    : "a class of " + top + ": needs it importable and trusted (weights_only=False)"};
    if (called)
        return {"dangerous",
                isTorch ? "a function inside torch that is not on the allow list, called while loading "
                          "(torch has its own loaders, hub and shell helpers)"
                        : "a function of " + top + ", called while loading: it can do anything " + top + " can"};
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
    std::string module = g.module, name = g.name;
    if (!g.computed)
        normalizePython2Name(module, name);
    u.pythonName = module.empty() ? name : module + "." + name;
    u.category = c.category;
    u.called = g.called;
    u.computed = g.computed;
    u.member = g.member;
    u.offset = g.offset;
    u.offsets.push_back(g.offset);
    u.reason = c.reason;
    r.globals.push_back(std::move(u));
}

const char *const kRunsCalls = "loading this file in Python (torch.load with weights_only=False) would run the "
                               "dangerous calls listed";
const char *const kNeedsClasses = "Python's torch.load needs the classes listed (weights_only=True refuses them); "
                                  "only allow them if you trust where the file came from";
const char *const kTorchScript = "a TorchScript archive: torch.jit.load rebuilds it without Python; what runs is its "
                                 "own TorchScript code, when the model is called";
const char *const kNotScanned = "the file could not be read to the end, so it was not fully scanned: ";

void decideVerdict(const Document &doc, SecurityReport &r, bool anyDangerous, bool anyPython, bool anyTorchScript)
{
    r.weightsOnlyLoadable = !anyDangerous && !anyPython && !anyTorchScript && r.complete &&
                            doc.format != FileFormat::TorchScript && r.nativeCode.empty() && r.findings.empty();
    if (!r.nativeCode.empty() && !anyDangerous) {
        r.verdict = "dangerous";
        r.verdictReason = "native_code";
        std::string names;
        for (const auto &n : r.nativeCode)
            names += (names.empty() ? "" : ", ") + n;
        r.findings.insert(r.findings.begin(), "loading this package (torch._inductor.aoti_load_package or "
                                              "torch.export.pt2_archive) loads compiled libraries, which run native "
                                              "code with no checks: " +
                                                  names);
    } else if (anyDangerous) {
        r.verdict = "dangerous";
        r.verdictReason = "dangerous_calls";
        r.findings.insert(r.findings.begin(), kRunsCalls);
    } else if (!r.complete) {
        r.verdict = "suspicious";
        r.verdictReason = "not_fully_scanned";
    } else if (anyPython) {
        r.verdict = "suspicious";
        r.verdictReason = "needs_python_classes";
        r.findings.push_back(kNeedsClasses);
    } else if (doc.format == FileFormat::TorchScript || anyTorchScript) {
        r.verdict = "suspicious";
        r.verdictReason = "torchscript_code";
        r.findings.push_back(kTorchScript);
    } else if (!r.findings.empty()) {
        r.verdict = "suspicious";
        r.verdictReason = "container_findings";
    } else if (doc.globals.empty() &&
               (doc.format == FileFormat::Safetensors || doc.format == FileFormat::HuggingFaceFolder)) {
        r.verdict = "safe";
        r.verdictReason = "no_code"; // safetensors: a format that cannot hold code
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
    // One rating per distinct use: a pickle may spell the same global a million times.
    std::unordered_map<std::string, GlobalClass> ratings;
    for (const GlobalRef &g : doc.globals) {
        std::string key = g.module + '\n' + g.name + '\n' + (g.computed ? 'c' : '-') + (g.called ? 'k' : '-') +
                          (g.mutated ? 'm' : '-') + std::to_string(g.extensionCode);
        auto it = ratings.find(key);
        if (it == ratings.end())
            it = ratings
                     .emplace(std::move(key),
                              classifyGlobal(g.module, g.name, g.computed, g.called, g.extensionCode, g.mutated))
                     .first;
        GlobalClass c = it->second;
        // A distributed checkpoint's .metadata is read by DCP with pickle.load, not
        // torch.load; the path DCP itself stores as the checkpoint's id is expected there.
        if (doc.format == FileFormat::DistributedCheckpoint && g.member == ".metadata" && !g.computed &&
            g.extensionCode == kNoExtension && !g.mutated && (g.module == "pathlib" || g.module == "pathlib._local") &&
            (g.name == "PosixPath" || g.name == "WindowsPath" || g.name == "Path")) {
            c.category = "tensor";
            c.reason = "the checkpoint's id, a path DCP stores in its metadata";
        }
        addUse(r, index, g, c);
        anyDangerous |= c.category == "dangerous";
        anyPython |= c.category == "python_class";
        anyTorchScript |= c.category == "torchscript";
    }
    if (!doc.error.empty()) {
        r.complete = false;
        r.findings.push_back(kNotScanned + doc.error);
    }
    decideVerdict(doc, r, anyDangerous, anyPython, anyTorchScript);
    // torch.load refuses a file whose storage ids are malformed, whatever its globals;
    // that is not a risk, so the verdict stays, but weights_only=True would not load it.
    for (const auto &st : doc.storages)
        if (st.error.str().rfind("malformed", 0) == 0) {
            r.weightsOnlyLoadable = false;
            r.findings.push_back("a storage's persistent id is malformed, so torch.load would refuse the file: " +
                                 st.error.str());
            break;
        }
}

namespace {

bool isIdentifierPath(const std::string &dotted)
{
    bool start = true;
    for (char c : dotted) {
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (c == '.') {
            if (start)
                return false;
            start = true;
        } else if (letter || (digit && !start)) {
            start = false;
        } else {
            return false;
        }
    }
    return !start;
}

// A name add_safe_globals may reasonably allow: a class, or a curated helper that builds
// data (numpy's array rebuild). Not a function that calls what it is given, nor any other
// function: allowing those lets the file call things.
bool advisable(const std::string &name)
{
    if (name == "functools.partial" || name == "copyreg._reconstructor")
        return false;
    if (looksLikeClass(name))
        return true;
    const PolicyEntry *e = findPolicyEntry(name);
    return e && !e->wildcard && e->verdict == "suspicious";
}

} // namespace

bool isVerdictFinding(const std::string &f)
{
    return f == kRunsCalls || f == kNeedsClasses || f == kTorchScript || f.rfind(kNotScanned, 0) == 0;
}

std::vector<std::string> safeGlobalsAdvice(const SecurityReport &r)
{
    if (r.verdict == "dangerous")
        return {};
    std::set<std::string> modules, seen;
    std::vector<std::string> names, refused;
    for (const auto &g : r.globals) {
        if (g.category != "python_class" || !seen.insert(g.pythonName).second)
            continue;
        // Names come from the file: only ones that are plain Python paths become code.
        if (!isIdentifierPath(g.pythonName) || g.pythonName.find('.') == std::string::npos)
            return {};
        if (!advisable(g.pythonName)) {
            refused.push_back(g.pythonName);
            continue;
        }
        names.push_back(g.pythonName);
        // A nested class (module.Outer.Inner) is imported by its module: the longest
        // prefix whose last part is not class-like.
        size_t end = g.pythonName.rfind('.');
        while (end != std::string::npos && looksLikeClass(std::string_view(g.pythonName).substr(0, end))) {
            const size_t dot = g.pythonName.rfind('.', end - 1);
            if (dot == std::string::npos)
                break;
            end = dot;
        }
        modules.insert(g.pythonName.substr(0, end));
    }
    std::vector<std::string> lines;
    if (!refused.empty()) {
        std::string list;
        for (const auto &n : refused)
            list += (list.empty() ? "" : ", ") + n;
        lines.push_back("# weights_only=True would also have to allow " + list +
                        ", which would let the file call other functions;");
        lines.push_back("# load it with weights_only=False only if you trust where it came from.");
        return lines;
    }
    if (names.empty())
        return {};
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
