#pragma once
// What the Compare tab shows of one key, computed on a worker from the two maps: A's and B's
// statistics, their histograms over one range, and the heatmap of A − B (block means).
#include "core/document/document.h"
#include "core/stats/tensorgrid.h"
#include "core/stats/tensorstats.h"

#include <QString>
#include <atomic>
#include <vector>

namespace te {

struct DetailResult {
    QString key;
    bool haveA = false, haveB = false;
    TensorStats a, b;
    std::vector<uint64_t> histA, histB;
    double lo = 0, hi = 1;
    TensorGrid difference; // A−B, block means; not ok when the shapes differ
    QString gridNote;
};

// ta, tb: the key's tensor in each file, -1 where that file lacks it.
// Statistics, histograms over one range, and the block means of A minus those of B
// (equal blocks: the mean of the differences).
DetailResult compareDetails(const Document &a, const Document &b, int ta, int tb, const QString &key,
                            const std::atomic<bool> *cancel);

} // namespace te
