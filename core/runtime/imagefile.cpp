#include "core/runtime/imagefile.h"
#include "core/io/mappedfile.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <jpeglib.h>
#include <png.h>

namespace te {
namespace {

constexpr uint64_t kMaxSide = 16384;
constexpr uint64_t kMaxPixels = 100'000'000;

bool sizeOk(uint64_t width, uint64_t height, const std::string &name, std::string *error)
{
    if (width == 0 || height == 0 || width > kMaxSide || height > kMaxSide || width * height > kMaxPixels) {
        *error = name + ": a picture of " + std::to_string(width) + " x " + std::to_string(height) +
                 " pixels is empty or too large (at most " + std::to_string(kMaxSide) + " on a side)";
        return false;
    }
    return true;
}

bool decodePng(const uint8_t *data, size_t size, const std::string &name, Image *out, std::string *error)
{
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        *error = name + ": corrupt PNG (libpng: " + image.message + ")";
        return false;
    }
    if (!sizeOk(image.width, image.height, name, error)) {
        png_image_free(&image);
        return false;
    }
    // RGBA, then the alpha dropped: nothing is composited onto a background.
    image.format = PNG_FORMAT_RGBA;
    std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, rgba.data(), 0, nullptr)) {
        *error = name + ": corrupt or truncated PNG (libpng: " + image.message + ")";
        png_image_free(&image);
        return false;
    }
    out->width = static_cast<int>(image.width);
    out->height = static_cast<int>(image.height);
    out->rgb.resize(static_cast<size_t>(out->width) * static_cast<size_t>(out->height) * 3);
    for (size_t i = 0, n = out->rgb.size() / 3; i < n; ++i)
        std::memcpy(&out->rgb[3 * i], &rgba[4 * i], 3);
    return true;
}

struct JpegError {
    jpeg_error_mgr manager;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX] = {};
};

void jpegFail(j_common_ptr info)
{
    auto *e = reinterpret_cast<JpegError *>(info->err);
    (*info->err->format_message)(info, e->message);
    std::longjmp(e->jump, 1);
}

// Warnings (a premature end of the data among them) are errors here: the picture would be
// partly grey.
void jpegWarn(j_common_ptr info, int level)
{
    if (level < 0)
        jpegFail(info);
}

bool decodeJpeg(const uint8_t *data, size_t size, const std::string &name, Image *out, std::string *error)
{
    jpeg_decompress_struct info;
    JpegError failure;
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpegFail;
    failure.manager.emit_message = jpegWarn;
    std::vector<uint8_t> pixels; // declared before the jump point: nothing to unwind after it
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&info);
        *error = name + ": corrupt or truncated JPEG (libjpeg: " + failure.message + ")";
        return false;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
    jpeg_read_header(&info, TRUE);
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&info);
        *error = name + ": CMYK JPEG pictures are not read (convert it to RGB)";
        return false;
    }
    if (!sizeOk(info.image_width, info.image_height, name, error)) {
        jpeg_destroy_decompress(&info);
        return false;
    }
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    const size_t stride = static_cast<size_t>(info.output_width) * 3;
    pixels.resize(stride * info.output_height);
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels.data() + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    out->width = static_cast<int>(info.output_width);
    out->height = static_cast<int>(info.output_height);
    jpeg_destroy_decompress(&info);
    out->rgb = std::move(pixels);
    return true;
}

uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }
uint16_t le16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

// Windows bitmaps: uncompressed 24- and 32-bit, and 1-, 4- and 8-bit palettes.
bool decodeBmp(const uint8_t *data, size_t size, const std::string &name, Image *out, std::string *error)
{
    if (size < 54) {
        *error = name + ": truncated BMP header";
        return false;
    }
    const uint32_t pixelOffset = le32(data + 10), headerSize = le32(data + 14);
    const int32_t width = static_cast<int32_t>(le32(data + 18)), rawHeight = static_cast<int32_t>(le32(data + 22));
    const uint16_t bits = le16(data + 28);
    const uint32_t compression = le32(data + 30);
    if (headerSize < 40 || 14 + static_cast<uint64_t>(headerSize) > size) {
        *error = name + ": BMP header of " + std::to_string(headerSize) + " bytes is not one this reader knows";
        return false;
    }
    if (compression != 0 && !(compression == 3 && bits == 32)) {
        *error = name + ": compressed BMP pictures (compression " + std::to_string(compression) + ") are not read";
        return false;
    }
    if (bits != 1 && bits != 4 && bits != 8 && bits != 24 && bits != 32) {
        *error = name + ": " + std::to_string(bits) + "-bit BMP pictures are not read";
        return false;
    }
    const bool topDown = rawHeight < 0;
    const uint64_t height =
        topDown ? static_cast<uint64_t>(-static_cast<int64_t>(rawHeight)) : static_cast<uint64_t>(rawHeight);
    if (width <= 0 || !sizeOk(static_cast<uint64_t>(width), height, name, error)) {
        if (error->empty())
            *error = name + ": BMP width " + std::to_string(width) + " is not positive";
        return false;
    }
    const uint64_t stride = (static_cast<uint64_t>(width) * bits + 31) / 32 * 4;
    if (pixelOffset > size || stride * height > size - pixelOffset) {
        *error = name + ": the BMP pixels (" + std::to_string(stride * height) + " bytes at offset " +
                 std::to_string(pixelOffset) + ") run past the end of the file (" + std::to_string(size) + " bytes)";
        return false;
    }
    const uint8_t *palette = data + 14 + headerSize;
    uint32_t colours = le32(data + 46);
    if (bits <= 8 && colours == 0)
        colours = 1u << bits;
    if (bits <= 8 && (colours > 256 || palette + 4ull * colours > data + pixelOffset)) {
        *error = name + ": the BMP palette does not fit before the pixels";
        return false;
    }
    out->width = width;
    out->height = static_cast<int>(height);
    out->rgb.resize(static_cast<size_t>(width) * height * 3);
    for (uint64_t y = 0; y < height; ++y) {
        const uint8_t *row = data + pixelOffset + stride * (topDown ? y : height - 1 - y);
        uint8_t *dst = out->rgb.data() + y * static_cast<uint64_t>(width) * 3;
        for (int32_t x = 0; x < width; ++x, dst += 3) {
            const uint8_t *bgr = nullptr;
            if (bits >= 24) {
                bgr = row + static_cast<uint64_t>(x) * (bits / 8);
            } else {
                const uint64_t bit = static_cast<uint64_t>(x) * bits;
                const uint32_t index = (row[bit / 8] >> (8 - bits - bit % 8)) & ((1u << bits) - 1);
                if (index >= colours) {
                    *error = name + ": BMP pixel refers to colour " + std::to_string(index) + " of a palette of " +
                             std::to_string(colours);
                    return false;
                }
                bgr = palette + 4 * index;
            }
            dst[0] = bgr[2];
            dst[1] = bgr[1];
            dst[2] = bgr[0];
        }
    }
    return true;
}

} // namespace

bool decodeImage(const uint8_t *data, size_t size, const std::string &name, Image *out, std::string *error)
{
    error->clear();
    if (size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        return decodePng(data, size, name, out, error);
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return decodeJpeg(data, size, name, out, error);
    if (size >= 2 && data[0] == 'B' && data[1] == 'M')
        return decodeBmp(data, size, name, out, error);
    *error = name + ": not a PNG, JPEG or BMP picture";
    return false;
}

bool readImage(const std::string &path, Image *out, std::string *error)
{
    try {
        auto file = MappedFile::open(path);
        return decodeImage(file->data(), file->size(), path, out, error);
    } catch (const std::exception &e) {
        *error = e.what();
        return false;
    }
}

} // namespace te
