// Times what the Compare tab does before it shows anything: lining up the keys of two
// opened files, comparing keys, shapes and dtypes, and building the union tree; against
// opening both files (the reads the window has already done). Best of five; prints
// {"open_ms": ..., "keys_ms": ..., "rows": ...} for tests/bench/bench.py.
#include "core/diagnose/documentdiff.h"
#include "core/formats/documentreader.h"
#include "widgets/comparemodel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace {

template <typename F> double bestMs(F f)
{
    double best = 1e300;
    for (int i = 0; i < 5; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        best =
            std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: comparetiming A B\n");
        return 2;
    }
    std::shared_ptr<const te::Document> a, b;
    const double openMs = bestMs([&] {
        a = te::readDocument(argv[1]);
        b = te::readDocument(argv[2]);
    });
    te::CompareModel model;
    const double keysMs = bestMs([&] { model.setDiff(te::diffKeys(*a, *b, te::alignKeys(*a, *b))); });
    std::printf("{\"open_ms\": %.3f, \"keys_ms\": %.3f, \"rows\": %zu}\n", openMs, keysMs, model.diff()->common.size());
    return 0;
}
