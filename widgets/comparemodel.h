#pragma once
// The comparison of two files as one tree: the union of their keys (A's keys as B names
// them once lined up), split at the dots, with a status per key and, for every subtree,
// how many keys below it have each status and the largest difference. Values arrive after
// the keys (setValues), so rows start as "not compared yet" and fill in.
#include "core/diagnose/documentdiff.h"

#include <QAbstractItemModel>
#include <QColor>

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace te {

class CompareModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column {
        NameColumn,
        StatusColumn,
        ShapeColumn,
        DTypeColumn,
        MaxAbsColumn,
        MaxRelColumn,
        DifferingColumn,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1,
        KeyRole,    // B's naming of the key (A's for keys only in A)
        KeyARole,   // A's own key, empty for keys only in B
        StatusRole, // DiffStatus of a key; -1 for a group
        RowRole,    // index into the diff's common rows, -1 for others
    };
    static constexpr int kStatusCount = 9;

    explicit CompareModel(QObject *parent = nullptr);

    void setDiff(DocumentDiff diff);
    void clear();
    const DocumentDiff *diff() const { return m_diff.get(); }
    // Rows [first, first + rows.size()) of the diff's common keys, values compared.
    void setValues(size_t first, const std::vector<TensorDiff> &rows);

    // How many keys have each status, over the whole tree.
    const std::array<uint32_t, kStatusCount> &totals() const;
    // The key whose values differ most (largest max |A-B|, floating-point tensors first),
    // or empty.
    QString largestChange(double *maxAbs) const;
    QModelIndex indexForKey(const QString &key) const;

    static QColor statusColor(DiffStatus s); // invalid for plain rows
    static QString statusText(DiffStatus s);

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Node {
        std::string key; // B's naming (A's for keys only in A)
        int parent = -1;
        int row = 0;
        uint32_t nameStart = 0;
        std::vector<int> children;
        int common = -1;                           // index into the diff's common rows
        int only = -1;                             // index into onlyA / onlyB / tiedA / tiedB, by status
        DiffStatus status = DiffStatus::Identical; // of a key
        bool isKey = false;
        std::array<uint32_t, kStatusCount> counts{}; // keys below with each status
        double maxAbs = -1;                          // largest max |A-B| below; -1: none
    };
    int node(const std::string &key);
    void add(const std::string &key, DiffStatus status, int common, int only);
    void total();
    const Node *at(const QModelIndex &index) const;
    QString groupStatus(const Node &n) const;
    QVariant display(const Node &n, int column) const;
    QVariant sortValue(const Node &n, int column) const;

    std::shared_ptr<DocumentDiff> m_diff;
    std::vector<Node> m_nodes;                    // [0] is the root
    std::vector<int> m_commonNode;                // node of each common row
    std::unordered_map<std::string, int> m_byKey; // every node by its key
};

} // namespace te
