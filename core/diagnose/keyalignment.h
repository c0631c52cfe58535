#pragma once
// How the keys of two files are lined up before they are compared: which state dict of
// each (a training checkpoint's inner one against a bare one), and the renaming rules that
// the loading doctor finds for the keys of A (a wrapper prefix such as "module." or
// "_orig_mod."). Two files of the same model usually look different for these reasons
// alone.
#include "core/diagnose/loadcheck.h"
#include "core/document/document.h"

#include <string>
#include <vector>

namespace te {

struct KeyAlignment {
    std::string stateDictA, stateDictB; // the compared state dicts, dotted paths ("" is the top)
    std::vector<RemapRule> rules;       // applied to A's keys inside stateDictA
    size_t outsideA = 0, outsideB = 0;  // tensors outside the compared state dicts (optimizer state)

    // Nothing mapped: every key compared as it is.
    bool literal() const { return stateDictA.empty() && stateDictB.empty() && rules.empty(); }
    // One sentence per step: "A's state dict 'state_dict' against B's top level", ...
    std::vector<std::string> describe() const;
    // A's full key as B would name it; empty for a key outside stateDictA.
    std::string keyInB(const std::string &keyA) const;
};

// The state dicts with the most keys in common, then the doctor's renaming rules for A's
// keys while each lines up more of them with B's (at most a few rounds). Literal when the
// files already agree or when nothing lines up.
KeyAlignment alignKeys(const Document &a, const Document &b);

} // namespace te
