#pragma once
// The commands of torch-explorer-cli (DESIGN.md, the headless contract), one file each
// with its syntax next to its code. main() reads the command line against the syntax
// and runs the command with what it read; the command returns the process exit code:
// 0 ok, 1 the check failed, 2 unreadable input or bad arguments.
#include "app/cli/arguments.h"

namespace te::cli {

struct Command {
    Syntax syntax;
    int (*execute)(const Arguments &args);
};

extern const Command inspectCommand;
extern const Command scanCommand;
extern const Command checkCommand;
extern const Command diffCommand;
extern const Command runCommand;
extern const Command devicesCommand;
extern const Command cacheCommand;
extern const Command downloadCommand;
extern const Command exportCommand;

// --version: the program's version and whether the libtorch runtime can be loaded.
int printVersion();

} // namespace te::cli
