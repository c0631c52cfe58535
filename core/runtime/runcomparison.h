#pragma once
// What two runs of one model on the same inputs say differently: with two weight sets
// (a checkpoint and its fix, two training steps, a fine-tune and its base), output by
// output, the largest and mean difference and whether the best classes agree.
#include "core/runtime/runtimeapi.h"

#include <string>
#include <vector>

namespace te {

struct OutputComparison {
    std::string path;
    bool comparable = false;                // both tensors of one shape
    std::string why;                        // when not comparable
    uint64_t compared = 0;                  // values compared (the ones both runs returned)
    double maxAbsDiff = 0, meanAbsDiff = 0; // over the pairs of finite values
    uint64_t nonFiniteMismatches = 0;       // NaN or infinity in one run and not the other
    bool top1Agrees = false;                // class scores: the same best class
    size_t topOverlap = 0;                  // classes in both top-k lists
    size_t topK = 0;                        // the length of the shorter list (0: not class scores)
    bool topOrderAgrees = false;            // the same classes in the same order
};

std::vector<OutputComparison> compareRuns(const RunResult &a, const RunResult &b);

// The index of the first layer whose output holds a NaN or an infinity; -1 when none does.
int firstNonFiniteLayer(const std::vector<LayerOutput> &layers);

} // namespace te
