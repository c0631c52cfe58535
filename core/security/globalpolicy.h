#pragma once
// The scanner's allow list and Python's list of standard modules, parsed once from the
// data files in this folder (compiled in). The rules that decide what no entry names live
// in the scanner; this only answers "what does the list say about this name".
#include <string>
#include <string_view>

namespace te {

struct PolicyEntry {
    std::string verdict; // "safe", "torchscript", "suspicious", "dangerous"
    std::string pattern; // "torch._utils._rebuild_*", "argparse.Namespace"
    std::string reason;
    bool wildcard = false;
    bool classesOnly = false; // a wildcard ending in `*` or `**`: a suspicious one matches classes only
};

// The first entry that matches module.qualname, or null. Suspicious entries whose last
// component is a bare wildcard match classes only.
const PolicyEntry *findPolicyEntry(const std::string &qualified);

// Whether a top-level module name belongs to Python's standard library (Python 2
// spellings and the C accelerator modules included).
bool isStdlibModule(std::string_view topLevel);

// The name Python 3's unpickler looks up for a (module, name) a protocol 0-2 pickle
// spells (fix_imports: `__builtin__ xrange` is `builtins range`); unchanged otherwise.
void normalizePython2Name(std::string &module, std::string &name);

// A qualname whose last component starts with a capital letter after any leading
// underscores: the naming convention of classes, the one hint a pickle gives.
bool looksLikeClass(std::string_view qualified);

// `*` matches within one dotted component, `**` across components.
bool policyPatternMatches(std::string_view pattern, std::string_view text);

} // namespace te
