// The text decoders of the pickle machine: Python's quoted STRING literals, raw-unicode-
// escape UNICODE text, and UTF-8 as Python's unpickler accepts it.
#include "core/pickle/picklemachine.h"

namespace te {
namespace {

void appendUtf8(std::string &out, uint32_t cp)
{
    if (cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

bool isValidUtf8(std::string_view s)
{
    size_t i = 0;
    while (i < s.size()) {
        uint8_t c = static_cast<uint8_t>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || i + static_cast<size_t>(n) >= s.size())
            return false;
        uint32_t cp = c & (0x3F >> n);
        for (int k = 1; k <= n; ++k) {
            uint8_t cc = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        static const uint32_t minimum[] = {0, 0x80, 0x800, 0x10000};
        // Surrogates pass: Python's unpickler decodes with 'surrogatepass'.
        if (cp < minimum[n] || cp > 0x10FFFF)
            return false;
        i += static_cast<size_t>(n) + 1;
    }
    return true;
}

std::string latin1ToUtf8(std::string_view s)
{
    std::string out;
    for (char c : s)
        appendUtf8(out, static_cast<uint8_t>(c));
    return out;
}

std::string decodeRawUnicodeEscape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 'u' || text[i + 1] == 'U')) {
            size_t n = text[i + 1] == 'u' ? 4 : 8;
            if (i + 2 + n <= text.size()) {
                uint32_t cp = 0;
                bool ok = true;
                for (size_t k = 0; k < n; ++k) {
                    int d = hexDigit(text[i + 2 + k]);
                    if (d < 0) {
                        ok = false;
                        break;
                    }
                    cp = cp * 16 + static_cast<uint32_t>(d);
                }
                if (ok) {
                    appendUtf8(out, cp);
                    i += 1 + n;
                    continue;
                }
            }
        }
        // raw-unicode-escape maps other bytes to code points 0..255 (latin-1)
        appendUtf8(out, static_cast<uint8_t>(text[i]));
    }
    return out;
}

std::string decodePythonStringLiteral(std::string_view q, bool *ok)
{
    *ok = false;
    if (q.size() < 2 || (q.front() != '\'' && q.front() != '"') || q.back() != q.front())
        return {};
    std::string_view s = q.substr(1, q.size() - 2);
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c != '\\' || i + 1 >= s.size()) {
            out += c;
            continue;
        }
        char e = s[++i];
        switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\n': break;
        case 'x':
            if (i + 2 < s.size() + 0 && hexDigit(s[i + 1]) >= 0 && hexDigit(s[i + 2]) >= 0) {
                out += static_cast<char>(hexDigit(s[i + 1]) * 16 + hexDigit(s[i + 2]));
                i += 2;
            } else {
                return {};
            }
            break;
        default:
            if (e >= '0' && e <= '7') {
                int v = e - '0';
                for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
                    v = v * 8 + (s[++i] - '0');
                out += static_cast<char>(v & 0xFF);
            } else {
                out += '\\';
                out += e;
            }
        }
    }
    *ok = true;
    return out;
}

} // namespace te
