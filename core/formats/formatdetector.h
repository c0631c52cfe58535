#pragma once
// Decides what a file is from its bytes, never from its name: an attacker chooses the
// name, and a scanner that routes by extension reads something other than the loader.
#include "../io/mappedfile.h"

#include <string>

namespace te {

enum class Container { Zip, Tar, Pickle, Safetensors, Unknown };

struct Detection {
    Container container = Container::Unknown;
    std::string description; // for Unknown: what the bytes look like instead
};

Detection detectContainer(const MappedFile &file);

} // namespace te
