#include "core/report/valuejson.h"
#include "core/document/documentanalyzer.h"

#include <algorithm>
#include <cmath>

namespace te {

std::string shapeText(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string jsonText(const nlohmann::ordered_json &j, int indent)
{
    return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string tensorSummary(const Document &doc, const TensorInfo &t)
{
    std::string s = std::string("tensor ") + dtypeName(t.dtype) + " " + shapeText(t.shape);
    if (t.storage >= 0) {
        const std::string_view loc = doc.storages[static_cast<size_t>(t.storage)].location;
        if (loc != "cpu")
            s += " on " + std::string(loc);
    }
    return s;
}

JsonObjectFiller::JsonObjectFiller(nlohmann::ordered_json &object)
    : m_object(object)
{
    if (!m_object.is_object())
        m_object = nlohmann::ordered_json::object();
    size_t i = 0;
    for (const auto &[k, v] : m_object.items())
        m_index.emplace(k, i++);
}

void JsonObjectFiller::set(const std::string &key, nlohmann::ordered_json value)
{
    // ordered_json's object is a vector of pairs underneath; appending to the vector skips
    // the linear search, and m_index keeps keys unique instead.
    auto &members = static_cast<nlohmann::ordered_json::object_t::Container &>(
        m_object.get_ref<nlohmann::ordered_json::object_t &>());
    auto [it, added] = m_index.emplace(key, members.size());
    if (added)
        members.emplace_back(key, std::move(value));
    else
        members[it->second].second = std::move(value);
}

namespace {

using J = nlohmann::ordered_json;

// Containers deeper than this are summarised whatever the caller asks, so the recursion
// below stays a few frames deep; no display needs more.
constexpr int kMaxRenderDepth = 8;
// Items shown per container; the rest are counted.
constexpr size_t kMaxItems = 64;

class Renderer {
public:
    Renderer(const Document &doc, RenderBudget &budget)
        : m_doc(doc)
        , m_budget(budget)
    { }

    J render(const Value *v, int depth)
    {
        if (!v)
            return nullptr;
        if (m_budget.values == 0)
            return "...";
        --m_budget.values;
        switch (v->kind) {
        case ValueKind::None: return nullptr;
        case ValueKind::Bool: return v->boolean;
        case ValueKind::Int: return v->integer;
        case ValueKind::BigInt: return text(v->text);
        case ValueKind::Float:
            if (std::isfinite(v->real))
                return v->real;
            return std::isnan(v->real) ? "nan" : (v->real > 0 ? "inf" : "-inf");
        case ValueKind::String: return text(v->text);
        case ValueKind::Bytes: return "<" + std::to_string(v->text.size()) + " bytes>";
        case ValueKind::Global: return text(v->globalName());
        case ValueKind::Tensor: return tensorSummary(m_doc, m_doc.tensors[static_cast<size_t>(v->integer)]);
        case ValueKind::Storage: return "<storage>";
        case ValueKind::Mark: return "<mark>";
        case ValueKind::List:
        case ValueKind::Tuple:
        case ValueKind::Set:
        case ValueKind::FrozenSet: return sequence(v, depth);
        case ValueKind::Dict: return dict(v, depth);
        case ValueKind::Object:
        case ValueKind::Call: return object(v, depth);
        }
        return nullptr;
    }

private:
    // Text within the byte budget; what does not fit is cut and its length given.
    std::string text(const std::string &s)
    {
        if (s.size() <= m_budget.bytes) {
            m_budget.bytes -= s.size();
            return s;
        }
        std::string cut = s.substr(0, static_cast<size_t>(m_budget.bytes));
        m_budget.bytes = 0;
        return cut + "... (" + std::to_string(s.size()) + " bytes)";
    }

    J sequence(const Value *v, int depth)
    {
        if (depth <= 0)
            return "<" + std::to_string(v->items.size()) + " items>";
        J a = J::array();
        for (size_t i = 0; i < v->items.size(); ++i) {
            if (i == kMaxItems) {
                a.push_back("... " + std::to_string(v->items.size() - kMaxItems) + " more");
                break;
            }
            a.push_back(render(v->items[i], depth - 1));
        }
        return a;
    }

    J dict(const Value *v, int depth)
    {
        if (depth <= 0)
            return "<" + std::to_string(v->entries.size()) + " entries>";
        J o = J::object();
        JsonObjectFiller members(o);
        for (size_t i = 0; i < v->entries.size(); ++i) {
            if (i == kMaxItems) {
                members.set("...", std::to_string(v->entries.size() - kMaxItems) + " more");
                break;
            }
            const auto &[k, val] = v->entries[i];
            std::string key = text(keyText(k));
            members.set(key, render(val, depth - 1));
        }
        return o;
    }

    J object(const Value *v, int depth)
    {
        std::string cls = v->callee && v->callee->kind == ValueKind::Global ? text(v->callee->globalName()) : "?";
        // Small calls that just wrap a value (torch.Size, torch.device) read best inline.
        if (v->kind == ValueKind::Call && v->args && v->args->items.size() <= 2 && depth > 0) {
            std::string s = cls + "(";
            for (size_t i = 0; i < v->args->items.size(); ++i)
                s += (i ? ", " : "") + jsonText(render(v->args->items[i], 0));
            return s + ")";
        }
        if (depth <= 0 || !v->state)
            return "<" + cls + ">";
        J o = J::object();
        JsonObjectFiller members(o);
        members.set("__class__", cls);
        J state = render(v->state, depth - 1);
        if (state.is_object()) {
            for (auto &[k, val] : state.items())
                members.set(k, std::move(val));
        } else {
            members.set("__state__", std::move(state));
        }
        return o;
    }

    const Document &m_doc;
    RenderBudget &m_budget;
};

} // namespace

nlohmann::ordered_json valueToJson(const Document &doc, const Value *v, int depth, RenderBudget *budget)
{
    RenderBudget own;
    return Renderer(doc, budget ? *budget : own).render(v, std::min(depth, kMaxRenderDepth));
}

} // namespace te
