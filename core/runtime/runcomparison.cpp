#include "core/runtime/runcomparison.h"

#include <algorithm>
#include <cmath>

namespace te {
namespace {

void compareTop(const OutputValue &a, const OutputValue &b, OutputComparison *c)
{
    c->topK = std::min(a.top.size(), b.top.size());
    if (c->topK == 0)
        return;
    c->top1Agrees = a.top.front().index == b.top.front().index;
    c->topOrderAgrees = true;
    for (size_t i = 0; i < c->topK; ++i) {
        c->topOrderAgrees = c->topOrderAgrees && a.top[i].index == b.top[i].index;
        for (size_t j = 0; j < c->topK; ++j)
            c->topOverlap += a.top[i].index == b.top[j].index ? 1 : 0;
    }
}

} // namespace

std::vector<OutputComparison> compareRuns(const RunResult &a, const RunResult &b)
{
    std::vector<OutputComparison> out;
    for (const auto &x : a.outputs) {
        OutputComparison c;
        c.path = x.path;
        const auto y =
            std::find_if(b.outputs.begin(), b.outputs.end(), [&](const OutputValue &o) { return o.path == x.path; });
        if (y == b.outputs.end()) {
            c.why = "only the first run has this output";
        } else if (!x.isTensor || !y->isTensor) {
            c.why = x.text == y->text ? "equal (not a tensor)" : "differs (not a tensor)";
        } else if (x.shape != y->shape) {
            c.why = "the shapes differ";
        } else {
            c.comparable = true;
            c.compared = std::min(x.values.size(), y->values.size());
            double sum = 0;
            uint64_t finite = 0;
            for (size_t i = 0; i < c.compared; ++i) {
                const double u = x.values[i], v = y->values[i];
                if (std::isnan(u) || std::isnan(v) || std::isinf(u) || std::isinf(v)) {
                    c.nonFiniteMismatches += (std::isnan(u) && std::isnan(v)) || u == v ? 0 : 1;
                    continue;
                }
                const double d = std::fabs(u - v);
                c.maxAbsDiff = std::max(c.maxAbsDiff, d);
                sum += d;
                ++finite;
            }
            c.meanAbsDiff = finite ? sum / static_cast<double>(finite) : 0.0;
            compareTop(x, *y, &c);
        }
        out.push_back(std::move(c));
    }
    return out;
}

int firstNonFiniteLayer(const std::vector<LayerOutput> &layers)
{
    for (size_t i = 0; i < layers.size(); ++i)
        if (layers[i].nans || layers[i].infs)
            return static_cast<int>(i);
    return -1;
}

} // namespace te
