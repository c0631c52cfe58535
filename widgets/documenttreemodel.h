#pragma once
// The document tree of the main window: modules, state dicts, tensors and values with
// shape, dtype, element count, size and saved device, and totals for every subtree.
// It wraps a finished core tree and resets in one step when a new document arrives.
#include "core/document/document.h"
#include "core/document/documenttree.h"

#include <QAbstractItemModel>
#include <map>
#include <memory>
#include <unordered_set>

namespace te {

class DocumentTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column {
        NameColumn,
        KindColumn,
        ShapeColumn,
        DTypeColumn,
        ElementsColumn,
        SizeColumn,
        DeviceColumn,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // numbers as numbers
        KeyRole,                     // the full dotted key
        TensorRole,                  // index into Document::tensors, or -1
        KindRole,                    // NodeKind as int
    };

    explicit DocumentTreeModel(QObject *parent = nullptr);
    ~DocumentTreeModel() override;

    // Builds the tree here; the window passes one built on the loader's thread instead.
    void setDocument(std::shared_ptr<const Document> doc);
    void setDocument(std::shared_ptr<const Document> doc, std::shared_ptr<const TreeNode> tree);
    const std::shared_ptr<const Document> &document() const { return m_doc; }
    QModelIndex indexForKey(const QString &key) const;
    // Colours rows by what load_state_dict does with them (full keys -> "loaded", "cast",
    // "unexpected", "shape_mismatch"); empty clears.
    void setLoadStatus(std::map<std::string, std::string> status);

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    const TreeNode *node(const QModelIndex &index) const;
    QVariant display(const TreeNode &n, int column) const;
    QVariant sortValue(const TreeNode &n, int column) const;

    // dataChanged for the rows under `parent` whose key is in `changed`, a range per run of
    // neighbours, at every depth.
    void emitChanged(const TreeNode &parent, const QModelIndex &parentIndex,
                     const std::unordered_set<std::string_view> &changed);

    std::shared_ptr<const Document> m_doc;

    std::shared_ptr<const TreeNode> m_root;
    std::map<std::string, std::string, std::less<>> m_loadStatus; // finds string views
};

} // namespace te
