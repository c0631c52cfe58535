// libFuzzer target: the torch.save zip container (and TorchScript archives, which are
// zips too): the central directory, every member, the pickles and storages in them.
#include "tests/fuzz/fuzzcommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    te::fuzz::readAndExercise(data, size, "fuzz.pt", [](te::Document &doc) { te::readZipDocument(doc, {}); });
    return 0;
}
