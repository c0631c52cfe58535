// Times the heatmap grid of one tensor of a file against one pass of statistics over the
// same tensor (both read every element from the map), best of five each, and prints
// {"grid_ms": ..., "stats_ms": ..., "cells": ...} for tests/bench/bench.py.
#include "core/formats/documentreader.h"
#include "core/stats/tensorgrid.h"
#include "core/stats/tensorstats.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
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
        std::fprintf(stderr, "usage: heatmaptiming FILE KEY\n");
        return 2;
    }
    const auto doc = te::readDocument(argv[1]);
    const te::TensorInfo *t = nullptr;
    for (const auto &e : doc->entries)
        if (e.key == argv[2])
            t = &doc->tensors[static_cast<size_t>(e.tensor)];
    if (!t) {
        std::fprintf(stderr, "heatmaptiming: no tensor %s\n", argv[2]);
        return 1;
    }
    te::TensorGrid grid;
    const double gridMs = bestMs([&] { grid = te::reduceToGrid(*doc, *t, 1024, 1024, te::GridReduction::Mean); });
    uint64_t counted = 0; // used, so that no optimiser drops the pass
    const double statsMs = bestMs([&] { counted += te::computeStats(*doc, *t).count; });
    if (!grid.ok) {
        std::fprintf(stderr, "heatmaptiming: %s\n", grid.error.c_str());
        return 1;
    }
    std::printf("{\"grid_ms\": %.3f, \"stats_ms\": %.3f, \"cells\": %zu, \"elements\": %llu}\n", gridMs, statsMs,
                grid.cells.size(), static_cast<unsigned long long>(counted / 5));
    return 0;
}
