// libFuzzer target: the pickle machine alone, then with PyTorch's tensor hooks on a
// document whose storages are the input itself.
#include "core/formats/torchpicklehooks.h"
#include "core/pickle/picklemachine.h"
#include "tests/fuzz/fuzzcommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char *>(data), size);
    {
        te::ValueArena arena;
        te::PickleMachine machine(arena, bytes, "data.pkl");
        try {
            (void)machine.run();
        } catch (const te::ReadError &) { }
    }
    te::fuzz::readAndExercise(data, size, "fuzz.pkl", [](te::Document &doc) {
        te::TorchPickleHooks hooks(doc, "data.pkl");
        doc.root = te::runPickle(doc, doc.file->view(), "data.pkl", &hooks, {});
    });
    te::fuzz::readAndExercise(data, size, "fuzz.pkl", [](te::Document &doc) { te::readPickleDocument(doc, {}); });
    return 0;
}
