#include "core/document/documenttree.h"
#include "core/report/valuejson.h"
#include "core/security/securityscanner.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
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

const std::string &emptyString()
{
    static const std::string none;
    return none;
}

} // namespace

std::string_view TreeNode::name() const
{
    if (!parent)
        return m_text && m_text->blocks ? std::string_view(m_text->blocks->rootName) : std::string_view();
    return key.substr(m_nameStart);
}

const std::string &TreeNode::className() const { return m_text ? m_text->className : emptyString(); }
const std::string &TreeNode::valueText() const { return m_text ? m_text->valueText : emptyString(); }
const std::string &TreeNode::device() const { return m_device ? *m_device : emptyString(); }

TreeNode::Text &TreeNode::text()
{
    if (!m_text)
        m_text = std::make_unique<Text>();
    return *m_text;
}

class TreeBuilder {
public:
    explicit TreeBuilder(const Document &doc)
        : m_doc(doc)
    {
        m_root = std::make_unique<TreeNode>();
        m_root->kind = NodeKind::Root;
        m_root->text().blocks = std::make_unique<TreeNode::Blocks>();
        m_root->blocks().rootName =
            doc.path.substr(doc.path.rfind('/') == std::string::npos ? 0 : doc.path.rfind('/') + 1);
        for (const auto &m : doc.modules) {
            m_moduleClass[m.path] = m.className;
            for (const auto &p : m.parameters)
                m_parameterKeys.insert(m.path.empty() ? p : m.path + "." + p);
            for (const auto &b : m.buffers)
                m_bufferKeys.insert(m.path.empty() ? b : m.path + "." + b);
        }
        for (const auto &s : doc.stateDicts)
            m_stateDicts.insert(s);
        // Room for about a node per key without growing (a key has a node per part, but
        // most parts are shared with the key before).
        size_t slots = 64;
        while (slots < 4 * (doc.entries.size() + doc.objects.size()))
            slots *= 2;
        m_slots.assign(slots, nullptr);
    }

    std::unique_ptr<TreeNode> build()
    {
        if (m_moduleClass.count("")) {
            m_root->kind = NodeKind::Module;
            m_root->text().className = m_moduleClass[""];
        }
        // Modules in their order, each with its own parameters and buffers before its
        // children (the state_dict() order), so a module without tensors (ReLU) still shows.
        for (const auto &m : m_doc.modules) {
            if (!m.path.empty())
                node(m.path, Lasting);
            for (const auto &p : m.parameters)
                node(m.path.empty() ? p : m.path + "." + p);
            for (const auto &b : m.buffers)
                node(m.path.empty() ? b : m.path + "." + b);
        }
        for (const auto &e : m_doc.entries) {
            TreeNode *n = node(e.key, Lasting);
            const TensorInfo &t = m_doc.tensors[static_cast<size_t>(e.tensor)];
            n->tensor = e.tensor;
            n->kind = m_parameterKeys.count(e.key) || t.isParameter ? NodeKind::Parameter
                      : m_bufferKeys.count(e.key)                   ? NodeKind::Buffer
                                                                    : NodeKind::Tensor;
            n->elements = t.numel() > 0 ? static_cast<uint64_t>(t.numel()) : 0;
            n->bytes = t.nbytes();
            n->tensorCount = 1;
            n->hasError = !t.error.empty();
            if (t.storage >= 0)
                n->m_device = device(m_doc.storages[static_cast<size_t>(t.storage)].location);
        }
        for (const auto &o : m_doc.objects) {
            TreeNode *n = node(o.key, Lasting);
            if (n->tensor < 0 && n->kind != NodeKind::Module && n->kind != NodeKind::StateDict) {
                n->kind = NodeKind::Object;
                n->text().className = o.className;
                n->text().valueText = o.text;
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
                n->text().valueText = value.is_string() ? value.get<std::string>() : jsonText(value);
            }
        }
        total(m_root.get());
        return std::move(m_root);
    }

private:
    // The node of a dotted key, made with its missing ancestors, going down from the root
    // one name at a time: linear in the key's length, however deep it nests. A prefix that
    // ends at the very start of the key (".x") is the root, as for any empty prefix.
    // Keys arrive mostly in order, so the path of the previous key is tried first.
    // A key of the document itself outlasts the tree (see buildDocumentTree), so new nodes
    // can refer to it; any other key is copied into the root's blocks.
    enum KeyLife { Passing, Lasting };
    TreeNode *node(const std::string &key, KeyLife life = Passing)
    {
        std::string_view stored; // the key where it stays, once a node needs it
        TreeNode *parent = m_root.get();
        size_t start = 0; // where the parent's part of the key ends
        size_t depth = 0;
        bool made = false; // parent was just made, so it has no children to find
        for (size_t dot = key.find('.', 1); !key.empty(); dot = key.find('.', dot + 1)) {
            size_t end = dot == std::string::npos ? key.size() : dot;
            TreeNode *next = nullptr;
            if (depth < m_path.size() && m_path[depth]->parent == parent &&
                part(*m_path[depth]) == std::string_view(key).substr(start, end - start))
                next = m_path[depth];
            else if (!made)
                next = find(parent, std::string_view(key).substr(start, end - start));
            made = false;
            if (!next) {
                // Past the byte budget, the rest of a long key is one node.
                if (m_keyBytes + end > kMaxKeyBytes && end != key.size()) {
                    end = key.size();
                    if (!made)
                        next = find(parent, std::string_view(key).substr(start, end - start));
                }
                made = !next;
                if (!next) {
                    if (stored.empty())
                        stored = life == Lasting ? std::string_view(key) : store(key);
                    next = make(parent, stored, start, end);
                }
            }
            if (depth >= m_path.size() || m_path[depth] != next) {
                m_path.resize(depth);
                m_path.push_back(next);
            }
            ++depth;
            parent = next;
            if (end == key.size())
                break;
            start = end + 1;
        }
        return parent;
    }

    // A node's own part of its key: what its parent finds it by.
    static std::string_view part(const TreeNode &n)
    {
        return n.key.substr(n.parent == nullptr || n.parent->parent == nullptr ? 0 : n.parent->key.size() + 1);
    }

    // Children by parent and part of the key, open addressing: a slot is the node itself,
    // which knows both (no entry per node besides).
    static size_t hashOf(const TreeNode *parent, std::string_view part)
    {
        return std::hash<std::string_view>()(part) ^ (std::hash<const void *>()(parent) * 31);
    }

    TreeNode *find(const TreeNode *parent, std::string_view name) const
    {
        if (m_slots.empty())
            return nullptr;
        const size_t mask = m_slots.size() - 1;
        for (size_t at = hashOf(parent, name) & mask;; at = (at + 1) & mask) {
            TreeNode *n = m_slots[at];
            if (!n)
                return nullptr;
            if (n->parent == parent && part(*n) == name)
                return n;
        }
    }

    void index(TreeNode *n)
    {
        if ((m_indexed + 1) * 2 > m_slots.size()) {
            std::vector<TreeNode *> old(std::max<size_t>(64, m_slots.size() * 2), nullptr);
            old.swap(m_slots);
            m_indexed = 0;
            for (TreeNode *o : old)
                if (o)
                    index(o);
        }
        const size_t mask = m_slots.size() - 1;
        size_t at = hashOf(n->parent, part(*n)) & mask;
        while (m_slots[at])
            at = (at + 1) & mask;
        m_slots[at] = n;
        ++m_indexed;
    }

    // A copy of a key in the root's blocks, which never move.
    std::string_view store(const std::string &key)
    {
        TreeNode::Blocks &b = m_root->blocks();
        if (b.keys.empty() || b.keysCapacity - b.keysUsed < key.size()) {
            b.keysCapacity = std::max(kKeyBlock, key.size());
            b.keys.push_back(std::make_unique<char[]>(b.keysCapacity));
            b.keysUsed = 0;
        }
        char *at = b.keys.back().get() + b.keysUsed;
        std::copy(key.begin(), key.end(), at);
        b.keysUsed += key.size();
        return {at, key.size()};
    }

    TreeNode *allocate()
    {
        TreeNode::Blocks &b = m_root->blocks();
        if (b.nodes.empty() || b.nodesUsed == kNodeBlock) {
            b.nodes.push_back(std::make_unique<TreeNode[]>(kNodeBlock));
            b.nodesUsed = 0;
        }
        return &b.nodes.back()[b.nodesUsed++];
    }

    TreeNode *make(TreeNode *parent, std::string_view key, size_t start, size_t end)
    {
        TreeNode *n = allocate();
        const size_t nameStart = start == 0 && key[0] == '.' && end > 0 ? 1 : start;
        n->key = key.substr(0, end);
        n->m_nameStart = static_cast<uint32_t>(nameStart);
        n->parent = parent;
        m_keyBytes += end;
        auto cls = m_moduleClass.find(n->key);
        if (cls != m_moduleClass.end()) {
            n->kind = NodeKind::Module;
            n->text().className = cls->second;
        } else if (m_stateDicts.count(n->key)) {
            n->kind = NodeKind::StateDict;
        }
        n->rowInParent = static_cast<int>(parent->children.size());
        parent->children.push_back(n);
        index(n);
        return n;
    }

    // One string per distinct device, kept by the root.
    const std::string *device(std::string_view name)
    {
        auto it = m_devices.find(name);
        if (it != m_devices.end())
            return it->second;
        std::deque<std::string> &all = m_root->blocks().devices;
        all.emplace_back(name);
        m_devices.emplace(all.back(), &all.back());
        return &all.back();
    }

    // Subtree totals, children before parents, without recursion.
    void total(TreeNode *root)
    {
        std::vector<TreeNode *> order{root};
        for (size_t i = 0; i < order.size(); ++i)
            for (TreeNode *c : order[i]->children)
                order.push_back(c);
        const std::string *mixed = nullptr;
        for (size_t i = order.size(); i-- > 0;) {
            TreeNode *n = order[i];
            if (n->children.empty())
                continue;
            const std::string *common = nullptr;
            bool several = false;
            for (const TreeNode *c : n->children) {
                n->elements += c->elements;
                n->bytes += c->bytes;
                n->tensorCount += c->tensorCount;
                n->hasError = n->hasError || c->hasError;
                // Device names are interned: the same name is the same pointer.
                if (c->m_device && !c->m_device->empty()) {
                    several = several || (common && common != c->m_device);
                    common = c->m_device;
                }
            }
            if (several) {
                if (!mixed)
                    mixed = device("mixed");
                n->m_device = mixed;
            } else {
                n->m_device = common;
            }
        }
    }

    // Every node's key is whole (a view, but whoever shows or looks up keys reads it all),
    // so a chain n levels deep costs n squared bytes of work.
    static constexpr uint64_t kMaxKeyBytes = uint64_t(64) << 20;
    static constexpr size_t kNodeBlock = 4096;
    static constexpr size_t kKeyBlock = size_t(1) << 20;

    const Document &m_doc;
    std::unique_ptr<TreeNode> m_root;
    std::vector<TreeNode *> m_slots; // see find()
    size_t m_indexed = 0;
    std::vector<TreeNode *> m_path; // the nodes of the previous key, from the root's child down
    std::unordered_map<std::string_view, const std::string *> m_devices;
    uint64_t m_keyBytes = 0;
    std::map<std::string, std::string, std::less<>> m_moduleClass;
    std::set<std::string, std::less<>> m_parameterKeys, m_bufferKeys, m_stateDicts;
};

namespace {

void printNode(const TreeNode &n, int depth, std::string &out)
{
    out += std::string(static_cast<size_t>(depth) * 2, ' ');
    out += n.name();
    out += std::string(" [") + nodeKindName(n.kind) + "]";
    if (!n.className().empty())
        out += " " + n.className();
    if (n.tensorCount)
        out += " " + std::to_string(n.elements) + " el";
    if (!n.valueText().empty())
        out += " = " + n.valueText();
    out += "\n";
}

} // namespace

std::unique_ptr<TreeNode> buildDocumentTree(const Document &doc) { return TreeBuilder(doc).build(); }

TreeNode::~TreeNode() = default;

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
                pending.push_back({n->children[i], depth + 1});
    }
    return out;
}

} // namespace te
