#include "widgets/alignmentlayout.h"

#include "core/report/valuejson.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace te {

std::string_view moduleOf(std::string_view key)
{
    const size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
}

namespace {

// "a", "a.b" for "a.b.c"; "" for "c". Views into the key.
std::vector<std::string_view> ancestors(std::string_view key)
{
    std::vector<std::string_view> out;
    for (size_t dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.', dot + 1))
        out.push_back(key.substr(0, dot));
    if (out.empty())
        out.push_back(std::string_view());
    return out;
}

// The module prefix two modules share ("a.b" of "a.b.c" and "a.b.d").
std::string_view shared(std::string_view x, std::string_view y)
{
    size_t n = 0;
    while (n < x.size() && n < y.size() && x[n] == y[n])
        ++n;
    if (n == x.size() && n == y.size())
        return x;
    if ((n == x.size() && y[n] == '.') || (n == y.size() && x[n] == '.'))
        return x.substr(0, n);
    const size_t dot = x.substr(0, n).rfind('.');
    return dot == std::string_view::npos ? std::string_view() : x.substr(0, dot);
}

int depthOf(std::string_view module)
{
    return module.empty() ? 0 : static_cast<int>(std::count(module.begin(), module.end(), '.')) + 1;
}

// The layout made in its phases: pairs of keys, the subtrees that load whole, the bands
// chosen among them, each side's rows, the lines.
class Layouter {
public:
    Layouter(const LoadReport &report, const ExpectedModel &model, const WeightsSource &weights,
             const std::vector<RemapRule> &rules, const std::set<std::string, std::less<>> &opened)
        : m_report(report)
        , m_model(model)
        , m_weights(weights)
        , m_rules(rules)
        , m_opened(opened)
        , m_partnerOfModel(model.keys.size(), -1)
        , m_partnerOfCkpt(weights.keys.size(), -1)
        , m_rowOfModel(model.keys.size(), -1)
        , m_rowOfCkpt(weights.keys.size(), -1)
    { }

    AlignmentLayout run()
    {
        pairKeys();
        measureSubtrees();
        chooseBands();
        layRows();
        link();
        return std::move(m_out);
    }

private:
    struct Pair {
        int ckpt, model;
        AlignmentLayout::LinkKind kind;
    };
    struct Subtree {
        int keys = 0;
        bool allLoad = true;
        bool started = false;
        std::string_view source; // the checkpoint module all its keys come from
        // Where the checkpoint has this subtree, when every key is renamed only above it
        // ("module.encoder" for the model's "encoder"): the band's name on the left.
        std::string_view mirror;
        bool mirrored = true;
    };
    struct Side {
        std::vector<AlignmentLayout::Row> *rows;
        std::string_view module; // of the last row
    };

    void pair(const std::string &ckptKey, const std::string &modelKey, AlignmentLayout::LinkKind kind)
    {
        auto c = m_ckptIndex.find(ckptKey);
        auto m = m_modelIndex.find(modelKey);
        if (c == m_ckptIndex.end() || m == m_modelIndex.end() || m_partnerOfCkpt[size_t(c->second)] >= 0 ||
            m_partnerOfModel[size_t(m->second)] >= 0)
            return;
        m_partnerOfCkpt[size_t(c->second)] = static_cast<int>(m_pairs.size());
        m_partnerOfModel[size_t(m->second)] = static_cast<int>(m_pairs.size());
        m_pairs.push_back({c->second, m->second, kind});
    }

    // Pairs by key index: what loads, what would load but for its shape, what the best
    // suggested rule would pair.
    void pairKeys()
    {
        for (size_t i = 0; i < m_weights.keys.size(); ++i)
            m_ckptIndex.emplace(m_weights.keys[i].key, static_cast<int>(i));
        for (size_t j = 0; j < m_model.keys.size(); ++j)
            m_modelIndex.emplace(m_model.keys[j].key, static_cast<int>(j));
        for (const auto &[modelKey, ckptKey] : m_report.sources)
            pair(ckptKey, modelKey, AlignmentLayout::LinkKind::Loads);
        for (const ShapeMismatch &s : m_report.shapeMismatch)
            pair(s.checkpointKey, s.key, AlignmentLayout::LinkKind::ShapeMismatch);
        for (const Suggestion &s : m_report.suggestions) {
            if (s.kind == "state_dict")
                continue;
            m_out.suggestion = s.description.empty() ? s.rule.text() : s.description;
            std::vector<RemapRule> trial = m_rules;
            trial.push_back(s.rule);
            // Every key the rule would bring to a free model key, the missing ones and those a
            // module fills in itself when absent (BatchNorm's num_batches_tracked) alike.
            const std::vector<std::string> renamed = applyRules(m_weights.keys, trial); // rules compiled once
            for (size_t i = 0; i < m_weights.keys.size(); ++i)
                if (m_partnerOfCkpt[i] < 0)
                    pair(m_weights.keys[i].key, renamed[i], AlignmentLayout::LinkKind::Suggested);
            break; // the best one only
        }
    }

    // Every subtree of the model: its keys, whether all load, and from which subtree of the
    // checkpoint; and how many keys each subtree of the checkpoint holds.
    void measureSubtrees()
    {
        for (size_t i = 0; i < m_weights.keys.size(); ++i)
            for (std::string_view up : ancestors(m_weights.keys[i].key))
                ++m_ckptTreeKeys[up];
        for (size_t j = 0; j < m_model.keys.size(); ++j) {
            const int p = m_partnerOfModel[j];
            const bool loads = p >= 0 && m_pairs[size_t(p)].kind == AlignmentLayout::LinkKind::Loads;
            const std::string_view modelKey = m_model.keys[j].key;
            const std::string_view ckptKey =
                loads ? std::string_view(m_weights.keys[size_t(m_pairs[size_t(p)].ckpt)].key) : std::string_view();
            for (std::string_view up : ancestors(modelKey))
                measure(m_modelTrees[up], up, modelKey, loads, ckptKey);
        }
        for (auto &entry : m_modelTrees)
            if (entry.second.mirrored && entry.second.started)
                entry.second.source = entry.second.mirror;
    }

    static void measure(Subtree &t, std::string_view up, std::string_view modelKey, bool loads,
                        std::string_view ckptKey)
    {
        ++t.keys;
        t.allLoad = t.allLoad && loads;
        if (loads) {
            // The checkpoint key as this subtree's place there plus the same key inside it.
            const std::string_view inside = up.empty() ? modelKey : modelKey.substr(up.size() + 1);
            std::optional<std::string_view> place;
            if (ckptKey == inside)
                place = std::string_view();
            else if (ckptKey.size() > inside.size() && ckptKey.substr(ckptKey.size() - inside.size()) == inside &&
                     ckptKey[ckptKey.size() - inside.size() - 1] == '.')
                place = ckptKey.substr(0, ckptKey.size() - inside.size() - 1);
            t.mirrored = t.mirrored && place && (!t.started || *place == t.mirror);
            if (place && !t.started)
                t.mirror = *place;
            const std::string_view from = moduleOf(ckptKey);
            if (t.started) {
                const std::string_view common = shared(t.source, from);
                // Keys from two top-level trees of the checkpoint have no one source.
                t.allLoad = t.allLoad && (!common.empty() || (t.source.empty() && from.empty()));
                t.source = common;
            } else {
                t.source = from;
            }
        }
        t.started = true;
    }

    // Bands: the largest subtree of the model (a module and everything under it) whose keys
    // all load from the keys of one subtree of the checkpoint, which load nowhere else. A
    // module named in `opened` is not banded, so opening a band shows the bands a level
    // down. Keys at the top level (no module) band together as "(top level)".
    void chooseBands()
    {
        for (size_t j = 0; j < m_model.keys.size(); ++j) {
            for (std::string_view up : ancestors(m_model.keys[j].key)) {
                if (m_bandedModel.count(up))
                    break; // this key's band, chosen already
                const Subtree &t = m_modelTrees[up];
                const auto ckptKeys = m_ckptTreeKeys.find(t.source);
                if (t.keys < 2 || !t.allLoad || m_opened.count(up) || m_opened.count(t.source) ||
                    m_bandOfCkptModule.count(t.source) || ckptKeys == m_ckptTreeKeys.end() ||
                    ckptKeys->second != t.keys)
                    continue;
                m_bandOfCkptModule[t.source] = up;
                m_bandedModel.insert(up);
                break;
            }
        }
    }

    template <typename Set> static std::optional<std::string_view> bandOf(std::string_view key, const Set &banded)
    {
        for (std::string_view up : ancestors(key))
            if (banded.count(up))
                return up;
        return std::nullopt;
    }

    // Group rows for the modules of `module` that the last row was not in.
    static void enter(Side &side, std::string_view module)
    {
        if (module == side.module)
            return;
        size_t at = 0; // the first part of `module` to open: after what both share
        for (size_t n = 0; n <= module.size() && n <= side.module.size(); ++n) {
            const bool endA = n == module.size(), endB = n == side.module.size();
            if ((endA || module[n] == '.') && (endB || side.module[n] == '.'))
                at = endA ? n : n + 1;
            if (endA || endB || module[n] != side.module[n])
                break;
        }
        while (at < module.size()) {
            const size_t dot = module.find('.', at);
            const std::string_view group = module.substr(0, dot == std::string_view::npos ? module.size() : dot);
            side.rows->push_back({std::string(group), AlignmentLayout::Mark::Group, 0, {}, depthOf(group) - 1});
            at = dot == std::string_view::npos ? module.size() : dot + 1;
        }
        side.module = module;
    }

    // One side's rows in its own order: a band where its subtree's first key was, a group
    // row opening each module the next row is in that the row before was not.
    template <typename Keys, typename Set, typename Count>
    static void laySide(const Keys &keys, const Set &banded, const Count &bandKeys, const std::vector<int> &partner,
                        std::vector<AlignmentLayout::Row> &rows, std::vector<int> &rowOf)
    {
        Side side{&rows, {}};
        std::unordered_map<std::string_view, int> bandRow;
        for (size_t i = 0; i < keys.size(); ++i) {
            if (const auto module = bandOf(keys[i].key, banded)) {
                auto [at, made] = bandRow.emplace(*module, 0);
                if (made) {
                    enter(side, moduleOf(*module));
                    at->second = static_cast<int>(rows.size());
                    rows.push_back({module->empty() ? std::string("(top level)") : std::string(*module),
                                    AlignmentLayout::Mark::Band,
                                    bandKeys(*module),
                                    {},
                                    depthOf(moduleOf(*module))});
                }
                rowOf[i] = at->second;
                continue;
            }
            enter(side, moduleOf(keys[i].key));
            rowOf[i] = static_cast<int>(rows.size());
            rows.push_back({keys[i].key,
                            partner[i] < 0 ? AlignmentLayout::Mark::Unmatched : AlignmentLayout::Mark::Plain, 1,
                            shapeText(keys[i].shape), depthOf(moduleOf(keys[i].key))});
        }
    }

    void layRows()
    {
        laySide(
            m_weights.keys, m_bandOfCkptModule, [this](std::string_view m) { return m_ckptTreeKeys[m]; },
            m_partnerOfCkpt, m_out.left, m_rowOfCkpt);
        laySide(
            m_model.keys, m_bandedModel, [this](std::string_view m) { return m_modelTrees[m].keys; }, m_partnerOfModel,
            m_out.right, m_rowOfModel);
    }

    // One line per pair, one per band.
    void link()
    {
        AlignmentLayout &out = m_out;
        out.leftLinks.assign(out.left.size(), {});
        out.rightLinks.assign(out.right.size(), {});
        std::unordered_set<long long> bandLinks;
        for (const Pair &p : m_pairs) {
            const int l = m_rowOfCkpt[size_t(p.ckpt)], r = m_rowOfModel[size_t(p.model)];
            const bool band = out.left[size_t(l)].mark == AlignmentLayout::Mark::Band;
            if (band && !bandLinks.insert((static_cast<long long>(l) << 32) | static_cast<unsigned>(r)).second)
                continue;
            out.leftLinks[size_t(l)].push_back(static_cast<int>(out.links.size()));
            out.rightLinks[size_t(r)].push_back(static_cast<int>(out.links.size()));
            out.links.push_back({l, r, p.kind, band ? out.left[size_t(l)].keys : 1});
        }
    }

    const LoadReport &m_report;
    const ExpectedModel &m_model;
    const WeightsSource &m_weights;
    const std::vector<RemapRule> &m_rules;
    const std::set<std::string, std::less<>> &m_opened;
    AlignmentLayout m_out;
    std::unordered_map<std::string_view, int> m_ckptIndex, m_modelIndex;
    std::vector<Pair> m_pairs;
    std::vector<int> m_partnerOfModel, m_partnerOfCkpt;
    std::unordered_map<std::string_view, Subtree> m_modelTrees;
    std::unordered_map<std::string_view, int> m_ckptTreeKeys;
    std::unordered_map<std::string_view, std::string_view> m_bandOfCkptModule; // ckpt module -> model module
    std::unordered_set<std::string_view> m_bandedModel;
    std::vector<int> m_rowOfModel, m_rowOfCkpt;
};

} // namespace

AlignmentLayout layoutAlignment(const LoadReport &report, const ExpectedModel &model, const WeightsSource &weights,
                                const std::vector<RemapRule> &rules, const std::set<std::string, std::less<>> &opened)
{
    return Layouter(report, model, weights, rules, opened).run();
}

} // namespace te
