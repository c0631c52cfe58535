#include "formatdetector.h"
#include "../io/ziparchive.h"

#include <cstring>

namespace te {
namespace {

bool startsWith(const MappedFile &f, const char *magic, size_t n)
{
    return f.size() >= n && std::memcmp(f.data(), magic, n) == 0;
}

bool looksLikeSafetensors(const MappedFile &f)
{
    if (f.size() < 10)
        return false;
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i)
        n |= static_cast<uint64_t>(f.data()[i]) << (8 * i);
    // A wrong length is for the reader to report; the brace says what the file means to be.
    return n >= 2 && f.data()[8] == '{';
}

bool mostlyText(const MappedFile &f)
{
    size_t n = std::min<uint64_t>(f.size(), 512), printable = 0;
    for (size_t i = 0; i < n; ++i) {
        uint8_t c = f.data()[i];
        if (c == '\n' || c == '\r' || c == '\t' || (c >= 32 && c < 127) || c >= 0xC0)
            ++printable;
    }
    return n > 0 && printable * 10 >= n * 9;
}

} // namespace

Detection detectContainer(const MappedFile &f)
{
    Detection d;
    if (f.size() == 0) {
        d.description = "an empty file";
        return d;
    }
    const uint8_t *p = f.data();
    if (ZipArchive::looksLikeZip(f)) {
        d.container = Container::Zip;
        return d;
    }
    if (f.size() >= 262 && std::memcmp(p + 257, "ustar", 5) == 0) {
        d.container = Container::Tar;
        return d;
    }
    if (p[0] == 0x80 && f.size() >= 2 && p[1] <= 5) {
        d.container = Container::Pickle;
        return d;
    }
    if (looksLikeSafetensors(f)) {
        d.container = Container::Safetensors;
        return d;
    }
    // Protocol 0 and 1 pickles start with an opcode; require the STOP at the end too, so
    // ordinary text is not mistaken for one.
    if (p[0] != 0 && std::strchr("(]}cNILFSVdl)K", p[0]) && p[f.size() - 1] == '.' && f.size() >= 2) {
        d.container = Container::Pickle;
        return d;
    }
    if (startsWith(f, "PK\x03\x04", 4))
        d.description = "a zip archive whose central directory is missing or damaged";
    else if (startsWith(f, "\x89PNG", 4))
        d.description = "a PNG image";
    else if (startsWith(f, "\x1f\x8b", 2))
        d.description = "gzip-compressed data";
    else if (startsWith(f, "\x7f" "ELF", 4))
        d.description = "an ELF executable or library";
    else if (startsWith(f, "%PDF", 4))
        d.description = "a PDF document";
    else if (startsWith(f, "\x89HDF", 4))
        d.description = "an HDF5 file (Keras or h5py)";
    else if (startsWith(f, "GGUF", 4))
        d.description = "a GGUF model (llama.cpp)";
    else if (p[0] == 0x08 && f.size() > 4)
        d.description = "binary data, possibly an ONNX or other protobuf model";
    else if (mostlyText(f))
        d.description = p[0] == '{' || p[0] == '[' ? "JSON or other text" : "a text file";
    else
        d.description = "binary data of an unknown kind";
    return d;
}

} // namespace te
