#include "core/report/inspectreport.h"
#include "core/io/backgroundtask.h"
#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/security/securityscanner.h"
#include "core/stats/tensorstats.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace te {
namespace {

nlohmann::ordered_json number(double v)
{
    if (std::isfinite(v))
        return v;
    return nullptr; // JSON has no NaN/Inf; counts are reported separately
}

std::string_view savedDevice(const Document &doc, const TensorInfo &t)
{
    if (t.storage < 0)
        return {};
    return doc.storages[static_cast<size_t>(t.storage)].location;
}

// Names come from the file: control characters would forge lines or move the cursor.
std::string printable(const std::string &s)
{
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            static const char *hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

} // namespace

std::string securitySummary(const SecurityReport &r)
{
    if (r.verdictReason == "dangerous_calls") {
        std::set<std::string> seen;
        std::string names;
        bool anyCalled = false;
        for (const auto &g : r.globals) {
            if (g.category != "dangerous" || !seen.insert(g.name).second)
                continue;
            anyCalled = anyCalled || g.called;
            if (seen.size() <= 3)
                names += (names.empty() ? "" : ", ") + printable(g.name);
        }
        if (seen.size() > 3)
            names += " and " + std::to_string(seen.size() - 3) + " more";
        return std::string(anyCalled ? "loading it in Python would run " : "loading it in Python would reach ") +
               names + "; do not torch.load it with weights_only=False";
    }
    if (r.verdictReason == "not_fully_scanned")
        return "not fully scanned: part of it could not be read, so what it would do is unknown";
    if (r.verdictReason == "needs_python_classes")
        return "needs trusted Python classes: torch.load(weights_only=True) refuses them";
    if (r.verdictReason == "torchscript_code")
        return "TorchScript: torch.jit.load rebuilds it without Python; its own TorchScript code runs when the "
               "model is called";
    if (r.verdictReason == "container_findings")
        return "the container holds something PyTorch's loader would not read: see the findings";
    if (r.verdictReason == "no_code")
        return "only tensors and text metadata, in a format that cannot hold code";
    if (!r.weightsOnlyLoadable)
        return "only tensors and plain data, but torch.load would refuse the file: see the findings";
    return "only tensors and plain data: torch.load(weights_only=True) loads it";
}

nlohmann::ordered_json securityJson(const SecurityReport &r)
{
    nlohmann::ordered_json s;
    s["verdict"] = r.verdict;
    s["verdict_reason"] = r.verdictReason;
    s["summary"] = securitySummary(r);
    s["complete"] = r.complete;
    s["weights_only_loadable"] = r.weightsOnlyLoadable;
    s["globals"] = nlohmann::ordered_json::array();
    for (const auto &g : r.globals) {
        nlohmann::ordered_json j;
        j["name"] = g.name;
        j["category"] = g.category;
        j["called"] = g.called;
        if (g.computed)
            j["computed"] = true;
        j["member"] = g.member;
        j["offset"] = g.offset;
        j["count"] = g.count;
        j["offsets"] = g.offsets; // every use (up to kMaxUseOffsets); the text lists the first
        j["reason"] = g.reason;
        s["globals"].push_back(std::move(j));
    }
    s["safe_globals"] = nlohmann::ordered_json::array();
    std::set<std::string> seen;
    for (const auto &g : r.globals)
        if (g.category == "python_class" && r.verdict != "dangerous" && !g.computed && seen.insert(g.pythonName).second)
            s["safe_globals"].push_back(g.pythonName);
    s["findings"] = r.findings;
    return s;
}

namespace {

// Writes one JSON object exactly as nlohmann's dump(2) lays it out at the given depth,
// without building it first (that costs more than reading the file did for a checkpoint
// of a hundred thousand tensors).
class ObjectWriter {
public:
    ObjectWriter(std::string &out, int depth)
        : m_out(out)
        , m_pad(static_cast<size_t>(depth) * 2, ' ')
    {
        m_out += '{';
    }

    void string(const char *key, const std::string &value)
    {
        name(key);
        appendString(value);
    }
    void integer(const char *key, int64_t value)
    {
        name(key);
        appendNumber(value);
    }
    void unsignedInteger(const char *key, uint64_t value)
    {
        name(key);
        appendNumber(value);
    }
    void boolean(const char *key, bool value)
    {
        name(key);
        m_out += value ? "true" : "false";
    }
    void real(const char *key, double value)
    {
        name(key);
        m_out += jsonText(number(value));
    }
    void integers(const char *key, const std::vector<int64_t> &values)
    {
        name(key);
        if (values.empty()) {
            m_out += "[]";
            return;
        }
        m_out += '[';
        for (size_t i = 0; i < values.size(); ++i) {
            m_out += i ? ",\n" : "\n";
            m_out += m_pad;
            m_out += "    ";
            appendNumber(values[i]);
        }
        m_out += '\n';
        m_out += m_pad;
        m_out += "  ]";
    }
    void finish()
    {
        if (!m_first) {
            m_out += '\n';
            m_out += m_pad;
        }
        m_out += '}';
    }

private:
    template <typename Int> void appendNumber(Int value)
    {
        char digits[24];
        m_out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
    }
    void name(const char *key)
    {
        m_out += m_first ? "\n" : ",\n";
        m_first = false;
        m_out += m_pad;
        m_out += "  \"";
        m_out += key;
        m_out += "\": ";
    }
    void appendString(const std::string &s)
    {
        bool plain =
            std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
        if (!plain) {
            m_out += jsonText(nlohmann::ordered_json(s));
            return;
        }
        m_out += '"';
        m_out += s;
        m_out += '"';
    }

    std::string &m_out;
    std::string m_pad;
    bool m_first = true;
};

// One tensor of the inspect document; the only place its fields are listed.
void writeTensor(std::string &out, const Document &doc, const TensorEntry &e, bool withStats,
                 const TensorStats *precomputed)
{
    const TensorInfo &t = doc.tensors[static_cast<size_t>(e.tensor)];
    ObjectWriter w(out, 2);
    w.string("key", e.key);
    w.integers("shape", t.shape);
    w.string("dtype", dtypeName(t.dtype));
    w.string("saved_device", std::string(savedDevice(doc, t)));
    w.unsignedInteger("nbytes", t.nbytes());
    w.integers("stride", t.strides);
    w.integer("storage_offset", t.storageOffset);
    if (t.isParameter)
        w.boolean("is_parameter", true);
    if (t.requiresGrad)
        w.boolean("requires_grad", true);
    if (!t.layout.empty())
        w.string("layout", t.layout);
    if (!t.error.empty())
        w.string("error", t.error);
    if (withStats && t.error.empty()) {
        const TensorStats st = precomputed ? *precomputed : computeStats(doc, t);
        if (st.ok) {
            w.real("sum", st.sum);
            if (dtypeIsComplex(t.dtype))
                w.real("sum_imag", st.sumImag);
            w.real("min", st.min);
            w.real("max", st.max);
            w.real("mean", st.mean);
            w.real("std", st.std);
            w.unsignedInteger("zeros", st.zeros);
            if (st.nans || st.posInfs || st.negInfs) {
                w.unsignedInteger("nan_count", st.nans);
                w.unsignedInteger("posinf_count", st.posInfs);
                w.unsignedInteger("neginf_count", st.negInfs);
                w.real("finite_sum", st.finiteSum);
            }
        } else {
            w.string("error", st.error);
        }
    }
    w.finish();
}

// The tensors of the inspect document, each after its separator. Without statistics the
// text is made a slice at a time on two threads (this thread writes each slice when its
// turn comes), for a checkpoint of many tensors spends as long on it as on reading.
void writeTensors(std::ostream &os, const Document &doc)
{
    constexpr size_t kSlice = 1024;
    const size_t n = doc.entries.size();
    auto slice = [&doc, n](size_t begin) {
        std::string text;
        for (size_t i = begin; i < std::min(n, begin + kSlice); ++i) {
            text += i == 0 ? "\n    " : ",\n    ";
            writeTensor(text, doc, doc.entries[i], false, nullptr);
        }
        return text;
    };
    for (size_t begin = 0; begin < n; begin += 2 * kSlice) {
        std::string second;
        BackgroundTask helper([&] { second = slice(begin + kSlice); });
        const std::string first = slice(begin);
        helper.finish();
        os.write(first.data(), static_cast<std::streamsize>(first.size()));
        os.write(second.data(), static_cast<std::streamsize>(second.size()));
    }
}

// Statistics are computed a batch of tensors at a time, one tensor per core; the text
// goes out a batch at a time too.
void writeTensorsWithStats(std::ostream &os, const Document &doc)
{
    constexpr size_t kBatch = 256;
    std::vector<TensorStats> stats;
    std::string piece;
    for (size_t i = 0; i < doc.entries.size(); ++i) {
        if (i % kBatch == 0)
            stats = computeStatsOfEntries(doc, i, std::min(doc.entries.size(), i + kBatch));
        piece += i == 0 ? "\n    " : ",\n    ";
        writeTensor(piece, doc, doc.entries[i], true, &stats[i % kBatch]);
        if (i % kBatch == kBatch - 1 || i + 1 == doc.entries.size()) {
            os.write(piece.data(), static_cast<std::streamsize>(piece.size()));
            piece.clear();
        }
    }
}

nlohmann::ordered_json tensorJson(const Document &doc, const TensorEntry &e, bool withStats)
{
    std::string text;
    writeTensor(text, doc, e, withStats, nullptr);
    return nlohmann::ordered_json::parse(text);
}

nlohmann::ordered_json inspectJsonImpl(const Document &doc, bool withStats, bool withTensors)
{
    using J = nlohmann::ordered_json;
    J out;
    out["path"] = doc.path;
    out["format"] = formatName(doc.format);
    out["producer"] = doc.producer;
    out["pickle_protocol"] = doc.pickleProtocol;
    J tensors = J::array();
    if (withTensors)
        for (const auto &e : doc.entries)
            tensors.push_back(tensorJson(doc, e, withStats));
    out["tensors"] = std::move(tensors);
    J modules = J::array();
    for (const auto &m : doc.modules) {
        J j;
        j["path"] = m.path;
        j["class"] = m.className;
        if (!m.hyper.empty())
            j["hyper"] = m.hyper;
        if (!m.source.empty())
            j["source"] = m.source;
        modules.push_back(std::move(j));
    }
    out["modules"] = std::move(modules);
    out["state_dicts"] = doc.stateDicts;
    out["metadata"] = doc.metadata;
    if (!doc.optimizers.empty()) {
        J opts = J::array();
        for (const auto &o : doc.optimizers)
            opts.push_back({{"path", o.path},
                            {"type", o.type},
                            {"state_entries", o.stateEntries},
                            {"param_groups", o.paramGroups}});
        out["optimizers"] = std::move(opts);
    }
    auto shared = doc.sharedStorageGroups();
    if (!shared.empty())
        out["shared_storage"] = shared;
    if (doc.format == FileFormat::TorchScript)
        out["torchscript"] = {{"forward", doc.torchscript.forwardSignature}};
    out["security"] = securityJson(doc.security);
    if (!doc.warnings.empty())
        out["warnings"] = doc.warnings;
    if (!doc.error.empty())
        out["error"] = doc.error;
    return out;
}

} // namespace

nlohmann::ordered_json inspectJson(const Document &doc, bool withStats)
{
    auto out = inspectJsonImpl(doc, withStats, true);
    if (doc.remote)
        out["remote"] = remoteJson(doc); // last: what the statistics fetched counts too
    return out;
}

void writeInspectJson(std::ostream &os, const Document &doc, bool withStats)
{
    // The same text as jsonText(inspectJson(doc), 2), with the tensors written one at a
    // time into the dump of everything else.
    const std::string whole = jsonText(inspectJsonImpl(doc, withStats, false), 2);
    const std::string marker = "\n  \"tensors\": []";
    size_t at = whole.find(marker); // the first: only path/format/producer come before
    if (doc.entries.empty() || at == std::string::npos) {
        os << whole;
        return;
    }
    os.write(whole.data(), static_cast<std::streamsize>(at));
    os << "\n  \"tensors\": [";
    if (withStats)
        writeTensorsWithStats(os, doc);
    else
        writeTensors(os, doc);
    os << "\n  ]";
    std::string_view rest(whole.data() + at + marker.size(), whole.size() - at - marker.size());
    if (doc.remote && rest.size() >= 2 && rest.substr(rest.size() - 2) == "\n}") {
        // Last, after the tensors: what their statistics fetched counts too.
        rest.remove_suffix(2);
        os << rest;
        nlohmann::ordered_json remote{{"remote", remoteJson(doc)}};
        std::string text = jsonText(remote, 2); // "{\n  \"remote\": ...\n}"
        os << "," << text.substr(1);
        return;
    }
    os << rest;
}

std::string inspectText(const Document &doc, bool withStats)
{
    std::ostringstream os;
    os << doc.path << "\n  format: " << formatName(doc.format) << " (" << doc.producer << ")\n";
    if (!doc.torchscript.forwardSignature.empty())
        os << "  forward: " << doc.torchscript.forwardSignature << "\n";
    if (!doc.modules.empty()) {
        os << "\nmodules:\n";
        for (const auto &m : doc.modules) {
            // Indent by depth, up to a point: a module nested thousands deep must not make
            // the text quadratic.
            const size_t depth =
                m.path.empty() ? 0 : 1 + static_cast<size_t>(std::count(m.path.begin(), m.path.end(), '.'));
            os << "  " << std::string(std::min<size_t>(depth, 32) * 2, ' ')
               << (m.path.empty() ? "(root)"
                                  : m.path.substr(m.path.rfind('.') == std::string::npos ? 0 : m.path.rfind('.') + 1))
               << "  " << m.className << "\n";
        }
    }
    os << "\ntensors:\n";
    std::map<std::string, uint64_t> bytesByDtype;
    std::vector<TensorStats> stats;
    constexpr size_t kBatch = 256;
    for (size_t i = 0; i < doc.entries.size(); ++i) {
        const TensorEntry &e = doc.entries[i];
        if (withStats && i % kBatch == 0)
            stats = computeStatsOfEntries(doc, i, std::min(doc.entries.size(), i + kBatch));
        const TensorInfo &t = doc.tensors[static_cast<size_t>(e.tensor)];
        bytesByDtype[dtypeName(t.dtype)] += t.nbytes();
        os << "  " << e.key << "  " << dtypeName(t.dtype) << " " << shapeText(t.shape);
        std::string dev(savedDevice(doc, t));
        if (!dev.empty() && dev != "cpu")
            os << " on " << dev;
        if (!t.error.empty())
            os << "  [error: " << t.error << "]";
        else if (withStats) {
            const TensorStats &st = stats[i % kBatch];
            if (st.ok) {
                char buf[160];
                std::snprintf(buf, sizeof buf, "  sum=%.6g min=%.4g max=%.4g mean=%.4g std=%.4g", st.sum, st.min,
                              st.max, st.mean, st.std);
                os << buf;
                if (st.nans || st.posInfs || st.negInfs)
                    os << " nan=" << st.nans << " inf=" << (st.posInfs + st.negInfs);
            }
        }
        os << "\n";
    }
    if (!doc.stateDicts.empty()) {
        os << "\nstate dicts:\n";
        for (const auto &s : doc.stateDicts)
            os << "  " << (s.empty() ? "(root)" : s) << "\n";
    }
    if (!doc.metadata.empty()) {
        os << "\nmetadata:\n";
        for (const auto &[k, v] : doc.metadata.items())
            os << "  " << k << " = " << jsonText(v) << "\n";
    }
    for (const auto &o : doc.optimizers)
        os << "  optimizer at " << o.path << ": " << o.type << ", " << o.paramGroups.size() << " param group(s)\n";
    for (const auto &g : doc.sharedStorageGroups()) {
        os << "  shared storage:";
        for (const auto &k : g)
            os << " " << k;
        os << "\n";
    }
    os << "\ntotal: " << doc.entries.size() << " tensors, " << formatCount(doc.parameterCount()) << " elements";
    for (const auto &[dtype, bytes] : bytesByDtype)
        os << ", " << formatBytes(bytes) << " " << dtype;
    os << "\nsecurity: " << doc.security.verdict << ": " << securitySummary(doc.security) << "\n";
    if (doc.remote)
        os << "remote: " << remoteText(doc) << "\n";
    for (const auto &w : doc.warnings)
        os << "warning: " << w << "\n";
    if (!doc.error.empty())
        os << "error: " << doc.error << "\n";
    return os.str();
}

std::string scanText(const Document &doc)
{
    const SecurityReport &r = doc.security;
    std::ostringstream os;
    os << doc.path << ": " << r.verdict << ": " << securitySummary(r) << "\n";
    os << "  weights_only=True would load it: " << (r.weightsOnlyLoadable ? "yes" : "no") << "\n";
    // Each distinct global once, the dangerous ones first; --json keeps every use.
    struct Line {
        const GlobalUse *first = nullptr;
        size_t count = 0;
        bool called = false;
        bool dangerous = false;
    };
    std::vector<Line> lines;
    std::map<std::string, size_t> byName;
    size_t plumbing = 0;
    for (const auto &g : r.globals) {
        if (g.category == "tensor") {
            plumbing += g.count;
            continue;
        }
        auto [it, inserted] = byName.emplace(g.name, lines.size());
        if (inserted)
            lines.push_back({&g});
        Line &l = lines[it->second];
        l.count += g.count;
        l.called = l.called || g.called;
        l.dangerous = l.dangerous || g.category == "dangerous";
        if (g.category == "dangerous" && l.first->category != "dangerous")
            l.first = &g;
    }
    std::stable_sort(lines.begin(), lines.end(),
                     [](const Line &a, const Line &b) { return a.dangerous > b.dangerous; });
    for (const auto &l : lines) {
        const GlobalUse &g = *l.first;
        os << "  " << (l.dangerous ? "DANGER " : "       ") << printable(g.name) << "  "
           << (l.called ? "called" : "referenced")
           << (l.count > 1 ? " " + std::to_string(l.count) + " times" : std::string()) << ", first in "
           << printable(g.member) << " at byte " << g.offset << "\n          " << g.reason << "\n";
    }
    if (plumbing)
        os << "  (" << plumbing << " uses of tensor rebuild functions that weights_only=True allows are not listed)\n";
    for (const auto &f : r.findings)
        os << "  - " << f << "\n";
    const auto advice = safeGlobalsAdvice(r);
    if (!advice.empty()) {
        os << "\nTo load it with torch.load(weights_only=True), the default since PyTorch 2.6, once you trust "
              "these classes:\n";
        for (const auto &a : advice)
            os << "    " << a << "\n";
    }
    return os.str();
}

std::string markdownCell(const std::string &text)
{
    std::string out;
    for (char c : text)
        out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

std::string inspectMarkdown(const Document &doc)
{
    auto cell = markdownCell;
    std::ostringstream os;
    const std::string name = doc.path.substr(doc.path.rfind('/') == std::string::npos ? 0 : doc.path.rfind('/') + 1);
    os << "# " << name << "\n\n";
    os << "- format: " << formatName(doc.format) << " (" << doc.producer << ")\n";
    os << "- tensors: " << doc.entries.size() << ", " << formatCount(doc.parameterCount()) << " elements\n";
    if (!doc.torchscript.forwardSignature.empty())
        os << "- forward: `" << doc.torchscript.forwardSignature << "`\n";
    for (const auto &s : doc.stateDicts)
        os << "- state dict: `" << (s.empty() ? "(root)" : s) << "`\n";
    os << "- security: **" << doc.security.verdict << "**: " << securitySummary(doc.security) << "\n";
    if (!doc.modules.empty()) {
        os << "\n## Modules\n\n| path | class |\n|---|---|\n";
        for (const auto &m : doc.modules)
            os << "| " << cell(m.path.empty() ? "(root)" : m.path) << " | " << cell(m.className) << " |\n";
    }
    os << "\n## Tensors\n\n| key | dtype | shape | saved on | size |\n|---|---|---|---|---|\n";
    for (const auto &e : doc.entries) {
        const TensorInfo &t = doc.tensors[static_cast<size_t>(e.tensor)];
        os << "| " << cell(e.key) << " | " << dtypeName(t.dtype) << " | " << shapeText(t.shape) << " | "
           << savedDevice(doc, t) << " | " << formatBytes(t.nbytes()) << (t.error.empty() ? "" : " (unreadable)")
           << " |\n";
    }
    if (!doc.metadata.empty()) {
        os << "\n## Metadata\n\n| key | value |\n|---|---|\n";
        for (const auto &[k, v] : doc.metadata.items())
            os << "| " << cell(k) << " | " << cell(jsonText(v)) << " |\n";
    }
    os << "\n## Security\n\n| global | category | called |\n|---|---|---|\n";
    for (const auto &g : doc.security.globals)
        os << "| " << cell(g.name) << " | " << g.category << " | " << (g.called ? "yes" : "no") << " |\n";
    for (const auto &f : doc.security.findings)
        os << "\n- " << f;
    os << "\n";
    return os.str();
}

} // namespace te
