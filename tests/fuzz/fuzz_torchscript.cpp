// libFuzzer target: the TorchScript structure reader, which takes classes, parameter and
// buffer names and forward signatures from the code/ sources without running them.
#include "tests/fuzz/fuzzcommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    te::Document doc;
    te::parseTorchScriptSource(doc, "__torch__", std::string_view(reinterpret_cast<const char *>(data), size));
    for (const auto &[name, cls] : doc.torchscript.classes)
        (void)(name.size() + cls.forwardSignature.size() + cls.parameters.size() + cls.buffers.size());
    return 0;
}
