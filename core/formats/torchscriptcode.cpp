// TorchScript stores each class as Python-like source in code/. The lines
// `__parameters__ = [...]` and `__buffers__ = [...]` say which attributes are parameters
// and buffers, and `def forward(...)` gives the signature; nothing else is interpreted.
#include "core/formats/torchscriptcode.h"
#include "core/io/readerror.h"

#include <sstream>

namespace te {
namespace {

std::vector<std::string> parseNameList(const std::string &line)
{
    std::vector<std::string> names;
    size_t pos = line.find('[');
    while (pos != std::string::npos) {
        size_t q = line.find('"', pos);
        if (q == std::string::npos)
            break;
        size_t e = line.find('"', q + 1);
        if (e == std::string::npos)
            break;
        names.push_back(line.substr(q + 1, e - q - 1));
        pos = e + 1;
    }
    return names;
}

std::string collapseSpaces(const std::string &s)
{
    std::string out;
    bool space = false;
    for (char c : s) {
        if (c == ' ' || c == '\n' || c == '\t') {
            space = true;
            continue;
        }
        if (space && !out.empty() && out.back() != '(' && c != ')')
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

bool endsSignature(const std::string &line)
{
    return line.find("->") != std::string::npos || line.find("):") != std::string::npos;
}

// `def forward(...)` up to its return type or closing colon, which may be many lines
// later. Each line is searched once (lines are joined with a space, so the markers never
// straddle two), and what is kept is capped: a signature of a million blank lines must
// cost a million lines' time, not their square.
std::string forwardSignature(std::istream &in, const std::string &first)
{
    constexpr size_t kMaxSignature = 64 * 1024;
    std::string sig = first.substr(4), line;
    bool ended = endsSignature(first);
    while (!ended && std::getline(in, line)) {
        ended = endsSignature(line);
        if (sig.size() < kMaxSignature)
            sig += " " + line.substr(0, kMaxSignature);
    }
    if (!sig.empty() && sig.back() == ':')
        sig.pop_back();
    return collapseSpaces(sig);
}

} // namespace

void parseTorchScriptSource(Document &doc, const std::string &module, std::string_view text)
{
    std::istringstream in{std::string(text)};
    std::string line, current;
    while (std::getline(in, line)) {
        if (line.rfind("class ", 0) == 0) {
            size_t paren = line.find('(');
            size_t colon = line.find(':');
            size_t end = std::min(paren, colon);
            current = module + "." + line.substr(6, end == std::string::npos ? std::string::npos : end - 6);
            doc.torchscript.classes[current];
            continue;
        }
        if (current.empty())
            continue;
        std::string t = line;
        t.erase(0, t.find_first_not_of(' '));
        if (t.rfind("__parameters__ = ", 0) == 0) {
            doc.torchscript.classes[current].parameters = parseNameList(t);
        } else if (t.rfind("__buffers__ = ", 0) == 0) {
            doc.torchscript.classes[current].buffers = parseNameList(t);
        } else if (t.rfind("def forward(", 0) == 0) {
            doc.torchscript.classes[current].forwardSignature = forwardSignature(in, t);
        }
    }
}

void parseTorchScriptCode(Document &doc, const std::string &prefix)
{
    const std::string codeDir = prefix + "code/";
    for (const auto &e : doc.zip->entries()) {
        if (e.name.compare(0, codeDir.size(), codeDir) != 0 || e.name.size() < 3 ||
            e.name.compare(e.name.size() - 3, 3, ".py") != 0)
            continue;
        doc.torchscript.codeMembers.emplace_back(e.name);
        std::string module(e.name.substr(codeDir.size(), e.name.size() - codeDir.size() - 3));
        for (char &c : module)
            if (c == '/')
                c = '.';
        try {
            doc.zip->locate(e);
            parseTorchScriptSource(doc, module, doc.zip->read(e, uint64_t(16) << 20));
        } catch (const ReadError &err) {
            doc.warnings.push_back(std::string("TorchScript code: ") + err.what());
        }
    }
}

} // namespace te
