#pragma once
// Class names for a classifier's outputs: the built-in ImageNet-1k names, or a file of the
// user's (one name per line, a JSON list, or a Hugging Face config.json's id2label).
#include <string>
#include <vector>

namespace te {

struct Labels {
    std::vector<std::string> names; // by class index; empty where a map skips an index
    std::string source;             // "ImageNet-1k (built in)", or the file's path

    // The name of class `index`, or empty when there is none.
    const std::string &name(int64_t index) const;
};

// `spec` is "imagenet" or a path. False with *error naming the file and what is wrong.
bool readLabels(const std::string &spec, Labels *out, std::string *error);
// The same from a file's text (`name` for messages).
bool parseLabels(const std::string &text, const std::string &name, Labels *out, std::string *error);
// The 1000 ImageNet-1k class names in class-index order (labels/imagenet_classes.txt).
const std::vector<std::string> &imagenetClasses();

} // namespace te
