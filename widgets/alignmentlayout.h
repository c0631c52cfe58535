#pragma once
// The key alignment as data, without Qt: each side's rows (keys, bands, the groups of a
// tree of modules) and the lines between them, for KeyAlignmentView to draw.
#include "core/diagnose/loadcheck.h"

#include <set>
#include <string>
#include <vector>

namespace te {

struct AlignmentLayout {
    enum class Mark { Plain, Unmatched, Band, Group };
    enum class LinkKind { Loads, ShapeMismatch, Suggested };
    struct Row {
        std::string text; // a key, a band's or a group's module path
        Mark mark = Mark::Plain;
        int keys = 1; // keys a band stands for
        std::string shape;
        int depth = 0; // modules above it: each side is drawn as a tree
    };
    struct Link {
        int left = -1, right = -1; // rows
        LinkKind kind = LinkKind::Loads;
        int keys = 1;
    };
    std::vector<Row> left, right;
    std::vector<Link> links;
    std::vector<std::vector<int>> leftLinks, rightLinks; // links of each row
    std::string suggestion;                              // the rule behind the dashed lines
};

// `rules` are the ones the report was computed with; the report's first suggestion, when it
// renames keys, gives the dashed lines. The largest subtree of the model whose keys all
// load from one subtree of the checkpoint is a band; modules named in `opened` are never
// banded (their subtrees may be).
AlignmentLayout layoutAlignment(const LoadReport &report, const ExpectedModel &model, const WeightsSource &weights,
                                const std::vector<RemapRule> &rules,
                                const std::set<std::string, std::less<>> &opened = {});

// "a.b" of "a.b.c": the module a key (or a module) is in; empty at the top level.
std::string_view moduleOf(std::string_view key);

} // namespace te
