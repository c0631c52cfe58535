#include "core/formats/formatdetector.h"
#include "core/io/ziparchive.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace te {
namespace {

uint64_t le64(const uint8_t *p)
{
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i)
        n |= static_cast<uint64_t>(p[i]) << (8 * i);
    return n;
}

bool hasSuffix(const std::string &path, const char *suffix)
{
    const size_t n = std::strlen(suffix);
    if (path.size() < n)
        return false;
    for (size_t i = 0; i < n; ++i)
        if (std::tolower(static_cast<unsigned char>(path[path.size() - n + i])) != suffix[i])
            return false;
    return true;
}

// What the file name suggests, used only to order formats that all confirm.
Container suggestedByName(const std::string &path)
{
    if (hasSuffix(path, ".safetensors"))
        return Container::Safetensors;
    if (hasSuffix(path, ".tar"))
        return Container::Tar;
    if (hasSuffix(path, ".pkl") || hasSuffix(path, ".pickle"))
        return Container::Pickle;
    return Container::Unknown;
}

// The stack effect of one pickle opcode and how its argument is laid out.
enum class Arg { None, Fixed, Line, TwoLines, Len1, Len4, Len8 };
struct OpShape {
    Arg arg = Arg::None;
    int fixed = 0; // bytes of a fixed argument
    int pops = 0;  // values it needs on the stack (above the top mark)
    int pushes = 0;
    bool toMark = false; // pops down to the top mark first
    bool known = false;
};

constexpr size_t kMaxWalkMarks = 100'000;

const OpShape *opShapes()
{
    static OpShape t[256];
    static bool init = [] {
        auto set = [](const char *ops, Arg a, int fixed, int pops, int pushes, bool toMark = false) {
            for (const char *o = ops; *o; ++o)
                t[static_cast<uint8_t>(*o)] = {a, fixed, pops, pushes, toMark, true};
        };
        set("N})]", Arg::None, 0, 0, 1);
        set("IFLSVg", Arg::Line, 0, 0, 1);
        set("P", Arg::Line, 0, 0, 1);
        set("p", Arg::Line, 0, 1, 1);
        set("c", Arg::TwoLines, 0, 0, 1);
        set("i", Arg::TwoLines, 0, 0, 1, true);
        set("Kh", Arg::Fixed, 1, 0, 1);
        set("q", Arg::Fixed, 1, 1, 1);
        set("M", Arg::Fixed, 2, 0, 1);
        set("Jj", Arg::Fixed, 4, 0, 1);
        set("r", Arg::Fixed, 4, 1, 1);
        set("G", Arg::Fixed, 8, 0, 1);
        set("UC", Arg::Len1, 0, 0, 1);
        set("TXB", Arg::Len4, 0, 0, 1);
        set("(", Arg::None, 0, 0, 0); // MARK: handled specially
        set(".", Arg::None, 0, 1, 0); // STOP
        set("0", Arg::None, 0, 1, 0);
        set("1", Arg::None, 0, 0, 0, true);
        set("2", Arg::None, 0, 1, 2);
        set("Q", Arg::None, 0, 1, 1);
        set("Rb", Arg::None, 0, 2, 1);
        set("a", Arg::None, 0, 2, 1);
        set("s", Arg::None, 0, 3, 1);
        set("tld", Arg::None, 0, 0, 1, true);
        set("o", Arg::None, 0, 0, 1, true);
        set("eu", Arg::None, 0, 0, 0, true);   // APPENDS/SETITEMS: the target stays below the mark
        set("\x80", Arg::Fixed, 1, 0, 0);      // PROTO
        set("\x81", Arg::None, 0, 2, 1);       // NEWOBJ
        set("\x82", Arg::Fixed, 1, 0, 1);      // EXT1
        set("\x83", Arg::Fixed, 2, 0, 1);      // EXT2
        set("\x84", Arg::Fixed, 4, 0, 1);      // EXT4
        set("\x85", Arg::None, 0, 1, 1);       // TUPLE1
        set("\x86", Arg::None, 0, 2, 1);       // TUPLE2
        set("\x87", Arg::None, 0, 3, 1);       // TUPLE3
        set("\x88", Arg::None, 0, 0, 1);       // NEWTRUE
        set("\x89", Arg::None, 0, 0, 1);       // NEWFALSE
        set("\x8a", Arg::Len1, 0, 0, 1);       // LONG1
        set("\x8b", Arg::Len4, 0, 0, 1);       // LONG4
        set("\x8c", Arg::Len1, 0, 0, 1);       // SHORT_BINUNICODE
        set("\x8d", Arg::Len8, 0, 0, 1);       // BINUNICODE8
        set("\x8e", Arg::Len8, 0, 0, 1);       // BINBYTES8
        set("\x8f", Arg::None, 0, 0, 1);       // EMPTY_SET
        set("\x90", Arg::None, 0, 0, 0, true); // ADDITEMS
        set("\x91", Arg::None, 0, 0, 1, true); // FROZENSET
        set("\x92", Arg::None, 0, 3, 1);       // NEWOBJ_EX
        set("\x93", Arg::None, 0, 2, 1);       // STACK_GLOBAL
        set("\x94", Arg::None, 0, 1, 1);       // MEMOIZE
        set("\x95", Arg::Fixed, 8, 0, 0);      // FRAME
        set("\x96", Arg::Len8, 0, 0, 1);       // BYTEARRAY8
        set("\x97", Arg::None, 0, 0, 1);       // NEXT_BUFFER
        set("\x98", Arg::None, 0, 1, 1);       // READONLY_BUFFER
        return true;
    }();
    (void)init;
    return t;
}

} // namespace

bool confirmsZip(const MappedFile &file) { return ZipArchive::looksLikeZip(file); }

// Python's tarfile (which torch.load tries before unpickling) accepts a header when its
// checksum field matches the byte sum, signed or unsigned; no magic is needed (old V7
// headers have none). The field is octal text up to a NUL, or base-256.
bool confirmsTar(const MappedFile &f)
{
    if (f.size() < 512)
        return false;
    const uint8_t *h = f.data();
    if (std::all_of(h, h + 512, [](uint8_t b) { return b == 0; }))
        return false;                           // an end-of-archive block: tarfile calls such a file empty
    int64_t unsignedSum = 256, signedSum = 256; // the checksum field itself counts as 8 spaces
    for (int i = 0; i < 512; ++i) {
        if (i >= 148 && i < 156)
            continue;
        unsignedSum += h[i];
        signedSum += static_cast<int8_t>(h[i]);
    }
    int64_t stored = 0;
    if (h[148] == 0x80 || h[148] == 0xff) {
        for (int i = 149; i < 156; ++i)
            stored = stored * 256 + h[i];
        if (h[148] == 0xff)
            stored -= int64_t(1) << 56;
    } else {
        std::string text;
        for (int i = 148; i < 156 && h[i] != 0; ++i)
            text += static_cast<char>(h[i]);
        const size_t a = text.find_first_not_of(" \t\n\r\v\f"), b = text.find_last_not_of(" \t\n\r\v\f");
        text = a == std::string::npos ? std::string() : text.substr(a, b - a + 1);
        bool negative = false;
        if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
            negative = text[0] == '-';
            text.erase(0, 1);
        }
        bool digit = false;
        for (size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            if (c == '_' && digit && i + 1 < text.size() && text[i + 1] != '_')
                continue; // Python's int() allows one underscore between digits
            if (c < '0' || c > '7')
                return false;
            stored = stored * 8 + (c - '0');
            digit = true;
        }
        if (negative)
            stored = -stored;
    }
    return stored == unsignedSum || stored == signedSum;
}

bool confirmsSafetensors(const MappedFile &f)
{
    if (f.size() < 10)
        return false;
    const uint64_t n = le64(f.data());
    if (n < 2 || n > f.size() - 8 || (f.remote() && n > 100'000'000))
        return false;
    f.need(8, n);
    // The header is one JSON object, possibly padded with spaces at the end.
    const uint8_t *h = f.data() + 8;
    uint64_t last = n;
    while (last > 0 && (h[last - 1] == ' ' || h[last - 1] == '\n' || h[last - 1] == '\t' || h[last - 1] == '\r'))
        --last;
    return h[0] == '{' && last > 0 && h[last - 1] == '}';
}

PickleShape pickleShape(const MappedFile &f, uint64_t budget)
{
    if (f.size() == 0)
        return PickleShape::NotPickle;
    const OpShape *shapes = opShapes();
    const uint8_t *p = f.data();
    const uint64_t size = f.size();
    const uint64_t limit = std::min(size, budget);
    uint64_t pos = 0, depth = 0, ops = 0;
    std::vector<uint64_t> marks;
    auto ranOut = [&] { return p[0] == 0x80 && ops > 1 ? PickleShape::CutShort : PickleShape::NotPickle; };
    while (pos < size) {
        if (pos >= limit)
            return ops > 0 ? PickleShape::Complete : PickleShape::NotPickle; // well formed as far as we looked
        const uint8_t op = p[pos++];
        const OpShape &s = shapes[op];
        if (!s.known)
            return PickleShape::NotPickle;
        if (op == 0x80 && (pos >= size || p[pos] > 5)) // PROTO may appear anywhere, as in CPython
            return PickleShape::NotPickle;
        ++ops;
        auto need = [&](uint64_t n) { return n <= size - pos; };
        auto line = [&]() {
            const void *nl = std::memchr(p + pos, '\n', static_cast<size_t>(size - pos));
            if (!nl)
                return false;
            pos = static_cast<uint64_t>(static_cast<const uint8_t *>(nl) - p) + 1;
            return true;
        };
        switch (s.arg) {
        case Arg::None: break;
        case Arg::Fixed:
            if (!need(static_cast<uint64_t>(s.fixed)))
                return ranOut();
            pos += static_cast<uint64_t>(s.fixed);
            break;
        case Arg::Line:
            if (!line())
                return ranOut();
            break;
        case Arg::TwoLines:
            if (!line() || !line())
                return ranOut();
            break;
        case Arg::Len1:
        case Arg::Len4:
        case Arg::Len8: {
            const int w = s.arg == Arg::Len1 ? 1 : s.arg == Arg::Len4 ? 4 : 8;
            if (!need(static_cast<uint64_t>(w)))
                return ranOut();
            uint64_t len = 0;
            for (int i = 0; i < w; ++i)
                len |= static_cast<uint64_t>(p[pos + static_cast<uint64_t>(i)]) << (8 * i);
            pos += static_cast<uint64_t>(w);
            if (w == 4 && op == 'T' && (len & 0x80000000u))
                return PickleShape::NotPickle; // BINSTRING's length is signed
            if (!need(len))
                return ranOut();
            pos += len;
            break;
        }
        }
        if (op == '(') {
            // Past the machine's own mark limit the walk stops judging and lets the machine
            // report it; the walk's memory stays bounded.
            if (marks.size() >= kMaxWalkMarks)
                return PickleShape::Complete;
            marks.push_back(depth);
            continue;
        }
        // POP with nothing above the top mark pops the mark (CPython's load_pop).
        if (op == '0' && !marks.empty() && depth == marks.back()) {
            marks.pop_back();
            continue;
        }
        if (s.toMark) {
            if (marks.empty())
                return PickleShape::NotPickle;
            depth = marks.back();
            marks.pop_back();
        } else {
            const uint64_t floor = marks.empty() ? 0 : marks.back();
            if (depth - floor < static_cast<uint64_t>(s.pops))
                return PickleShape::NotPickle;
            depth -= static_cast<uint64_t>(s.pops);
        }
        if ((op == 'e' || op == 'u' || op == 0x90) && depth == 0)
            return PickleShape::NotPickle; // nothing to add to
        depth += static_cast<uint64_t>(s.pushes);
        if (op == '.')
            return PickleShape::Complete;
    }
    return ranOut();
}

const char *containerName(Container c)
{
    switch (c) {
    case Container::Zip: return "zip";
    case Container::Tar: return "tar";
    case Container::Pickle: return "pickle";
    case Container::Safetensors: return "safetensors";
    case Container::Unknown: break;
    }
    return "unknown";
}

Detection detectContainer(const MappedFile &f)
{
    Detection d;
    if (f.size() == 0)
        return d;
    // torch.load itself reads a file as a zip only when it starts with a local header;
    // anything else goes to its pickle reader. Mirror that order.
    const bool zipMagic = f.size() >= 4 && std::memcmp(f.data(), "PK\x03\x04", 4) == 0;
    // A remote safetensors file is not also looked at as a zip: a zip that does not start
    // like one is only ever read after the safetensors reader failed, and its tail would
    // cost a request for every shard of a model.
    const bool zip = f.remote() && !zipMagic && confirmsSafetensors(f) ? false : confirmsZip(f);
    const bool zipFirst = zip && zipMagic;
    if (zipFirst)
        d.candidates.push_back(Container::Zip);
    const bool isTar = !zipMagic && confirmsTar(f);
    if (isTar)
        d.candidates.push_back(Container::Tar);
    if (confirmsSafetensors(f))
        d.candidates.push_back(Container::Safetensors);
    // A file that starts like a zip is never unpickled by torch.load (and a stored
    // data.pkl inside one can make the whole file walk like a pickle).
    // A remote file is walked as far as its head was fetched.
    const PickleShape pickle = zipMagic     ? PickleShape::NotPickle
                               : f.remote() ? pickleShape(f, kRemoteHead)
                                            : pickleShape(f);
    if (pickle == PickleShape::Complete)
        d.candidates.push_back(Container::Pickle);
    if (zip && !zipFirst)
        d.candidates.push_back(Container::Zip);
    // The name breaks a tie between formats that all confirm (but never outranks a zip
    // that torch.load would open as one).
    // torch.load tries a tar before it unpickles, so a confirmed tar keeps its place too.
    const Container named = suggestedByName(f.path());
    const size_t fixed = (zipFirst ? 1 : 0) + (isTar ? 1 : 0);
    for (size_t i = fixed; i < d.candidates.size(); ++i) {
        if (d.candidates[i] == named) {
            d.candidates.erase(d.candidates.begin() + static_cast<std::ptrdiff_t>(i));
            d.candidates.insert(d.candidates.begin() + static_cast<std::ptrdiff_t>(fixed), named);
            break;
        }
    }
    // A pickle cut short is read last: what it holds up to the cut is still reported.
    if (pickle == PickleShape::CutShort)
        d.candidates.push_back(Container::Pickle);
    if (!d.candidates.empty())
        d.container = d.candidates.front();
    return d;
}

} // namespace te
