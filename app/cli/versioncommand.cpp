// `--version`: the versions of the program and of the libtorch runtime it would load.
#include "app/cli/command.h"

#include "core/runtime/runtimeloader.h"

#include <cstdio>

namespace te::cli {

int printVersion()
{
    std::printf("torch-explorer-cli %s\n", TE_VERSION);
    std::string error;
    if (Runtime *rt = loadRuntime(&error))
        std::printf("runtime: libtorch %s\n", rt->libtorchVersion().c_str());
    else
        std::printf("runtime: missing (%s)\n", error.c_str());
    return 0;
}

} // namespace te::cli
