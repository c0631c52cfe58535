#pragma once
// How a picture becomes a model's input tensor, the way torchvision's evaluation
// transforms do it: channels (RGB, BGR or grey), a bilinear antialiased resize (the
// shorter side, then a centre crop; or straight to the size), a scale to [0, 1] or
// [0, 255], and a per-channel normalisation. Every step is the arithmetic of torchvision
// on a float tensor, so the result equals PyTorch's within float rounding.
#include "core/runtime/imagefile.h"

#include <string>
#include <vector>

namespace te {

struct ImageOptions {
    bool bgr = false, gray = false;
    bool stretch = false;          // resize to the size; otherwise resize, then centre crop
    int64_t resize = 0;            // shorter side before the crop; 0: the crop's / 0.875
    int64_t height = 0, width = 0; // 0: from the model's input
    double scale = 1.0 / 255.0;    // applied to 0..255 values
    std::vector<double> mean, std; // per channel (one value serves all)
};

// "imagenet" (the default), "unit", "raw", "clip", "half", then any of rgb, bgr, crop,
// stretch, gray, resize=N, size=HxW, scale=255|1, mean=a/b/c, std=a/b/c, comma-separated,
// applied in order. False with *error naming the bad option.
bool parseImageOptions(const std::string &text, ImageOptions *out, std::string *error);
std::string imageOptionsHelp();

// The picture as channels x height x width float32 values (channels 1 for grey, else 3).
// False with *error when the crop does not fit or a size is out of range.
bool imageToTensor(const Image &image, const ImageOptions &options, int64_t height, int64_t width,
                   std::vector<float> *out, std::string *error);

} // namespace te
