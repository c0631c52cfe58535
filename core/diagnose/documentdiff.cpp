#include "core/diagnose/documentdiff.h"

#include "core/diagnose/valuediff.h"
#include "core/document/tensorbytes.h"
#include "core/report/inspectreport.h"
#include "core/report/valuejson.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <unordered_map>

// "compared" in diffJson is the number of keys in both files; "identical" of those the
// ones with equal shape, dtype and values.

namespace te {
namespace {

bool cancelled(const std::atomic<bool> *cancel) { return cancel && cancel->load(std::memory_order_relaxed); }

void addNote(TensorDiff &d, const std::string &note) { d.note += (d.note.empty() ? "" : "; ") + note; }

const TensorInfo *tensorOf(const Document &doc, const TensorEntry &e)
{
    if (e.tensor < 0 || static_cast<size_t>(e.tensor) >= doc.tensors.size())
        return nullptr;
    return &doc.tensors[static_cast<size_t>(e.tensor)];
}

// Why the values of a tensor cannot be walked; empty when they can.
std::string unreadable(const Document &doc, const TensorInfo &t, const uint8_t **base)
{
    std::string error;
    *base = nullptr;
    if (!t.error.empty())
        return t.error;
    if (t.numel() < 0)
        return "element count overflows";
    if (t.strides.size() != t.shape.size())
        return "strides do not match the shape";
    if (t.numel() == 0)
        return {}; // nothing to read: an empty tensor needs no bytes
    *base = tensorBase(doc, t, &error);
    return *base ? std::string() : error;
}

bool isIdentical(const TensorDiff &d)
{
    return d.shapeA == d.shapeB && d.dtypeA == d.dtypeB && d.valuesCompared && d.differing == 0;
}

nlohmann::ordered_json number(double v)
{
    return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

std::string numberText(double v)
{
    if (std::isinf(v))
        return "inf";
    std::ostringstream os;
    os.precision(6);
    os << v;
    return os.str();
}

// The same view of the same storage: one tensor under two keys.
bool sameTensor(const Document &doc, int x, int y)
{
    if (x < 0 || y < 0)
        return false;
    const TensorInfo &a = doc.tensors[static_cast<size_t>(x)], &b = doc.tensors[static_cast<size_t>(y)];
    return a.storage >= 0 && a.storage == b.storage && a.storageOffset == b.storageOffset && a.shape == b.shape &&
           a.strides == b.strides && a.dtype == b.dtype;
}

// Moves the keys of `only` that hold the very tensor of a compared key to `tied`.
void findTied(const Document &doc, const std::unordered_map<std::string, int> &compared, std::vector<std::string> &only,
              std::vector<TiedKey> &tied)
{
    if (only.empty())
        return;
    std::unordered_map<std::string, int> tensorOfKey;
    for (const TensorEntry &e : doc.entries)
        tensorOfKey.emplace(e.key, e.tensor);
    std::vector<std::string> rest;
    for (const std::vector<std::string> &group : doc.sharedStorageGroups()) {
        for (const std::string &k : group) {
            if (std::find(only.begin(), only.end(), k) == only.end())
                continue;
            for (const std::string &other : group) {
                auto c = compared.find(other);
                if (other != k && c != compared.end() && sameTensor(doc, tensorOfKey[k], c->second)) {
                    tied.push_back({k, other});
                    break;
                }
            }
        }
    }
    if (tied.empty())
        return;
    std::unordered_map<std::string, bool> isTied;
    for (const TiedKey &t : tied)
        isTied[t.key] = true;
    only.erase(std::remove_if(only.begin(), only.end(), [&](const std::string &k) { return isTied.count(k) > 0; }),
               only.end());
}

} // namespace

const char *diffStatusName(DiffStatus s)
{
    switch (s) {
    case DiffStatus::OnlyA: return "only in A";
    case DiffStatus::OnlyB: return "only in B";
    case DiffStatus::Tied: return "tied";
    case DiffStatus::ShapeChanged: return "shape changed";
    case DiffStatus::DtypeChanged: return "dtype changed";
    case DiffStatus::ValuesDiffer: return "values differ";
    case DiffStatus::Identical: return "identical";
    case DiffStatus::Pending: return "not compared yet";
    case DiffStatus::Unreadable: return "values not compared";
    }
    return "?";
}

DiffStatus TensorDiff::status() const
{
    if (shapeA != shapeB)
        return DiffStatus::ShapeChanged;
    if (dtypeA != dtypeB)
        return DiffStatus::DtypeChanged;
    if (!valuesTried)
        return DiffStatus::Pending;
    if (!valuesCompared)
        return DiffStatus::Unreadable;
    return differing ? DiffStatus::ValuesDiffer : DiffStatus::Identical;
}

bool DocumentDiff::same() const { return onlyA.empty() && onlyB.empty() && identical == common.size(); }

void DocumentDiff::recount()
{
    identical = static_cast<size_t>(std::count_if(common.begin(), common.end(), isIdentical));
}

DocumentDiff diffKeys(const Document &a, const Document &b, const KeyAlignment &alignment)
{
    DocumentDiff out;
    out.alignment = alignment;
    const std::string prefixA = alignment.stateDictA.empty() ? std::string() : alignment.stateDictA + ".";
    const std::string prefixB = alignment.stateDictB.empty() ? std::string() : alignment.stateDictB + ".";
    auto inside = [](const std::string &key, const std::string &prefix) {
        return key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0;
    };
    std::unordered_map<std::string, size_t> inB; // key -> first entry
    for (size_t i = 0; i < b.entries.size(); ++i)
        if (inside(b.entries[i].key, prefixB))
            inB.emplace(b.entries[i].key, i);

    std::unordered_map<std::string, int> comparedA, comparedB; // full key -> tensor
    std::unordered_map<std::string, size_t> named;             // B's name -> first entry of A
    for (size_t i = 0; i < a.entries.size(); ++i) {
        const TensorEntry &ea = a.entries[i];
        if (!inside(ea.key, prefixA))
            continue;
        const std::string name = alignment.literal() ? ea.key : alignment.keyInB(ea.key);
        auto [first, isNew] = named.emplace(name, i);
        if (!isNew) {
            // A repeated key counts once; another key renamed onto a taken name stays apart.
            if (a.entries[first->second].key != ea.key)
                out.onlyA.push_back(ea.key);
            continue;
        }
        auto match = inB.find(name);
        if (match == inB.end()) {
            out.onlyA.push_back(ea.key);
            continue;
        }
        TensorDiff d;
        d.key = name;
        d.keyA = ea.key;
        d.tensorA = ea.tensor;
        d.tensorB = b.entries[match->second].tensor;
        comparedA.emplace(d.keyA, d.tensorA);
        comparedB.emplace(d.key, d.tensorB);
        const TensorInfo *ta = tensorOf(a, ea), *tb = tensorOf(b, b.entries[match->second]);
        if (!ta || !tb) {
            d.valuesTried = true;
            d.note = "no tensor recorded for the key";
            out.common.push_back(std::move(d));
            continue;
        }
        d.shapeA = ta->shape;
        d.shapeB = tb->shape;
        d.dtypeA = dtypeName(ta->dtype);
        d.dtypeB = dtypeName(tb->dtype);
        if (ta->dtype != tb->dtype)
            addNote(d, "dtype differs");
        if (d.shapeA != d.shapeB) {
            d.valuesTried = true;
            addNote(d, "shape differs");
        }
        out.common.push_back(std::move(d));
    }
    for (size_t i = 0; i < b.entries.size(); ++i) {
        const std::string &k = b.entries[i].key;
        auto first = inB.find(k);
        if (first != inB.end() && first->second == i && !named.count(k))
            out.onlyB.push_back(k);
    }
    findTied(a, comparedA, out.onlyA, out.tiedA);
    findTied(b, comparedB, out.onlyB, out.tiedB);
    return out;
}

bool compareTensorValues(const Document &a, const Document &b, TensorDiff &d, const std::atomic<bool> *cancel,
                         uint64_t *walked)
{
    if (d.valuesTried)
        return true;
    if (d.tensorA < 0 || d.tensorB < 0 || static_cast<size_t>(d.tensorA) >= a.tensors.size() ||
        static_cast<size_t>(d.tensorB) >= b.tensors.size()) {
        d.valuesTried = true;
        addNote(d, "no tensor recorded for the key");
        return true;
    }
    const TensorInfo &ta = a.tensors[static_cast<size_t>(d.tensorA)], &tb = b.tensors[static_cast<size_t>(d.tensorB)];
    if (cancelled(cancel)) {
        addNote(d, "cancelled before its values were compared");
        return false;
    }
    const uint8_t *baseA, *baseB;
    const std::string errA = unreadable(a, ta, &baseA), errB = unreadable(b, tb, &baseB);
    if (!errA.empty())
        addNote(d, "values of A not readable: " + errA);
    if (!errB.empty())
        addNote(d, "values of B not readable: " + errB);
    bool complete = true;
    if (errA.empty() && errB.empty()) {
        if (ta.numel() == 0 || compareValues(baseA, ta, baseB, tb, d, cancel, *walked))
            d.valuesCompared = true;
        else
            complete = false;
        for (const std::string &damage : {tensorDamage(a, ta), tensorDamage(b, tb)}) {
            if (!damage.empty()) {
                d.valuesCompared = false;
                addNote(d, "values not compared: " + damage);
            }
        }
    }
    if (d.valuesCompared && (ta.layout == "quantized" || tb.layout == "quantized"))
        addNote(d, "quantized: integer values compared, not scales or zero points");
    d.valuesTried = complete;
    return complete;
}

DocumentDiff diffDocuments(const Document &a, const Document &b, const KeyAlignment &alignment,
                           const std::atomic<bool> *cancel)
{
    DocumentDiff out = diffKeys(a, b, alignment);
    uint64_t walked = 0;
    bool stopped = false;
    for (TensorDiff &d : out.common) {
        if (d.valuesTried)
            continue;
        if (stopped) {
            addNote(d, "cancelled before its values were compared");
            continue;
        }
        stopped = !compareTensorValues(a, b, d, cancel, &walked);
    }
    out.recount();
    return out;
}

nlohmann::ordered_json diffJson(const DocumentDiff &diff)
{
    using json = nlohmann::ordered_json;
    const KeyAlignment &al = diff.alignment;
    json rules = json::array();
    for (const RemapRule &r : al.rules)
        rules.push_back(r.text());
    json out{{"alignment",
              {{"literal", al.literal()},
               {"state_dict_a", al.stateDictA},
               {"state_dict_b", al.stateDictB},
               {"rules", rules},
               {"not_compared_a", al.outsideA},
               {"not_compared_b", al.outsideB}}},
             {"only_a", diff.onlyA},
             {"only_b", diff.onlyB}};
    for (const auto &[name, tied] : {std::pair("tied_a", &diff.tiedA), std::pair("tied_b", &diff.tiedB)}) {
        out[name] = json::array();
        for (const TiedKey &t : *tied)
            out[name].push_back({{"key", t.key}, {"tied_to", t.tiedTo}});
    }
    out["changed"] = json::array();
    for (const TensorDiff &d : diff.common) {
        if (isIdentical(d))
            continue;
        json j{{"key", d.key}};
        if (d.keyA != d.key)
            j["key_a"] = d.keyA;
        j.update(json{{"shape_a", d.shapeA}, {"shape_b", d.shapeB}, {"dtype_a", d.dtypeA}, {"dtype_b", d.dtypeB}});
        if (d.valuesCompared) {
            j["max_abs"] = number(d.maxAbs);
            j["max_rel"] = number(d.maxRel);
            j["differing"] = d.differing;
        }
        if (!d.note.empty())
            j["note"] = d.note;
        out["changed"].push_back(std::move(j));
    }
    out["identical"] = diff.identical;
    out["compared"] = diff.common.size();
    return out;
}

std::string diffText(const DocumentDiff &diff)
{
    std::ostringstream os;
    for (const std::string &line : diff.alignment.describe())
        os << "lined up: " << line << "\n";
    if (diff.alignment.outsideA || diff.alignment.outsideB)
        os << "not compared: " << diff.alignment.outsideA << " tensors of A and " << diff.alignment.outsideB
           << " of B outside those state dicts\n";
    auto keys = [&](const char *title, const std::vector<std::string> &list) {
        if (list.empty())
            return;
        os << title << " (" << list.size() << "):\n";
        for (const auto &k : list)
            os << "  " << k << "\n";
    };
    keys("only in A", diff.onlyA);
    keys("only in B", diff.onlyB);
    for (const auto &[side, tied] : {std::pair("A", &diff.tiedA), std::pair("B", &diff.tiedB)})
        for (const TiedKey &t : *tied)
            os << "tied in " << side << ": " << t.key << " is " << t.tiedTo << "\n";
    const size_t changed = diff.common.size() - diff.identical;
    if (changed)
        os << "changed (" << changed << "):\n";
    for (const TensorDiff &d : diff.common) {
        if (isIdentical(d))
            continue;
        os << "  " << d.key;
        if (d.keyA != d.key)
            os << " (A: " << d.keyA << ")";
        os << ":";
        if (d.shapeA != d.shapeB)
            os << " shape " << shapeText(d.shapeA) << " -> " << shapeText(d.shapeB);
        else
            os << " " << shapeText(d.shapeA);
        if (d.dtypeA != d.dtypeB)
            os << " dtype " << d.dtypeA << " -> " << d.dtypeB;
        else
            os << " " << d.dtypeA;
        if (d.valuesCompared) {
            if (d.differing)
                os << ", " << d.differing << " values differ, max abs " << numberText(d.maxAbs) << ", max rel "
                   << numberText(d.maxRel);
            else
                os << ", values equal";
        }
        if (!d.note.empty() && d.note != "dtype differs" && d.note != "shape differs")
            os << " (" << d.note << ")";
        os << "\n";
    }
    if (diff.common.empty())
        os << "no keys in common\n";
    else
        os << diff.identical << " of " << diff.common.size() << " common tensors identical"
           << (diff.same() ? ": the files hold the same tensors\n" : "\n");
    return os.str();
}

std::string diffMarkdown(const DocumentDiff &diff, const std::string &pathA, const std::string &pathB)
{
    std::ostringstream os;
    os << "# Comparison\n\n- A: `" << pathA << "`\n- B: `" << pathB << "`\n";
    for (const std::string &line : diff.alignment.describe())
        os << "- lined up: " << line << "\n";
    if (diff.alignment.literal())
        os << "- keys compared as they are\n";
    if (diff.alignment.outsideA || diff.alignment.outsideB)
        os << "- not compared: " << diff.alignment.outsideA << " tensors of A and " << diff.alignment.outsideB
           << " of B outside those state dicts\n";
    os << "\n| | keys |\n|---|---:|\n| identical | " << diff.identical << " |\n| changed | "
       << diff.common.size() - diff.identical << " |\n| only in A | " << diff.onlyA.size() << " |\n| only in B | "
       << diff.onlyB.size() << " |\n| tied (kept once in the other file) | " << diff.tiedA.size() + diff.tiedB.size()
       << " |\n";
    std::vector<std::string> rows;
    for (const std::string &k : diff.onlyA)
        rows.push_back("| " + markdownCell(k) + " | only in A | | | | |");
    for (const std::string &k : diff.onlyB)
        rows.push_back("| " + markdownCell(k) + " | only in B | | | | |");
    for (const TensorDiff &d : diff.common) {
        if (isIdentical(d))
            continue;
        std::string key = markdownCell(d.key) + (d.keyA != d.key ? " (A: " + markdownCell(d.keyA) + ")" : "");
        std::string shape = shapeText(d.shapeA) + (d.shapeA != d.shapeB ? " → " + shapeText(d.shapeB) : "");
        std::string dtype = d.dtypeA + (d.dtypeA != d.dtypeB ? " → " + d.dtypeB : "");
        std::string values = d.valuesCompared ? numberText(d.maxAbs) + " | " + numberText(d.maxRel) : " | ";
        rows.push_back("| " + key + " | " + diffStatusName(d.status()) + " | " + shape + " | " + dtype + " | " +
                       values + " |");
    }
    if (!rows.empty()) {
        os << "\n| key | status | shape | dtype | max abs | max rel |\n|---|---|---|---|---:|---:|\n";
        for (const std::string &r : rows)
            os << r << "\n";
    }
    return os.str();
}

} // namespace te
