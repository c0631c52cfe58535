// torch-explorer-cli: the headless front end. It links core only; libtorch is loaded by
// the commands that need it (run, devices), never for inspect and scan. Each command
// lives in its own file with its syntax; this one picks the command, reads its
// arguments with the one parser (app/cli/arguments.h) and writes the program's help
// from the commands' own usage lines.
#include "app/cli/command.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using te::cli::Command;

const Command *const kCommands[] = {&te::cli::inspectCommand, &te::cli::scanCommand,     &te::cli::checkCommand,
                                    &te::cli::diffCommand,    &te::cli::runCommand,      &te::cli::devicesCommand,
                                    &te::cli::cacheCommand,   &te::cli::downloadCommand, &te::cli::exportCommand};

// One entry of the help's command list: the usage line, wrapped at 100 columns, and the
// summary in a column of its own from column 55 (to 105, as long as the longest usage).
std::string helpEntry(const std::string &usage, const std::string &summary)
{
    const size_t column = 55;
    std::vector<std::string> lines = te::cli::wrapText("torch-explorer-cli " + usage, 98, 19);
    const std::vector<std::string> about = te::cli::wrapText(summary, 50, 0);
    for (size_t i = 0; i < about.size(); ++i) {
        if (i > 0 || lines.back().size() + 4 > column)
            lines.emplace_back();
        lines.back().resize(column - 2, ' ');
        lines.back() += about[i];
    }
    std::string text;
    for (const auto &line : lines)
        text += "  " + line + "\n";
    return text;
}

void printHelp(std::FILE *to)
{
    std::string commands;
    for (const Command *c : kCommands)
        commands += helpEntry(c->syntax.command + " " + c->syntax.synopsis, c->syntax.summary);
    commands += helpEntry("--version", "versions of the program and its runtime");
    std::fprintf(to,
                 "torch-explorer-cli %s: look inside PyTorch model files without running them\n"
                 "\n"
                 "usage:\n"
                 "%s"
                 "\n"
                 "FILE is anything torch.save or torch.jit.save wrote: state dicts, checkpoints, whole pickled\n"
                 "models, TorchScript, legacy (pre-1.6) files; safetensors; a Hugging Face model folder or its\n"
                 "*.index.json; a model on the Hugging Face Hub, hf:org/name[@revision][/file] or its\n"
                 "https://huggingface.co/ address: from the local hub cache when it is there, else read over the\n"
                 "network by byte ranges, fetching only what is needed (--offline, or HF_HUB_OFFLINE=1, forbids\n"
                 "the network; HF_ENDPOINT and HF_TOKEN as huggingface_hub reads them). Nothing in a file is\n"
                 "executed.\n"
                 "Each command's --help shows its usage.\n"
                 "exit status: 0 ok, 1 the check failed (dangerous content, would not load, files differ),\n"
                 "2 unreadable input or bad arguments\n",
                 TE_VERSION, commands.c_str());
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    // --offline, anywhere: no network for any command, as HF_HUB_OFFLINE=1 does.
    for (auto it = args.begin(); it != args.end();) {
        if (*it == "--offline") {
            ::setenv("HF_HUB_OFFLINE", "1", 1);
            it = args.erase(it);
        } else {
            ++it;
        }
    }
    if (args.empty()) {
        printHelp(stderr);
        return 2;
    }
    const std::string name = args.front();
    args.erase(args.begin());
    if (name == "--help" || name == "-h" || name == "help") {
        printHelp(stdout);
        return 0;
    }
    if (name == "--version" || name == "version")
        return te::cli::printVersion();
    for (const Command *command : kCommands) {
        if (command->syntax.command != name)
            continue;
        const te::cli::ParseResult parsed = te::cli::parseArguments(command->syntax, args);
        return parsed.arguments ? command->execute(*parsed.arguments) : parsed.exitCode;
    }
    std::fprintf(stderr, "torch-explorer-cli: unknown command '%s' (see --help)\n", name.c_str());
    return 2;
}
