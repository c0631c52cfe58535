// libFuzzer target: model inputs from files, as run --input and the Run tab read them: the
// picture decoders (PNG, JPEG, BMP) with the preprocessing behind them, the .npy reader and
// the labels parser, all on the same bytes.
#include "core/io/mappedfile.h"
#include "core/runtime/imagefile.h"
#include "core/runtime/imagetransform.h"
#include "core/runtime/labels/labels.h"
#include "core/runtime/npyfile.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string error;
    te::Image image;
    if (te::decodeImage(data, size, "fuzz.img", &image, &error)) {
        te::ImageOptions options;
        std::vector<float> values;
        te::imageToTensor(image, options, 16, 16, &values, &error);
        options.stretch = true;
        te::imageToTensor(image, options, 7, 5, &values, &error);
    }
    const std::string bytes(reinterpret_cast<const char *>(data), size);
    te::NpyArray array;
    te::parseNpy(te::MappedFile::fromBytes(bytes, "fuzz.npy"), &array, &error);
    te::Labels labels;
    te::parseLabels(bytes, "fuzz.txt", &labels, &error);
    return 0;
}
