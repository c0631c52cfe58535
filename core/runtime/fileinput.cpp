#include "core/runtime/fileinput.h"
#include "core/formats/documentreader.h"
#include "core/runtime/imagetransform.h"
#include "core/runtime/modelinputs.h"
#include "core/runtime/npyfile.h"

#include <sys/stat.h>

namespace te {
namespace {

bool exists(const std::string &path)
{
    struct stat st { };
    return ::stat(path.c_str(), &st) == 0;
}

bool loadImage(InputSpec *spec, const std::string &rest, const std::vector<int64_t> &modelShape, std::string *error)
{
    // image:PATH[:OPTIONS]; a path that holds a colon is taken whole when it exists.
    std::string path = rest, optionText;
    const size_t colon = rest.rfind(':');
    if (!exists(rest) && colon != std::string::npos) {
        path = rest.substr(0, colon);
        optionText = rest.substr(colon + 1);
    }
    ImageOptions options;
    if (!parseImageOptions(optionText, &options, error))
        return false;
    const bool fromModel = modelShape.size() == 4;
    if (fromModel && modelShape[1] == 1)
        options.gray = true;
    const int64_t height = options.height ? options.height : fromModel ? modelShape[2] : 224;
    const int64_t width = options.width ? options.width : fromModel ? modelShape[3] : 224;
    Image image;
    if (!readImage(path, &image, error))
        return false;
    auto values = std::make_shared<std::vector<float>>();
    if (!imageToTensor(image, options, height, width, values.get(), error)) {
        *error = path + ": " + *error;
        return false;
    }
    const int64_t channels = options.gray ? 1 : 3;
    spec->shape = {1, channels, height, width};
    spec->dtype = "float32";
    spec->data.storage = values->data();
    spec->data.storageBytes = values->size() * sizeof(float);
    spec->data.dtype = "float32";
    spec->data.shape = spec->shape;
    spec->data.strides = contiguousStrides(spec->shape);
    spec->data.storageOffset = 0;
    spec->owner = std::move(values);
    return true;
}

bool loadNpy(InputSpec *spec, const std::string &path, std::string *error)
{
    auto array = std::make_shared<NpyArray>();
    if (!readNpy(path, array.get(), error))
        return false;
    spec->shape = array->shape;
    spec->dtype = dtypeName(array->dtype);
    spec->data.storage = array->file->data() + array->offset;
    spec->data.storageBytes = array->nbytes;
    spec->data.dtype = spec->dtype;
    spec->data.shape = array->shape;
    spec->data.strides = array->strides;
    spec->data.storageOffset = 0;
    spec->owner = std::move(array);
    return true;
}

bool loadTensor(InputSpec *spec, const std::string &rest, std::string *error)
{
    const size_t hash = rest.rfind('#');
    const std::string path = hash == std::string::npos ? rest : rest.substr(0, hash);
    const std::string key = hash == std::string::npos ? std::string() : rest.substr(hash + 1);
    std::shared_ptr<Document> doc;
    try {
        doc = readDocument(path);
    } catch (const std::exception &e) {
        *error = e.what();
        return false;
    }
    int tensor = -1;
    for (const auto &e : doc->entries)
        if (e.key == key || (key.empty() && doc->entries.size() == 1))
            tensor = e.tensor;
    if (tensor < 0) {
        std::string keys;
        for (size_t i = 0; i < doc->entries.size() && i < 8; ++i)
            keys += (i ? ", " : "") + doc->entries[i].key;
        *error = path + ": " + (key.empty() ? "name the tensor after # " : "no tensor '" + key + "' ") +
                 "(keys: " + (keys.empty() ? std::string("none") : keys) + (doc->entries.size() > 8 ? ", ..." : "") +
                 ")";
        return false;
    }
    TensorSource source;
    if (!tensorSource(*doc, tensor, &source, error)) {
        *error = path + "#" + key + ": " + *error;
        return false;
    }
    spec->shape = source.shape;
    spec->dtype = source.dtype;
    spec->data = source;
    spec->owner = std::move(doc);
    return true;
}

} // namespace

bool isFileInputSpec(const std::string &text)
{
    return text.rfind("image:", 0) == 0 || text.rfind("npy:", 0) == 0 || text.rfind("tensor:", 0) == 0;
}

bool loadFileInput(InputSpec *spec, const std::vector<int64_t> &modelShape, std::string *error)
{
    const std::string &text = spec->source;
    const size_t colon = text.find(':');
    const std::string kind = text.substr(0, colon), rest = colon == std::string::npos ? "" : text.substr(colon + 1);
    if (rest.empty()) {
        *error = "input " + text + " names no file";
        return false;
    }
    spec->isTensor = true;
    spec->fill = "data";
    if (kind == "image")
        return loadImage(spec, rest, modelShape, error);
    if (kind == "npy")
        return loadNpy(spec, rest, error);
    if (kind == "tensor")
        return loadTensor(spec, rest, error);
    *error = "input " + text + " is not image:, npy: or tensor:";
    return false;
}

} // namespace te
