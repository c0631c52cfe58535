#include "valuejson.h"
#include "documentanalyzer.h"

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
        const std::string &loc = doc.storages[static_cast<size_t>(t.storage)].location;
        if (loc != "cpu")
            s += " on " + loc;
    }
    return s;
}

nlohmann::ordered_json valueToJson(const Document &doc, const Value *v, int depth)
{
    using J = nlohmann::ordered_json;
    if (!v)
        return nullptr;
    switch (v->kind) {
    case ValueKind::None: return nullptr;
    case ValueKind::Bool: return v->boolean;
    case ValueKind::Int: return v->integer;
    case ValueKind::BigInt: return v->text;
    case ValueKind::Float:
        if (std::isfinite(v->real))
            return v->real;
        return std::isnan(v->real) ? "nan" : (v->real > 0 ? "inf" : "-inf");
    case ValueKind::String: return v->text;
    case ValueKind::Bytes: return "<" + std::to_string(v->text.size()) + " bytes>";
    case ValueKind::Global: return v->globalName();
    case ValueKind::Tensor: return tensorSummary(doc, doc.tensors[static_cast<size_t>(v->integer)]);
    case ValueKind::Storage: return "<storage>";
    case ValueKind::Mark: return "<mark>";
    case ValueKind::List: case ValueKind::Tuple: case ValueKind::Set: case ValueKind::FrozenSet: {
        if (depth <= 0)
            return "<" + std::to_string(v->items.size()) + " items>";
        J a = J::array();
        size_t n = 0;
        for (const Value *i : v->items) {
            if (++n > 64) {
                a.push_back("... " + std::to_string(v->items.size() - 64) + " more");
                break;
            }
            a.push_back(valueToJson(doc, i, depth - 1));
        }
        return a;
    }
    case ValueKind::Dict: {
        if (depth <= 0)
            return "<" + std::to_string(v->entries.size()) + " entries>";
        J o = J::object();
        size_t n = 0;
        for (const auto &[k, val] : v->entries) {
            if (++n > 64) {
                o["..."] = std::to_string(v->entries.size() - 64) + " more";
                break;
            }
            o[keyText(k)] = valueToJson(doc, val, depth - 1);
        }
        return o;
    }
    case ValueKind::Object: case ValueKind::Call: {
        std::string cls = v->callee && v->callee->kind == ValueKind::Global ? v->callee->globalName() : "?";
        // Small calls that just wrap a value (torch.Size, torch.device) read best inline.
        if (v->kind == ValueKind::Call && v->args && v->args->items.size() <= 2 && depth > 0) {
            std::string s = cls + "(";
            for (size_t i = 0; i < v->args->items.size(); ++i)
                s += (i ? ", " : "") + jsonText(valueToJson(doc, v->args->items[i], 0));
            return s + ")";
        }
        if (depth <= 0 || !v->state)
            return "<" + cls + ">";
        J o = J::object();
        o["__class__"] = cls;
        J state = valueToJson(doc, v->state, depth - 1);
        if (state.is_object())
            for (auto &[k, val] : state.items())
                o[k] = val;
        else
            o["__state__"] = state;
        return o;
    }
    }
    return nullptr;
}

} // namespace te
