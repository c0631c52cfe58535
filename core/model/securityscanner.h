#pragma once
// Judges what a file would do if loaded with Python's pickle: every global it references,
// in one of four categories, and a verdict. A file that could not be read to the end is
// never called safe.
#include "document.h"

namespace te {

struct GlobalClass {
    std::string category; // "tensor", "torchscript", "python_class", "dangerous"
    std::string reason;
};

GlobalClass classifyGlobal(const std::string &module, const std::string &name, bool computed);
void scanSecurity(Document &doc);

} // namespace te
