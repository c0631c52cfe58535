#pragma once
// The document as the tree a user browses: keys split at their dots, module and state
// dict nodes marked, totals (elements, bytes) for every subtree. Plain C++ so the Qt
// model only wraps it.
#include "core/document/document.h"

#include <memory>
#include <string>
#include <vector>

namespace te {

enum class NodeKind { Root, Group, Module, StateDict, Parameter, Buffer, Tensor, Value, Object };
const char *nodeKindName(NodeKind k);

struct TreeNode {
    std::string name;
    std::string key;        // full dotted key
    NodeKind kind = NodeKind::Group;
    std::string className;  // modules
    std::string valueText;  // scalar values
    int tensor = -1;        // Document::tensors index for tensor leaves
    uint64_t elements = 0;  // subtree totals
    uint64_t bytes = 0;
    uint64_t tensorCount = 0;
    std::string device;     // saved device of a tensor, or of all tensors below when they agree
    bool hasError = false;
    TreeNode *parent = nullptr;
    int rowInParent = 0;
    std::vector<std::unique_ptr<TreeNode>> children;

    TreeNode() = default;
    TreeNode(const TreeNode &) = delete;
    TreeNode &operator=(const TreeNode &) = delete;
    // Frees the subtree without recursing once per level: a checkpoint may nest thousands.
    ~TreeNode();

    int row() const { return rowInParent; }
};

std::unique_ptr<TreeNode> buildDocumentTree(const Document &doc);
// The tree as indented text, one node a line (tests compare trees this way).
std::string printTree(const TreeNode &root, int maxDepth = 64);

} // namespace te
