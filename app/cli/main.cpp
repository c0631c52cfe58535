// torch-explorer-cli: the headless front end. It links core only; libtorch is loaded by
// the commands that need it (devices), never for inspect and scan.
#include "app/cli/clicommands.h"

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        te::cli::helpCommand();
        return 2;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "--help" || command == "-h" || command == "help")
        return te::cli::helpCommand();
    if (command == "--version" || command == "version")
        return te::cli::versionCommand();
    if (command == "inspect")
        return te::cli::inspectCommand(args);
    if (command == "scan")
        return te::cli::scanCommand(args);
    if (command == "check")
        return te::cli::checkCommand(args);
    if (command == "diff")
        return te::cli::diffCommand(args);
    if (command == "cache")
        return te::cli::cacheCommand(args);
    if (command == "run")
        return te::cli::runCommand(args);
    if (command == "devices")
        return te::cli::devicesCommand(args);
    std::fprintf(stderr, "torch-explorer-cli: unknown command '%s' (see --help)\n", command.c_str());
    return 2;
}
