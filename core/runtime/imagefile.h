#pragma once
// Pictures for model inputs: PNG (libpng), JPEG (libjpeg-turbo) and BMP (read here), decided
// by their content. One decoder for the window and the command line, so both give a model
// the same tensor; the libraries are the ones Qt and PIL use on Debian, with PIL's
// settings, so the pixels equal what PyTorch users get from PIL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace te {

// An 8-bit RGB picture, rows top to bottom, 3 bytes per pixel.
struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb; // width * height * 3
};

// Grey, palette and alpha pictures become RGB (alpha dropped, not composited: what PIL's
// Image.convert("RGB") gives). False with *error naming `name` and what is wrong
// (truncated, corrupt, unsupported kind, too large).
bool decodeImage(const uint8_t *data, size_t size, const std::string &name, Image *out, std::string *error);
bool readImage(const std::string &path, Image *out, std::string *error);

} // namespace te
