#include "app/cli/arguments.h"

#include <cstdio>
#include <stdexcept>

namespace te::cli {

Option flag(std::string name) { return {std::move(name), Option::Kind::Flag, {}, {}, false}; }

Option value(std::string name, std::string placeholder)
{
    return {std::move(name), Option::Kind::Value, std::move(placeholder), {}, false};
}

Option required(std::string name, std::string placeholder)
{
    return {std::move(name), Option::Kind::Value, std::move(placeholder), {}, true};
}

Option repeated(std::string name, std::string placeholder)
{
    return {std::move(name), Option::Kind::Repeated, std::move(placeholder), {}, false};
}

Option choice(std::string name, std::vector<std::string> choices)
{
    std::string placeholder;
    for (const auto &c : choices)
        placeholder += (placeholder.empty() ? "" : "|") + c;
    return {std::move(name), Option::Kind::Value, std::move(placeholder), std::move(choices), false};
}

namespace {

const char kProgram[] = "torch-explorer-cli";

// "a", "a or b", "a, b or c".
std::string orList(const std::vector<std::string> &words)
{
    std::string text;
    for (size_t i = 0; i < words.size(); ++i)
        text += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
    return text;
}

std::string andList(const std::vector<std::string> &words)
{
    std::string text;
    for (size_t i = 0; i < words.size(); ++i)
        text += (i == 0 ? "" : i + 1 == words.size() ? " and " : ", ") + words[i];
    return text;
}

const Option *findOption(const Syntax &syntax, const std::string &name)
{
    for (const auto &o : syntax.options)
        if (o.name == name)
            return &o;
    return nullptr;
}

bool isHelp(const std::string &arg) { return arg == "--help" || arg == "-h"; }

} // namespace

std::vector<std::string> wrapText(const std::string &text, size_t width, size_t indent)
{
    std::vector<std::string> words(1);
    int depth = 0;
    for (char c : text) {
        depth += c == '[' ? 1 : c == ']' ? -1 : 0;
        if (c == ' ' && depth == 0)
            words.emplace_back();
        else
            words.back() += c;
    }
    std::vector<std::string> lines(1);
    for (const auto &w : words) {
        if (!lines.back().empty() && lines.back().size() + 1 + w.size() > width)
            lines.push_back(std::string(indent, ' '));
        if (!lines.back().empty() && lines.back().back() != ' ')
            lines.back() += ' ';
        lines.back() += w;
    }
    return lines;
}

std::string usageText(const Syntax &syntax)
{
    const std::string head = std::string("usage: ") + kProgram + " " + syntax.command + " ";
    std::string text;
    for (const auto &line : wrapText(head + syntax.synopsis, 100, head.size()))
        text += line + "\n";
    return text + syntax.notes;
}

Arguments::Arguments(const Syntax &syntax)
    : m_syntax(&syntax)
{ }

const Option &Arguments::declared(const std::string &name, std::optional<Option::Kind> kind) const
{
    const Option *option = findOption(*m_syntax, name);
    if (!option || (kind && option->kind != *kind))
        throw std::logic_error(m_syntax->command + " declares no option " + name + " of that kind");
    return *option;
}

bool Arguments::has(const std::string &option) const
{
    declared(option, std::nullopt);
    return m_given.count(option) != 0;
}

std::string Arguments::value(const std::string &option, const std::string &fallback) const
{
    declared(option, Option::Kind::Value);
    const auto it = m_given.find(option);
    return it == m_given.end() ? fallback : it->second.front();
}

const std::vector<std::string> &Arguments::values(const std::string &repeatedOption) const
{
    declared(repeatedOption, Option::Kind::Repeated);
    static const std::vector<std::string> none;
    const auto it = m_given.find(repeatedOption);
    return it == m_given.end() ? none : it->second;
}

const std::string &Arguments::operand(size_t index) const { return m_operands.at(index); }

int Arguments::usageError(const std::string &why) const
{
    std::fprintf(stderr, "%s %s: %s\n%s", kProgram, m_syntax->command.c_str(), why.c_str(),
                 usageText(*m_syntax).c_str());
    return 2;
}

// Reads one command line: options in any order among the operands, the first mistake
// kept for the report, --help honoured wherever it stands.
struct Parser {
    explicit Parser(const Syntax &s)
        : syntax(s)
        , arguments(s)
    { }

    const Syntax &syntax;
    Arguments arguments;
    std::string mistake; // the first one
    bool help = false;

    void fail(const std::string &why)
    {
        if (mistake.empty())
            mistake = why;
    }

    // The option at args[*i] ("--name" or "--name=value"); a value not inline is the next
    // argument, whatever it looks like, and *i moves past it.
    void readOption(const std::vector<std::string> &args, size_t *i)
    {
        const std::string &arg = args[*i];
        const size_t equals = arg.find('=');
        const std::string name = arg.substr(0, equals);
        const Option *option = findOption(syntax, name);
        if (!option)
            return fail("unknown option " + name);
        if (option->kind == Option::Kind::Flag) {
            if (equals != std::string::npos)
                return fail(name + " takes no value");
            arguments.m_given.try_emplace(name);
            return;
        }
        std::string text;
        if (equals != std::string::npos)
            text = arg.substr(equals + 1);
        else if (*i + 1 < args.size())
            text = args[++*i];
        else
            return fail(name + " needs " + (option->choices.empty() ? option->placeholder : orList(option->choices)));
        keep(*option, std::move(text));
    }

    void keep(const Option &option, std::string text)
    {
        if (!option.choices.empty()) {
            bool known = false;
            for (const auto &c : option.choices)
                known = known || c == text;
            if (!known)
                return fail(option.name + " takes " + orList(option.choices) + ", not '" + text + "'");
        }
        auto &values = arguments.m_given[option.name];
        if (option.kind == Option::Kind::Value && !values.empty())
            return fail(option.name + " is given more than once");
        values.push_back(std::move(text));
    }

    void checkComplete()
    {
        const auto &given = arguments.m_operands;
        const auto &wanted = syntax.operands;
        if (given.size() > wanted.size())
            return fail("unexpected argument '" + given[wanted.size()] + "'");
        if (given.size() < wanted.size())
            return fail("missing " +
                        andList({wanted.begin() + static_cast<std::ptrdiff_t>(given.size()), wanted.end()}));
        for (const auto &o : syntax.options)
            if (o.required && !arguments.m_given.count(o.name))
                return fail("missing " + o.name + " " + o.placeholder);
    }

    void read(const std::vector<std::string> &args)
    {
        bool optionsEnded = false;
        for (size_t i = 0; i < args.size(); ++i) {
            const std::string &arg = args[i];
            if (optionsEnded)
                arguments.m_operands.push_back(arg);
            else if (arg == "--")
                optionsEnded = true;
            else if (isHelp(arg))
                help = true;
            else if (arg.rfind("--", 0) == 0)
                readOption(args, &i);
            else
                arguments.m_operands.push_back(arg);
        }
        checkComplete();
    }
};

ParseResult parseArguments(const Syntax &syntax, const std::vector<std::string> &args)
{
    Parser parser(syntax);
    parser.read(args);
    if (parser.help) {
        std::printf("%s %s: %s\n%s", kProgram, syntax.command.c_str(), syntax.summary.c_str(),
                    usageText(syntax).c_str());
        return {std::nullopt, 0};
    }
    if (!parser.mistake.empty())
        return {std::nullopt, parser.arguments.usageError(parser.mistake)};
    return {std::move(parser.arguments), 0};
}

} // namespace te::cli
