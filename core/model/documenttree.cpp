#include "documenttree.h"
#include "securityscanner.h"
#include "valuejson.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace te {

const char *nodeKindName(NodeKind k)
{
    switch (k) {
    case NodeKind::Root: return "file";
    case NodeKind::Group: return "group";
    case NodeKind::Module: return "module";
    case NodeKind::StateDict: return "state dict";
    case NodeKind::Parameter: return "parameter";
    case NodeKind::Buffer: return "buffer";
    case NodeKind::Tensor: return "tensor";
    case NodeKind::Value: return "value";
    case NodeKind::Object: return "object";
    }
    return "?";
}

namespace {

class TreeBuilder {
public:
    explicit TreeBuilder(const Document &doc) : m_doc(doc)
    {
        m_root = std::make_unique<TreeNode>();
        m_root->kind = NodeKind::Root;
        m_root->name = doc.path.substr(doc.path.rfind('/') == std::string::npos ? 0 : doc.path.rfind('/') + 1);
        m_index[""] = m_root.get();
        for (const auto &m : doc.modules) {
            m_moduleClass[m.path] = m.className;
            for (const auto &p : m.parameters)
                m_parameterKeys.insert(m.path.empty() ? p : m.path + "." + p);
            for (const auto &b : m.buffers)
                m_bufferKeys.insert(m.path.empty() ? b : m.path + "." + b);
        }
        for (const auto &s : doc.stateDicts)
            m_stateDicts.insert(s);
    }

    std::unique_ptr<TreeNode> build()
    {
        if (m_moduleClass.count("")) {
            m_root->kind = NodeKind::Module;
            m_root->className = m_moduleClass[""];
        }
        // Modules in their order, each with its own parameters and buffers before its
        // children (the state_dict() order), so a module without tensors (ReLU) still shows.
        for (const auto &m : m_doc.modules) {
            if (!m.path.empty())
                node(m.path);
            for (const auto &p : m.parameters)
                node(m.path.empty() ? p : m.path + "." + p);
            for (const auto &b : m.buffers)
                node(m.path.empty() ? b : m.path + "." + b);
        }
        for (const auto &e : m_doc.entries) {
            TreeNode *n = node(e.key);
            const TensorInfo &t = m_doc.tensors[static_cast<size_t>(e.tensor)];
            n->tensor = e.tensor;
            n->kind = m_parameterKeys.count(e.key) || t.isParameter ? NodeKind::Parameter
                      : m_bufferKeys.count(e.key)                     ? NodeKind::Buffer
                                                                      : NodeKind::Tensor;
            n->elements = t.numel() > 0 ? static_cast<uint64_t>(t.numel()) : 0;
            n->bytes = t.nbytes();
            n->tensorCount = 1;
            n->hasError = !t.error.empty();
            if (t.storage >= 0)
                n->device = m_doc.storages[static_cast<size_t>(t.storage)].location;
        }
        for (const auto &o : m_doc.objects) {
            TreeNode *n = node(o.key);
            if (n->tensor < 0 && n->kind != NodeKind::Module && n->kind != NodeKind::StateDict) {
                n->kind = NodeKind::Object;
                n->className = o.className;
                n->valueText = o.text;
                size_t dot = o.className.rfind('.');
                n->hasError = dot != std::string::npos &&
                              classifyGlobal(o.className.substr(0, dot), o.className.substr(dot + 1), false).category ==
                                  "dangerous";
            }
        }
        for (const auto &[key, value] : m_doc.metadata.items()) {
            TreeNode *n = node(key);
            if (n->children.empty() && n->tensor < 0) {
                n->kind = NodeKind::Value;
                n->valueText = value.is_string() ? value.get<std::string>() : jsonText(value);
            }
        }
        total(m_root.get());
        return std::move(m_root);
    }

private:
    TreeNode *node(const std::string &key)
    {
        auto it = m_index.find(key);
        if (it != m_index.end())
            return it->second;
        size_t dot = key.rfind('.');
        TreeNode *parent = dot == std::string::npos ? m_root.get() : node(key.substr(0, dot));
        auto n = std::make_unique<TreeNode>();
        n->name = dot == std::string::npos ? key : key.substr(dot + 1);
        n->key = key;
        n->parent = parent;
        auto cls = m_moduleClass.find(key);
        if (cls != m_moduleClass.end()) {
            n->kind = NodeKind::Module;
            n->className = cls->second;
        } else if (m_stateDicts.count(key)) {
            n->kind = NodeKind::StateDict;
        }
        TreeNode *raw = n.get();
        n->rowInParent = static_cast<int>(parent->children.size());
        parent->children.push_back(std::move(n));
        m_index[key] = raw;
        return raw;
    }

    static void total(TreeNode *n)
    {
        if (n->children.empty())
            return;
        std::set<std::string> devices;
        for (auto &c : n->children) {
            total(c.get());
            n->elements += c->elements;
            n->bytes += c->bytes;
            n->tensorCount += c->tensorCount;
            n->hasError = n->hasError || c->hasError;
            if (!c->device.empty())
                devices.insert(c->device);
        }
        if (devices.size() == 1)
            n->device = *devices.begin();
        else if (devices.size() > 1)
            n->device = "mixed";
    }

    const Document &m_doc;
    std::unique_ptr<TreeNode> m_root;
    std::unordered_map<std::string, TreeNode *> m_index;
    std::map<std::string, std::string> m_moduleClass;
    std::set<std::string> m_parameterKeys, m_bufferKeys, m_stateDicts;
};

void printNode(const TreeNode &n, int depth, int maxDepth, std::string &out)
{
    out += std::string(static_cast<size_t>(depth) * 2, ' ') + n.name + " [" + nodeKindName(n.kind) + "]";
    if (!n.className.empty())
        out += " " + n.className;
    if (n.tensorCount)
        out += " " + std::to_string(n.elements) + " el";
    if (!n.valueText.empty())
        out += " = " + n.valueText;
    out += "\n";
    if (depth < maxDepth)
        for (const auto &c : n.children)
            printNode(*c, depth + 1, maxDepth, out);
}

} // namespace

std::unique_ptr<TreeNode> buildDocumentTree(const Document &doc)
{
    return TreeBuilder(doc).build();
}

std::string printTree(const TreeNode &root, int maxDepth)
{
    std::string out;
    printNode(root, 0, maxDepth, out);
    return out;
}

} // namespace te
