#include "core/report/runreportjson.h"

#include <cmath>

namespace te {
namespace {

nlohmann::ordered_json number(double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nullptr; }

} // namespace

nlohmann::ordered_json outputsJson(const RunResult &r, const Labels &labels, size_t maxValues)
{
    nlohmann::ordered_json outs = nlohmann::ordered_json::array();
    for (const auto &o : r.outputs) {
        nlohmann::ordered_json j{{"path", o.path}};
        if (o.isTensor) {
            j["shape"] = o.shape;
            j["dtype"] = o.dtype;
            j["sum"] = number(o.sum);
            nlohmann::ordered_json values = nlohmann::ordered_json::array();
            for (size_t i = 0; i < o.values.size() && i < maxValues; ++i)
                values.push_back(number(o.values[i]));
            j["values"] = std::move(values);
            if (!o.top.empty()) {
                nlohmann::ordered_json top = nlohmann::ordered_json::array();
                for (const auto &t : o.top) {
                    nlohmann::ordered_json c{{"index", t.index}};
                    if (!labels.name(t.index).empty())
                        c["label"] = labels.name(t.index);
                    c["score"] = number(t.score);
                    c["probability"] = number(t.probability);
                    top.push_back(std::move(c));
                }
                j["top"] = std::move(top);
            }
        } else {
            j["value"] = o.text;
        }
        outs.push_back(std::move(j));
    }
    return outs;
}

nlohmann::ordered_json layersJson(const std::vector<LayerOutput> &layers)
{
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto &l : layers)
        out.push_back({{"path", l.path},
                       {"type", l.type},
                       {"shape", l.shape},
                       {"dtype", l.dtype},
                       {"sum", number(l.sum)},
                       {"mean", number(l.mean)},
                       {"std", number(l.std)},
                       {"min", number(l.min)},
                       {"max", number(l.max)},
                       {"nan", l.nans},
                       {"inf", l.infs}});
    return out;
}

nlohmann::ordered_json comparisonJson(const std::vector<OutputComparison> &comparison)
{
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto &c : comparison) {
        nlohmann::ordered_json j{{"path", c.path}, {"comparable", c.comparable}};
        if (!c.comparable) {
            j["why"] = c.why;
        } else {
            j["values_compared"] = c.compared;
            j["max_abs_diff"] = number(c.maxAbsDiff);
            j["mean_abs_diff"] = number(c.meanAbsDiff);
            j["nonfinite_mismatches"] = c.nonFiniteMismatches;
            if (c.topK) {
                j["top1_agrees"] = c.top1Agrees;
                j["top_k"] = c.topK;
                j["top_k_overlap"] = c.topOverlap;
                j["top_k_order_agrees"] = c.topOrderAgrees;
            }
        }
        out.push_back(std::move(j));
    }
    return out;
}

} // namespace te
