#include "widgets/documenttreemodel.h"

#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "widgets/loadreportmodel.h"

#include <QApplication>
#include <QBrush>
#include <QFont>
#include <QPalette>

namespace te {
namespace {

QString text(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

} // namespace

DocumentTreeModel::DocumentTreeModel(QObject *parent)
    : QAbstractItemModel(parent)
{ }

DocumentTreeModel::~DocumentTreeModel() = default;

void DocumentTreeModel::setDocument(std::shared_ptr<const Document> doc)
{
    std::shared_ptr<const TreeNode> tree = doc ? buildDocumentTree(*doc) : nullptr;
    setDocument(std::move(doc), std::move(tree));
}

// Only the rows whose status changed are announced: a change on every row of a large tree
// made the filter proxy build a mapping for every group (tens of MiB for 100,000 keys).
void DocumentTreeModel::setLoadStatus(std::map<std::string, std::string> status)
{
    // Views of keys in both maps, whose nodes stay where they are while the maps live.
    std::unordered_set<std::string_view> changed;
    for (const auto &[key, s] : m_loadStatus)
        if (auto it = status.find(key); it == status.end() || it->second != s)
            changed.insert(key);
    for (const auto &[key, s] : status)
        if (!m_loadStatus.count(key))
            changed.insert(key);
    const auto old = std::move(m_loadStatus);
    m_loadStatus.clear();
    m_loadStatus.merge(status);
    if (m_root && !changed.empty())
        emitChanged(*m_root, {}, changed);
}

void DocumentTreeModel::emitChanged(const TreeNode &parent, const QModelIndex &parentIndex,
                                    const std::unordered_set<std::string_view> &changed)
{
    int first = -1;
    auto flush = [&](int last) {
        if (first >= 0)
            emit dataChanged(index(first, 0, parentIndex), index(last, ColumnCount - 1, parentIndex),
                             {Qt::ForegroundRole, Qt::ToolTipRole});
        first = -1;
    };
    const int rows = static_cast<int>(parent.children.size());
    for (int r = 0; r < rows; ++r) {
        const TreeNode &child = *parent.children[static_cast<size_t>(r)];
        if (changed.count(child.key)) {
            if (first < 0)
                first = r;
        } else {
            flush(r - 1);
        }
        if (!child.children.empty())
            emitChanged(child, index(r, 0, parentIndex), changed);
    }
    flush(rows - 1);
}

void DocumentTreeModel::setDocument(std::shared_ptr<const Document> doc, std::shared_ptr<const TreeNode> tree)
{
    beginResetModel();
    m_loadStatus.clear();
    m_doc = std::move(doc);
    m_root = m_doc ? std::move(tree) : nullptr;
    endResetModel();
}

const TreeNode *DocumentTreeModel::node(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<const TreeNode *>(index.internalPointer()) : m_root.get();
}

QModelIndex DocumentTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    const TreeNode *p = node(parent);
    if (!p || row < 0 || column < 0 || column >= ColumnCount || row >= static_cast<int>(p->children.size()))
        return {};
    return createIndex(row, column, p->children[static_cast<size_t>(row)]);
}

QModelIndex DocumentTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    const TreeNode *n = node(child);
    const TreeNode *p = n->parent;
    if (!p || p == m_root.get())
        return {};
    return createIndex(p->row(), 0, const_cast<TreeNode *>(p));
}

int DocumentTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() && parent.column() != 0)
        return 0;
    const TreeNode *p = node(parent);
    return p ? static_cast<int>(p->children.size()) : 0;
}

int DocumentTreeModel::columnCount(const QModelIndex &) const { return ColumnCount; }

QVariant DocumentTreeModel::display(const TreeNode &n, int column) const
{
    const TensorInfo *t = n.tensor >= 0 ? &m_doc->tensors[static_cast<size_t>(n.tensor)] : nullptr;
    switch (column) {
    case NameColumn: return text(n.name());
    case KindColumn:
        if (n.kind == NodeKind::Module)
            return QString::fromStdString(n.className().substr(n.className().rfind('.') + 1));
        if (n.kind == NodeKind::Object)
            return QString::fromStdString(n.className());
        return QString::fromLatin1(nodeKindName(n.kind));
    case ShapeColumn:
        if (t)
            return QString::fromStdString(shapeText(t->shape));
        if (n.kind == NodeKind::Value || n.kind == NodeKind::Object)
            return QString::fromStdString(n.valueText());
        return {};
    case DTypeColumn: return t ? QString::fromLatin1(dtypeName(t->dtype)) : QVariant();
    case ElementsColumn: return n.tensorCount ? QString::fromStdString(formatCount(n.elements)) : QVariant();
    case SizeColumn: return n.tensorCount ? QString::fromStdString(formatBytes(n.bytes)) : QVariant();
    case DeviceColumn: return QString::fromStdString(n.device());
    }
    return {};
}

QVariant DocumentTreeModel::sortValue(const TreeNode &n, int column) const
{
    switch (column) {
    case ElementsColumn: return static_cast<qulonglong>(n.elements);
    case SizeColumn: return static_cast<qulonglong>(n.bytes);
    case NameColumn: {
        // Numbered children (layers.10 after layers.9) sort by number.
        bool ok = false;
        const QString name = text(n.name());
        qlonglong v = name.toLongLong(&ok);
        return ok ? QVariant(v) : QVariant(name);
    }
    default: return display(n, column);
    }
}

QVariant DocumentTreeModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || !m_doc)
        return {};
    const TreeNode &n = *node(index);
    switch (role) {
    case Qt::DisplayRole: return display(n, index.column());
    case SortRole: return sortValue(n, index.column());
    case KeyRole: return text(n.key);
    case TensorRole: return n.tensor;
    case KindRole: return static_cast<int>(n.kind);
    case Qt::ToolTipRole:
        if (auto it = m_loadStatus.find(n.key); it != m_loadStatus.end() && it->second != "loaded")
            return tr("load_state_dict: %1").arg(QString::fromStdString(it->second));
        if (n.tensor >= 0 && !m_doc->tensors[static_cast<size_t>(n.tensor)].error.empty())
            return QString::fromStdString(m_doc->tensors[static_cast<size_t>(n.tensor)].error);
        if (n.kind == NodeKind::Module)
            return QString::fromStdString(n.className());
        return text(n.key);
    case Qt::ForegroundRole:
        if (auto it = m_loadStatus.find(n.key); it != m_loadStatus.end()) {
            if (it->second == "unexpected")
                return QBrush(LoadReportModel::statusColor(LoadStatus::Unexpected));
            if (it->second == "shape_mismatch")
                return QBrush(LoadReportModel::statusColor(LoadStatus::ShapeMismatch));
        }
        if (n.hasError)
            return QBrush(QColor(220, 50, 47)); // readable on light and dark palettes
        return {};
    case Qt::FontRole:
        if (n.kind == NodeKind::Value) {
            // Metadata (epoch, loss) in italics: set apart without the grey of disabled text.
            QFont italic;
            italic.setItalic(true);
            return italic;
        }
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == ElementsColumn || index.column() == SizeColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    return {};
}

QVariant DocumentTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *names[] = {"Name", "Kind", "Shape / value", "DType", "Elements", "Size", "Saved on"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

QModelIndex DocumentTreeModel::indexForKey(const QString &key) const
{
    if (!m_root)
        return {};
    const TreeNode *n = m_root.get();
    QModelIndex idx;
    const std::string k = key.toStdString();
    while (n && n->key != k) {
        const TreeNode *next = nullptr;
        for (const TreeNode *c : n->children) {
            if (k == c->key ||
                (k.size() > c->key.size() && k.compare(0, c->key.size(), c->key) == 0 && k[c->key.size()] == '.')) {
                next = c;
                break;
            }
        }
        if (!next)
            return {};
        idx = index(next->row(), 0, idx);
        n = next;
    }
    return idx;
}

} // namespace te
