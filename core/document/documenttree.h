#pragma once
// The document as the tree a user browses: keys split at their dots, module and state
// dict nodes marked, totals (elements, bytes) for every subtree. Plain C++ so the Qt
// model only wraps it. A checkpoint of a hundred thousand tensors makes a quarter of a
// million nodes, so a node keeps only a view of its key and its totals; the rest is shared
// or held by the few nodes that have it. The root owns every node, in blocks. A node's key
// is a prefix of the first key that reached it: a key of the document (a tensor's, an
// object's, a module's path), or a copy in the root's blocks for keys made on the way.
#include "core/document/document.h"
#include "core/pickle/compactvector.h"

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace te {

enum class NodeKind : uint8_t { Root, Group, Module, StateDict, Parameter, Buffer, Tensor, Value, Object };
const char *nodeKindName(NodeKind k);

struct TreeNode {
    std::string_view key;               // full dotted key, held by the root
    CompactVector<TreeNode *> children; // held by the root
    TreeNode *parent = nullptr;
    uint64_t elements = 0; // subtree totals
    uint64_t bytes = 0;
    uint32_t tensorCount = 0;
    int tensor = -1; // Document::tensors index for tensor leaves
    int rowInParent = 0;
    NodeKind kind = NodeKind::Group;
    bool hasError = false;

    TreeNode() = default;
    TreeNode(const TreeNode &) = delete;
    TreeNode &operator=(const TreeNode &) = delete;
    // The root frees the whole tree in blocks, never recursing: a checkpoint may nest
    // thousands of levels.
    ~TreeNode();

    int row() const { return rowInParent; }
    // The last part of the key (the file's name for the root).
    std::string_view name() const;
    const std::string &className() const; // modules and objects
    const std::string &valueText() const; // scalar values and objects
    // The saved device of a tensor, or of all tensors below when they agree ("mixed" when
    // not); empty when there are none.
    const std::string &device() const;

private:
    friend class TreeBuilder;
    // What the root has: its own name, the device names that every node's device points
    // into, and the blocks of nodes and of key bytes.
    struct Blocks {
        std::string rootName;
        std::deque<std::string> devices;
        std::vector<std::unique_ptr<TreeNode[]>> nodes;
        size_t nodesUsed = 0; // in the last block
        std::vector<std::unique_ptr<char[]>> keys;
        size_t keysUsed = 0, keysCapacity = 0; // in the last block
    };
    // What only some nodes have: a class, a value; the root's blocks.
    struct Text {
        std::string className, valueText;
        std::unique_ptr<Blocks> blocks;
    };
    Text &text();
    Blocks &blocks() { return *text().blocks; }

    uint32_t m_nameStart = 0;              // name(): key from here on
    const std::string *m_device = nullptr; // in the root's Text::devices
    std::unique_ptr<Text> m_text;
};

// The tree refers to the document's keys: keep the document as long as the tree is used.
std::unique_ptr<TreeNode> buildDocumentTree(const Document &doc);
// The tree as indented text, one node a line (tests compare trees this way).
std::string printTree(const TreeNode &root, int maxDepth = 64);

} // namespace te
