#pragma once
// The one argument parser of torch-explorer-cli. Each command declares its syntax (the
// options it takes, its operands and its usage text) next to its code; the parser reads
// a command line against that declaration and answers --help and every mistake with the
// command's usage, so the help and the error messages come from the same text.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace te::cli {

// One option of a command, spelled --name. A value follows as the next argument or
// after '=' (--fail-on=suspicious).
struct Option {
    enum class Kind {
        Flag,     // no value; giving it twice is harmless
        Value,    // one value; giving it twice is a mistake
        Repeated, // a value each time it is given, all kept in order
    };
    std::string name; // "--against"
    Kind kind = Kind::Flag;
    std::string placeholder;          // the value as the usage text names it: "REFERENCE"
    std::vector<std::string> choices; // when not empty, the only values accepted
    bool required = false;
};

Option flag(std::string name);
Option value(std::string name, std::string placeholder);
Option required(std::string name, std::string placeholder);
Option repeated(std::string name, std::string placeholder);
Option choice(std::string name, std::vector<std::string> choices);

// What a command accepts and how its usage text reads.
struct Syntax {
    std::string command;               // "check"
    std::vector<std::string> operands; // the arguments that are not options, all needed: {"A", "B"}
    std::vector<Option> options;
    std::string synopsis;   // the usage line after the command's name
    std::string summary;    // what the command does: the first line of --help
    std::string notes = {}; // further lines of the usage text, each ending in '\n'
};

// "usage: torch-explorer-cli check WEIGHTS ...\n" and the notes, long lines wrapped.
std::string usageText(const Syntax &syntax);
// Breaks text at spaces outside brackets (so "[--weights FILE [--strict]]" stays whole)
// into lines of at most `width` characters where the words allow, continuation lines
// indented by `indent` spaces.
std::vector<std::string> wrapText(const std::string &text, size_t width, size_t indent);

// A command line read against its syntax. Asking for an option the syntax does not
// declare, or as another kind, throws std::logic_error: a mistake in the program.
class Arguments {
public:
    explicit Arguments(const Syntax &syntax);

    bool has(const std::string &option) const;
    // The value of a Value option, or `fallback` when it was not given.
    std::string value(const std::string &option, const std::string &fallback = {}) const;
    const std::vector<std::string> &values(const std::string &repeatedOption) const;
    const std::string &operand(size_t index) const;

    // For the command's own checks of values: prints why with the command's usage on
    // stderr and returns 2, the exit code of bad arguments.
    int usageError(const std::string &why) const;

private:
    friend struct Parser;
    // Throws std::logic_error unless the syntax declares `name` (of that kind, if given).
    const Option &declared(const std::string &name, std::optional<Option::Kind> kind) const;

    const Syntax *m_syntax;
    std::map<std::string, std::vector<std::string>> m_given; // option name -> values (none for flags)
    std::vector<std::string> m_operands;
};

// Arguments to run the command with, or else the exit code to leave with: 0 after
// --help (what the command does and its usage on stdout), 2 after a mistake (what is
// wrong and the usage on stderr).
struct ParseResult {
    std::optional<Arguments> arguments;
    int exitCode = 0;
};

// --help or -h anywhere before "--" asks for the usage; "--" ends the options, so an
// operand may start with "--".
ParseResult parseArguments(const Syntax &syntax, const std::vector<std::string> &args);

} // namespace te::cli
