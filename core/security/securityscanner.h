#pragma once
// Judges what a file would do if loaded with Python's pickle: every global it references,
// in one of four categories, and a verdict. The policy is an allow list first (see
// core/security/global_policy.txt): what is not known to be harmless or a class that
// checkpoints carry is dangerous. A file that could not be read to the end is never
// called safe.
#include "core/document/document.h"

namespace te {

struct GlobalClass {
    std::string category; // "tensor", "torchscript", "python_class", "dangerous"
    std::string reason;
};

// `called`: the pickle calls it (REDUCE, NEWOBJ, OBJ, INST, BUILD on it), rather than
// only referring to it. `extensionCode` other than kNoExtension: reached through EXT1/2/4.
// `mutated`: the target of a BUILD, which sets attributes of a live class or function.
GlobalClass classifyGlobal(const std::string &module, const std::string &name, bool computed, bool called = true,
                           int64_t extensionCode = kNoExtension, bool mutated = false);
void scanSecurity(Document &doc);
// Whether a finding is one of the sentences scanSecurity adds for the verdict itself
// (not something found in the container).
bool isVerdictFinding(const std::string &finding);

// The Python lines that let torch.load(weights_only=True) read this file: imports, the
// add_safe_globals call and the safe_globals context-manager form. Empty when the file
// needs nothing, or when it is dangerous (then nothing makes it safe to load).
std::vector<std::string> safeGlobalsAdvice(const SecurityReport &report);

} // namespace te
