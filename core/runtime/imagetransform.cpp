#include "core/runtime/imagetransform.h"

#include "core/runtime/modelinputs.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace te {
namespace {

constexpr int64_t kMaxSide = 16384;

bool parseNumbers(const std::string &text, std::vector<double> *out)
{
    out->clear();
    for (const auto &part : specFields(text, '/')) {
        char *end = nullptr;
        const double v = std::strtod(part.c_str(), &end);
        if (part.empty() || *end || !std::isfinite(v))
            return false;
        out->push_back(v);
    }
    return out->size() == 1 || out->size() == 3;
}

bool parseSide(const std::string &text, int64_t *out)
{
    char *end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end || v < 1 || v > kMaxSide)
        return false;
    *out = v;
    return true;
}

bool applyPreset(const std::string &name, ImageOptions *o)
{
    if (name == "imagenet") {
        o->scale = 1.0 / 255.0;
        o->mean = {0.485, 0.456, 0.406};
        o->std = {0.229, 0.224, 0.225};
    } else if (name == "unit") {
        o->scale = 1.0 / 255.0;
        o->mean = {0.0};
        o->std = {1.0};
    } else if (name == "raw") {
        o->scale = 1.0;
        o->mean = {0.0};
        o->std = {1.0};
    } else if (name == "clip") {
        o->scale = 1.0 / 255.0;
        o->mean = {0.48145466, 0.4578275, 0.40821073};
        o->std = {0.26862954, 0.26130258, 0.27577711};
    } else if (name == "half") {
        o->scale = 1.0 / 255.0;
        o->mean = {0.5};
        o->std = {0.5};
    } else {
        return false;
    }
    return true;
}

// torchvision's antialiased bilinear resize along one axis (torch's upsample_bilinear2d_aa):
// output i covers the input around scale * (i + 0.5) with a triangle filter widened by the
// scale when shrinking, its weights normalised to sum to one.
struct AxisWeights {
    std::vector<int64_t> first; // first input index of each output
    std::vector<std::vector<float>> weights;
};

AxisWeights axisWeights(int64_t in, int64_t out)
{
    AxisWeights w;
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    const float support = scale >= 1.0f ? scale : 1.0f;
    const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
    for (int64_t i = 0; i < out; ++i) {
        const float center = scale * (static_cast<float>(i) + 0.5f);
        const int64_t xmin = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5f), 0);
        const int64_t xsize = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5f), in) - xmin;
        std::vector<float> ws(static_cast<size_t>(std::max<int64_t>(xsize, 0)));
        float total = 0;
        for (int64_t j = 0; j < xsize; ++j) {
            const float x = std::fabs((static_cast<float>(j + xmin) - center + 0.5f) * invscale);
            ws[static_cast<size_t>(j)] = x < 1.0f ? 1.0f - x : 0.0f;
            total += ws[static_cast<size_t>(j)];
        }
        if (total != 0.0f)
            for (float &v : ws)
                v /= total;
        w.first.push_back(xmin);
        w.weights.push_back(std::move(ws));
    }
    return w;
}

// One plane h x w resized to oh x ow: across first, then down, as torch does.
std::vector<float> resizePlane(const std::vector<float> &plane, int64_t h, int64_t w, int64_t oh, int64_t ow)
{
    std::vector<float> across(static_cast<size_t>(h * ow));
    if (ow == w) {
        across = plane;
    } else {
        const AxisWeights ax = axisWeights(w, ow);
        for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < ow; ++x) {
                float sum = 0;
                const auto &ws = ax.weights[static_cast<size_t>(x)];
                const float *row = plane.data() + y * w + ax.first[static_cast<size_t>(x)];
                for (size_t j = 0; j < ws.size(); ++j)
                    sum += ws[j] * row[j];
                across[static_cast<size_t>(y * ow + x)] = sum;
            }
    }
    if (oh == h)
        return across;
    std::vector<float> down(static_cast<size_t>(oh * ow));
    const AxisWeights ay = axisWeights(h, oh);
    for (int64_t y = 0; y < oh; ++y) {
        const auto &ws = ay.weights[static_cast<size_t>(y)];
        const int64_t first = ay.first[static_cast<size_t>(y)];
        for (int64_t x = 0; x < ow; ++x) {
            float sum = 0;
            for (size_t j = 0; j < ws.size(); ++j)
                sum += ws[j] * across[static_cast<size_t>((first + static_cast<int64_t>(j)) * ow + x)];
            down[static_cast<size_t>(y * ow + x)] = sum;
        }
    }
    return down;
}

} // namespace

std::string imageOptionsHelp()
{
    return "a preset (imagenet, unit, raw, clip, half), then rgb|bgr, crop|stretch, gray, resize=N, size=HxW, "
           "scale=255|1, mean=a/b/c, std=a/b/c";
}

bool parseImageOptions(const std::string &text, ImageOptions *out, std::string *error)
{
    ImageOptions o;
    applyPreset("imagenet", &o);
    for (const auto &token : specFields(text, ',')) {
        const size_t eq = token.find('=');
        const std::string key = token.substr(0, eq), value = eq == std::string::npos ? "" : token.substr(eq + 1);
        bool ok = true;
        if (token.empty() || applyPreset(token, &o))
            continue;
        if (token == "rgb" || token == "bgr")
            o.bgr = token == "bgr";
        else if (token == "crop" || token == "stretch")
            o.stretch = token == "stretch";
        else if (token == "gray" || token == "grey")
            o.gray = true;
        else if (key == "resize")
            ok = parseSide(value, &o.resize);
        else if (key == "size") {
            const auto sides = specFields(value, 'x');
            ok = sides.size() == 2 && parseSide(sides[0], &o.height) && parseSide(sides[1], &o.width);
        } else if (key == "scale" && (value == "255" || value == "1"))
            o.scale = value == "255" ? 1.0 : 1.0 / 255.0;
        else if (key == "mean")
            ok = parseNumbers(value, &o.mean);
        else if (key == "std")
            ok = parseNumbers(value, &o.std) &&
                 std::none_of(o.std.begin(), o.std.end(), [](double v) { return v == 0.0; });
        else
            ok = false;
        if (!ok) {
            *error = "image option '" + token + "' is not one of: " + imageOptionsHelp();
            return false;
        }
    }
    *out = o;
    return true;
}

bool imageToTensor(const Image &image, const ImageOptions &o, int64_t height, int64_t width, std::vector<float> *out,
                   std::string *error)
{
    if (height < 1 || width < 1 || height > kMaxSide || width > kMaxSide) {
        *error = "the input size " + std::to_string(height) + "x" + std::to_string(width) + " is out of range";
        return false;
    }
    const int64_t H = image.height, W = image.width;
    // Channel planes of 0..255 values, grey or in the asked order.
    std::vector<std::vector<float>> planes(o.gray ? 1 : 3, std::vector<float>(static_cast<size_t>(H * W)));
    for (int64_t i = 0; i < H * W; ++i) {
        const uint8_t *px = image.rgb.data() + 3 * i;
        if (o.gray) {
            planes[0][static_cast<size_t>(i)] = 0.2989f * px[0] + 0.587f * px[1] + 0.114f * px[2];
        } else {
            for (int c = 0; c < 3; ++c)
                planes[static_cast<size_t>(c)][static_cast<size_t>(i)] = px[o.bgr ? 2 - c : c];
        }
    }
    // The resized size: the size itself, or the shorter side to `resize` (torchvision's
    // Resize(int) arithmetic), then a centre crop with Python's rounding.
    int64_t rh = height, rw = width;
    if (!o.stretch) {
        const int64_t s =
            o.resize ? o.resize : static_cast<int64_t>(static_cast<double>(std::min(height, width)) / 0.875);
        if (H <= W) {
            rh = s;
            rw = static_cast<int64_t>(static_cast<double>(s * W) / static_cast<double>(H));
        } else {
            rw = s;
            rh = static_cast<int64_t>(static_cast<double>(s * H) / static_cast<double>(W));
        }
        if (rh < height || rw < width || rh > kMaxSide || rw > kMaxSide) {
            *error = "the picture resized to " + std::to_string(rh) + "x" + std::to_string(rw) +
                     " cannot be cropped to " + std::to_string(height) + "x" + std::to_string(width) +
                     ": give resize=N of at least " + std::to_string(std::max(height, width));
            return false;
        }
    }
    const int64_t top = static_cast<int64_t>(std::nearbyint(static_cast<double>(rh - height) / 2.0));
    const int64_t left = static_cast<int64_t>(std::nearbyint(static_cast<double>(rw - width) / 2.0));
    out->assign(planes.size() * static_cast<size_t>(height * width), 0.0f);
    for (size_t c = 0; c < planes.size(); ++c) {
        const std::vector<float> resized = resizePlane(planes[c], H, W, rh, rw);
        const double mean = o.mean.empty() ? 0.0 : o.mean[std::min(c, o.mean.size() - 1)];
        const double std = o.std.empty() ? 1.0 : o.std[std::min(c, o.std.size() - 1)];
        const float scale = static_cast<float>(o.scale);
        const float m = static_cast<float>(mean), sd = static_cast<float>(std);
        float *dst = out->data() + c * static_cast<size_t>(height * width);
        for (int64_t y = 0; y < height; ++y)
            for (int64_t x = 0; x < width; ++x)
                dst[y * width + x] = (resized[static_cast<size_t>((y + top) * rw + x + left)] * scale - m) / sd;
    }
    return true;
}

} // namespace te
