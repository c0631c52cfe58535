// libFuzzer target: the legacy (pre-1.6) torch.save format: magic, protocol and system
// pickles, the main pickle, storage keys and the raw storages after them; and tar files.
#include "tests/fuzz/fuzzcommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    te::fuzz::readAndExercise(data, size, "fuzz.pt", [](te::Document &doc) { te::readPickleDocument(doc, {}); });
    te::fuzz::readAndExercise(data, size, "fuzz.tar", [](te::Document &doc) { te::readTarDocument(doc, {}); });
    return 0;
}
