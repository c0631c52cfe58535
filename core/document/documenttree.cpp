#include "core/document/documenttree.h"
#include "core/security/securityscanner.h"
#include "core/report/valuejson.h"

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
    // The node of a dotted key, made with its missing ancestors, going down from the root
    // one name at a time: linear in the key's length, however deep it nests. A prefix that
    // ends at the very start of the key (".x") is the root, as for any empty prefix.
    TreeNode *node(const std::string &key)
    {
        TreeNode *parent = m_root.get();
        size_t start = 0; // where the parent's part of the key ends
        for (size_t dot = key.find('.', 1); !key.empty(); dot = key.find('.', dot + 1)) {
            size_t end = dot == std::string::npos ? key.size() : dot;
            TreeNode *next = find(parent, key, start, end);
            if (!next) {
                // Past the byte budget, the rest of a long key is one node.
                if (m_keyBytes + end > kMaxKeyBytes)
                    end = key.size();
                next = find(parent, key, start, end);
                if (!next)
                    next = make(parent, key, start, end);
            }
            parent = next;
            if (end == key.size())
                break;
            start = end + 1;
        }
        return parent;
    }

    // The child of parent for key[0, end), whose own part of the key starts at `start`.
    TreeNode *find(const TreeNode *parent, const std::string &key, size_t start, size_t end) const
    {
        auto it = m_children.find({parent, key.substr(start, end - start)});
        return it == m_children.end() ? nullptr : it->second;
    }

    TreeNode *make(TreeNode *parent, const std::string &key, size_t start, size_t end)
    {
        auto n = std::make_unique<TreeNode>();
        const size_t nameStart = start == 0 && key[0] == '.' && end > 0 ? 1 : start;
        n->name = key.substr(nameStart, end - nameStart);
        n->key = key.substr(0, end);
        n->parent = parent;
        m_keyBytes += end;
        auto cls = m_moduleClass.find(n->key);
        if (cls != m_moduleClass.end()) {
            n->kind = NodeKind::Module;
            n->className = cls->second;
        } else if (m_stateDicts.count(n->key)) {
            n->kind = NodeKind::StateDict;
        }
        TreeNode *raw = n.get();
        n->rowInParent = static_cast<int>(parent->children.size());
        parent->children.push_back(std::move(n));
        m_children.emplace(std::make_pair(parent, key.substr(start, end - start)), raw);
        return raw;
    }

    // Subtree totals, children before parents, without recursion.
    static void total(TreeNode *root)
    {
        std::vector<TreeNode *> order{root};
        for (size_t i = 0; i < order.size(); ++i)
            for (auto &c : order[i]->children)
                order.push_back(c.get());
        for (size_t i = order.size(); i-- > 0;) {
            TreeNode *n = order[i];
            if (n->children.empty())
                continue;
            std::set<std::string> devices;
            for (auto &c : n->children) {
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
    }

    struct ChildHash {
        size_t operator()(const std::pair<const TreeNode *, std::string> &id) const
        {
            return std::hash<std::string>()(id.second) ^ (std::hash<const void *>()(id.first) * 31);
        }
    };

    // Every node stores its whole key, so a chain n levels deep costs n squared bytes.
    static constexpr uint64_t kMaxKeyBytes = uint64_t(64) << 20;

    const Document &m_doc;
    std::unique_ptr<TreeNode> m_root;
    std::unordered_map<std::pair<const TreeNode *, std::string>, TreeNode *, ChildHash> m_children;
    uint64_t m_keyBytes = 0;
    std::map<std::string, std::string> m_moduleClass;
    std::set<std::string> m_parameterKeys, m_bufferKeys, m_stateDicts;
};

void printNode(const TreeNode &n, int depth, std::string &out)
{
    out += std::string(static_cast<size_t>(depth) * 2, ' ') + n.name + " [" + nodeKindName(n.kind) + "]";
    if (!n.className.empty())
        out += " " + n.className;
    if (n.tensorCount)
        out += " " + std::to_string(n.elements) + " el";
    if (!n.valueText.empty())
        out += " = " + n.valueText;
    out += "\n";
}

} // namespace

std::unique_ptr<TreeNode> buildDocumentTree(const Document &doc)
{
    return TreeBuilder(doc).build();
}

TreeNode::~TreeNode()
{
    std::vector<std::unique_ptr<TreeNode>> pending = std::move(children);
    while (!pending.empty()) {
        std::unique_ptr<TreeNode> n = std::move(pending.back());
        pending.pop_back();
        for (auto &c : n->children)
            pending.push_back(std::move(c));
        n->children.clear();
    }
}

std::string printTree(const TreeNode &root, int maxDepth)
{
    std::string out;
    std::vector<std::pair<const TreeNode *, int>> pending{{&root, 0}};
    while (!pending.empty()) {
        auto [n, depth] = pending.back();
        pending.pop_back();
        printNode(*n, depth, out);
        if (depth < maxDepth)
            for (size_t i = n->children.size(); i-- > 0;)
                pending.push_back({n->children[i].get(), depth + 1});
    }
    return out;
}

} // namespace te
