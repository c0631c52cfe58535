// libFuzzer target: the safetensors reader: header length, JSON header, dtypes, shapes
// and data offsets checked against each other and the file.
#include "tests/fuzz/fuzzcommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    te::fuzz::readAndExercise(data, size, "fuzz.safetensors",
                              [](te::Document &doc) { te::readSafetensorsDocument(doc, {}); });
    return 0;
}
