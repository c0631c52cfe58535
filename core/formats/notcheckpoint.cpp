#include "core/formats/notcheckpoint.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace te {
namespace {

std::string_view head(const MappedFile &f, size_t n)
{
    return std::string_view(reinterpret_cast<const char *>(f.data()), std::min<uint64_t>(f.size(), n));
}

bool startsWith(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

uint64_t le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}

std::string plural(uint64_t n, const char *unit) { return std::to_string(n) + " " + unit + (n == 1 ? "" : "s"); }

// The value after `key` up to the end of its line in a small text file.
std::string fieldAfter(std::string_view text, std::string_view key)
{
    const size_t at = text.find(key);
    if (at == std::string_view::npos)
        return {};
    const size_t start = at + key.size();
    const size_t end = text.find('\n', start);
    std::string v(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    while (!v.empty() && (v.back() == '\r' || v.back() == ' '))
        v.pop_back();
    return v;
}

std::string gitLfsPointer(std::string_view text)
{
    const std::string oid = fieldAfter(text, "\noid sha256:");
    const std::string size = fieldAfter(text, "\nsize ");
    std::string what = "a Git LFS pointer, not the model itself: the real file";
    if (!size.empty())
        what += " (" + size + " bytes";
    if (!oid.empty())
        what += std::string(size.empty() ? " (" : ", ") + "sha256 " + oid;
    if (!size.empty() || !oid.empty())
        what += ")";
    return what + " was never downloaded. Run `git lfs pull` in the repository it came from (or `git lfs pull "
                  "--include=<this file>`), or download it from the hosting site";
}

std::string htmlPage(std::string_view text)
{
    std::string what = "an HTML page, not a model: the download saved a web page (a login, consent, rate-limit or "
                       "virus-scan page) instead of the file";
    const std::string low = lower(text);
    const size_t t = low.find("<title>");
    if (t != std::string::npos) {
        const size_t e = low.find("</title>", t);
        if (e != std::string::npos && e - t - 7 < 200) {
            std::string title(text.substr(t + 7, e - t - 7));
            title.erase(std::remove_if(title.begin(), title.end(), [](char c) { return c == '\n' || c == '\r'; }),
                        title.end());
            if (!title.empty())
                what += " (titled \"" + title + "\")";
        }
    }
    return what + ". Download it again with a direct link (on Hugging Face the resolve/ address, with a token for "
                  "gated models)";
}

// NumPy's .npy: magic, version, a header length, then a Python dict literal.
std::string numpyArray(const MappedFile &f)
{
    std::string what = "a NumPy array file (.npy)";
    const uint8_t *p = f.data();
    const uint64_t lenBytes = f.size() > 6 && p[6] >= 2 ? 4 : 2;
    if (f.size() >= 8 + lenBytes) {
        const uint64_t len = le(p + 8, static_cast<int>(lenBytes));
        if (8 + lenBytes + len <= f.size() && len < 4096) {
            const std::string_view dict(reinterpret_cast<const char *>(p + 8 + lenBytes), static_cast<size_t>(len));
            auto item = [&](std::string_view key, char open, char close) {
                size_t at = dict.find(key);
                if (at == std::string_view::npos)
                    return std::string();
                at = dict.find(open, at + key.size());
                const size_t end = at == std::string_view::npos ? at : dict.find(close, at + 1);
                return end == std::string_view::npos ? std::string() : std::string(dict.substr(at, end - at + 1));
            };
            const std::string descr = item("'descr'", '\'', '\''), shape = item("'shape'", '(', ')');
            if (!descr.empty() || !shape.empty())
                what += " of dtype " + descr + ", shape " + shape;
        }
    }
    return what + ": read it with numpy.load (then torch.from_numpy)";
}

// An ONNX ModelProto starts with ir_version (field 1, a small varint), then other fields
// of ModelProto (producer_name, graph, opset_import...).
bool looksLikeOnnx(const MappedFile &f)
{
    const uint8_t *p = f.data();
    if (f.size() < 16 || p[0] != 0x08 || p[1] == 0 || p[1] > 20)
        return false;
    static const uint8_t nextTags[] = {0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x4a, 0x52, 0x72};
    return std::find(std::begin(nextTags), std::end(nextTags), p[2]) != std::end(nextTags);
}

bool mostlyText(std::string_view s)
{
    size_t printable = 0;
    for (unsigned char c : s)
        if (c == '\n' || c == '\r' || c == '\t' || (c >= 32 && c < 127) || c >= 0xC0)
            ++printable;
    return !s.empty() && printable * 10 >= s.size() * 9;
}

bool hasHdf5Signature(const MappedFile &f)
{
    // HDF5 may sit behind a user block of 512, 1024, 2048... bytes.
    for (uint64_t at = 0; at + 8 <= f.size() && at <= 8192; at = at ? at * 2 : 512)
        if (std::memcmp(f.data() + at, "\x89HDF\r\n\x1a\n", 8) == 0)
            return true;
    return false;
}

std::string otherFormat(const MappedFile &f)
{
    const std::string_view h = head(f, 4096);
    const uint8_t *p = f.data();
    if (startsWith(h, "GGUF") && f.size() >= 8)
        return "a GGUF model (llama.cpp, GGUF version " + std::to_string(le(p + 4, 4)) +
               "): open it with llama.cpp or the gguf Python package";
    if (hasHdf5Signature(f))
        return "an HDF5 file (a Keras .h5 model or h5py data): open it with Keras or h5py";
    if (startsWith(h, "\x93NUMPY"))
        return numpyArray(f);
    if (h.size() >= 8 && h.substr(4, 4) == "TFL3")
        return "a TensorFlow Lite model (.tflite)";
    if (looksLikeOnnx(f))
        return "an ONNX model (a protobuf ModelProto): open it with onnxruntime or Netron; "
               "PyTorch writes these with torch.onnx.export but cannot load them back";
    if (f.path().size() >= 14 && f.path().compare(f.path().size() - 14, 14, "saved_model.pb") == 0)
        return "a TensorFlow SavedModel graph (saved_model.pb)";
    if (startsWith(h, "\x89PNG") || startsWith(h, "\xff\xd8\xff") || startsWith(h, "GIF8"))
        return "an image, not a model";
    if (startsWith(h, "\x1f\x8b"))
        return "gzip-compressed data: decompress it (gunzip) and open what comes out";
    if (startsWith(h, "BZh") ||
        startsWith(h, "\xfd"
                      "7zXZ") ||
        startsWith(h, "7z\xbc\xaf") || startsWith(h, "\x28\xb5\x2f\xfd"))
        return "compressed data (bzip2, xz, 7-Zip or zstd): decompress it and open what comes out";
    if (startsWith(h, "\x7f"
                      "ELF"))
        return "an ELF executable or shared library, not a model";
    if (startsWith(h, "%PDF"))
        return "a PDF document, not a model";
    return {};
}

} // namespace

std::string safetensorsCutShort(uint64_t headerLength, uint64_t size)
{
    const uint64_t needed = 8 + headerLength;
    return "the file was cut short: its header says " + plural(headerLength, "byte") +
           " of JSON follow, but the file has only " + plural(size, "byte") + " (at least " +
           std::to_string(needed - size) + " missing); download it again";
}

std::string describeNotCheckpoint(const MappedFile &f)
{
    if (f.size() == 0)
        return "an empty file (0 bytes): the download or copy did not finish";
    const std::string_view h = head(f, 4096);
    if (startsWith(h, "version https://git-lfs"))
        return gitLfsPointer(h);
    // An HTML page may start with a byte-order mark, blank lines or a comment.
    const std::string low = lower(h.substr(0, 1024));
    if (low.find("<!doctype html") != std::string::npos || low.find("<html") != std::string::npos)
        return htmlPage(h);
    if (startsWith(h, "PK\x03\x04"))
        return "a zip archive without its central directory (the list of members a zip ends with): the download "
               "or copy was cut short after " +
               plural(f.size(), "byte") + "; download it again";
    if (f.size() >= 9 && f.data()[8] == '{') {
        const uint64_t n = le(f.data(), 8);
        if (n > f.size() - 8 && n <= 100'000'000)
            return "a safetensors file, but " + safetensorsCutShort(n, f.size());
    }
    if (std::string other = otherFormat(f); !other.empty())
        return other;
    if (f.data()[0] == 0x80 && f.size() >= 2 && f.data()[1] <= 5)
        return "a pickle that is damaged or cut short (its opcodes do not run to a STOP)";
    if (mostlyText(h)) {
        if (h[0] == '{' || h[0] == '[')
            return "a JSON file, not a model (a config.json or an index belongs in its model folder: open the "
                   "folder)";
        return "a text file, not a model";
    }
    return "binary data of an unknown kind";
}

std::string describeZipWithoutPickle(const std::vector<std::string> &names)
{
    auto has = [&](std::string_view suffix) {
        return std::any_of(names.begin(), names.end(), [&](const std::string &n) {
            return n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
        });
    };
    // .pt2 archives of every layout are read; what reaches here is a damaged one.
    if (has("archive_format") || (has(".json") && std::any_of(names.begin(), names.end(), [](const std::string &n) {
                                      return n.find("models/") != std::string::npos;
                                  })))
        return "a torch.export program (.pt2) whose archive_format record does not say pt2: a damaged archive, or "
               "a layout this program does not know";
    if (!names.empty() && std::all_of(names.begin(), names.end(), [](const std::string &n) {
            return n.size() > 4 && n.compare(n.size() - 4, 4, ".npy") == 0;
        }))
        return "a NumPy .npz archive of " + plural(names.size(), "array") + ": read it with numpy.load";
    if (has("model.weights.h5") || (has("metadata.json") && has("config.json") && has(".h5")))
        return "a Keras 3 model (.keras): open it with keras.saving.load_model";
    std::string list;
    for (size_t i = 0; i < names.size() && i < 5; ++i)
        list += (i ? ", " : "") + names[i];
    if (names.size() > 5)
        list += ", ...";
    return "a zip archive without the data.pkl that torch.save writes (members: " + list + ")";
}

} // namespace te
