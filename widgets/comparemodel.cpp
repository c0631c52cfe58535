#include "widgets/comparemodel.h"

#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "widgets/loadreportmodel.h"

#include <QFont>
#include <QPalette>

#include <algorithm>
#include <cmath>
#include <set>

namespace te {
namespace {

QString text(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

// Most telling first: what sorting by status and the summary of a group go by.
int severity(DiffStatus s)
{
    switch (s) {
    case DiffStatus::OnlyA: return 0;
    case DiffStatus::OnlyB: return 1;
    case DiffStatus::ShapeChanged: return 2;
    case DiffStatus::DtypeChanged: return 3;
    case DiffStatus::ValuesDiffer: return 4;
    case DiffStatus::Unreadable: return 5;
    case DiffStatus::Pending: return 6;
    case DiffStatus::Tied: return 7;
    case DiffStatus::Identical: return 8;
    }
    return 9;
}

QString number(double v) { return std::isinf(v) ? QStringLiteral("inf") : QString::number(v, 'g', 4); }

} // namespace

CompareModel::CompareModel(QObject *parent)
    : QAbstractItemModel(parent)
{
    clear();
}

QColor CompareModel::statusColor(DiffStatus s)
{
    // The Load report's colours where the meaning is the same: a key only in A is what a
    // load would call unexpected, one only in B missing, a shape change a mismatch.
    switch (s) {
    case DiffStatus::OnlyA: return LoadReportModel::statusColor(LoadStatus::Unexpected);
    case DiffStatus::OnlyB: return LoadReportModel::statusColor(LoadStatus::Missing);
    case DiffStatus::ShapeChanged: return LoadReportModel::statusColor(LoadStatus::ShapeMismatch);
    case DiffStatus::DtypeChanged: return QColor(203, 75, 22);
    case DiffStatus::ValuesDiffer: return QColor(181, 137, 0);
    default: return {};
    }
}

QString CompareModel::statusText(DiffStatus s) { return tr(diffStatusName(s)); }

void CompareModel::clear()
{
    beginResetModel();
    m_diff.reset();
    m_nodes.assign(1, Node{});
    m_commonNode.clear();
    m_byKey.clear();
    endResetModel();
}

int CompareModel::node(const std::string &key)
{
    if (auto it = m_byKey.find(key); it != m_byKey.end())
        return it->second;
    int parent = 0;
    size_t start = 0;
    for (size_t dot = key.find('.', 1);; dot = key.find('.', dot + 1)) {
        const size_t end = dot == std::string::npos ? key.size() : dot;
        const std::string part = key.substr(0, end);
        auto it = m_byKey.find(part);
        int n;
        if (it != m_byKey.end()) {
            n = it->second;
        } else {
            n = static_cast<int>(m_nodes.size());
            Node made;
            made.key = part;
            made.parent = parent;
            made.nameStart = static_cast<uint32_t>(start);
            made.row = static_cast<int>(m_nodes[static_cast<size_t>(parent)].children.size());
            m_nodes[static_cast<size_t>(parent)].children.push_back(n);
            m_nodes.push_back(std::move(made));
            m_byKey.emplace(part, n);
        }
        parent = n;
        if (end == key.size())
            return n;
        start = end + 1;
    }
}

void CompareModel::add(const std::string &key, DiffStatus status, int common, int only)
{
    if (key.empty())
        return;
    int n = node(key);
    if (m_nodes[static_cast<size_t>(n)].isKey || !m_nodes[static_cast<size_t>(n)].children.empty()) {
        // Two rows under one name (a key of A renamed onto a name B has for a group): the
        // second stands apart rather than hiding the first.
        n = node(key + " (" + diffStatusName(status) + ")");
    }
    Node &x = m_nodes[static_cast<size_t>(n)];
    x.isKey = true;
    x.status = status;
    x.common = common;
    x.only = only;
}

void CompareModel::setDiff(DocumentDiff diff)
{
    beginResetModel();
    m_diff = std::make_shared<DocumentDiff>(std::move(diff));
    m_nodes.assign(1, Node{});
    m_byKey.clear();
    const DocumentDiff &d = *m_diff;
    m_commonNode.assign(d.common.size(), -1);
    // In A's order, then what only B has: the files' own order, as the tree shows them.
    auto nameInB = [&d](const std::string &keyA) {
        const std::string renamed = d.alignment.literal() ? keyA : d.alignment.keyInB(keyA);
        return renamed.empty() ? keyA : renamed;
    };
    for (size_t i = 0; i < d.common.size(); ++i) {
        add(d.common[i].key, d.common[i].status(), static_cast<int>(i), -1);
        m_commonNode[i] = m_byKey.at(d.common[i].key);
    }
    for (size_t i = 0; i < d.onlyA.size(); ++i)
        add(nameInB(d.onlyA[i]), DiffStatus::OnlyA, -1, static_cast<int>(i));
    for (size_t i = 0; i < d.tiedA.size(); ++i)
        add(nameInB(d.tiedA[i].key), DiffStatus::Tied, -1, static_cast<int>(i));
    for (size_t i = 0; i < d.onlyB.size(); ++i)
        add(d.onlyB[i], DiffStatus::OnlyB, -1, static_cast<int>(i));
    for (size_t i = 0; i < d.tiedB.size(); ++i)
        add(d.tiedB[i].key, DiffStatus::Tied, -1, static_cast<int>(d.tiedA.size() + i));
    total();
    endResetModel();
}

void CompareModel::total()
{
    for (Node &n : m_nodes) {
        n.counts.fill(0);
        n.maxAbs = -1;
        if (n.isKey) {
            n.counts[static_cast<size_t>(n.status)] = 1;
            if (n.common >= 0) {
                const TensorDiff &d = m_diff->common[static_cast<size_t>(n.common)];
                if (d.valuesCompared)
                    n.maxAbs = d.maxAbs;
            }
        }
    }
    // Children come after their parents.
    for (size_t i = m_nodes.size(); i-- > 1;) {
        const Node &n = m_nodes[i];
        Node &p = m_nodes[static_cast<size_t>(n.parent)];
        for (int s = 0; s < kStatusCount; ++s)
            p.counts[static_cast<size_t>(s)] += n.counts[static_cast<size_t>(s)];
        p.maxAbs = std::max(p.maxAbs, n.maxAbs);
    }
}

void CompareModel::setValues(size_t first, const std::vector<TensorDiff> &rows)
{
    if (!m_diff || first + rows.size() > m_diff->common.size())
        return;
    std::set<int> parents;
    for (size_t i = 0; i < rows.size(); ++i) {
        m_diff->common[first + i] = rows[i];
        Node &n = m_nodes[static_cast<size_t>(m_commonNode[first + i])];
        n.status = rows[i].status();
        for (int p = n.parent; p >= 0; p = m_nodes[static_cast<size_t>(p)].parent)
            if (!parents.insert(p).second)
                break;
    }
    m_diff->recount();
    total();
    for (int p : parents) {
        const Node &n = m_nodes[static_cast<size_t>(p)];
        const QModelIndex parentIndex = p == 0 ? QModelIndex() : createIndex(n.row, 0, quintptr(p));
        if (!n.children.empty())
            emit dataChanged(index(0, 0, parentIndex),
                             index(static_cast<int>(n.children.size()) - 1, ColumnCount - 1, parentIndex));
    }
}

const std::array<uint32_t, CompareModel::kStatusCount> &CompareModel::totals() const { return m_nodes[0].counts; }

QString CompareModel::largestChange(double *maxAbs) const
{
    // Weights before counters: a step count that moved by 2 is not the news.
    auto floating = [](const TensorDiff &d) { return d.dtypeA.find("float") != std::string::npos; };
    const TensorDiff *best = nullptr;
    if (m_diff)
        for (const TensorDiff &d : m_diff->common)
            if (d.valuesCompared && d.differing &&
                (!best || std::make_pair(floating(d), d.maxAbs) > std::make_pair(floating(*best), best->maxAbs)))
                best = &d;
    if (maxAbs)
        *maxAbs = best ? best->maxAbs : 0;
    return best ? QString::fromStdString(best->key) : QString();
}

QModelIndex CompareModel::indexForKey(const QString &key) const
{
    auto it = m_byKey.find(key.toStdString());
    if (it == m_byKey.end())
        return {};
    return createIndex(m_nodes[static_cast<size_t>(it->second)].row, 0, quintptr(it->second));
}

const CompareModel::Node *CompareModel::at(const QModelIndex &index) const
{
    return index.isValid() ? &m_nodes[static_cast<size_t>(index.internalId())] : &m_nodes[0];
}

QModelIndex CompareModel::index(int row, int column, const QModelIndex &parent) const
{
    const Node *p = at(parent);
    if (row < 0 || column < 0 || column >= ColumnCount || row >= static_cast<int>(p->children.size()))
        return {};
    return createIndex(row, column, quintptr(p->children[static_cast<size_t>(row)]));
}

QModelIndex CompareModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    const int p = at(child)->parent;
    if (p <= 0)
        return {};
    return createIndex(m_nodes[static_cast<size_t>(p)].row, 0, quintptr(p));
}

int CompareModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() && parent.column() != 0)
        return 0;
    return static_cast<int>(at(parent)->children.size());
}

int CompareModel::columnCount(const QModelIndex &) const { return ColumnCount; }

// "3 values differ, 120 identical": the counts of a subtree, most telling first.
QString CompareModel::groupStatus(const Node &n) const
{
    std::vector<std::pair<int, int>> parts; // severity, status
    for (int s = 0; s < kStatusCount; ++s)
        if (n.counts[static_cast<size_t>(s)])
            parts.push_back({severity(static_cast<DiffStatus>(s)), s});
    std::sort(parts.begin(), parts.end());
    if (parts.size() == 1 && parts[0].second == static_cast<int>(DiffStatus::Identical))
        return tr("identical");
    QStringList out;
    for (const auto &[rank, s] : parts)
        out << QStringLiteral("%1: %2") // "values differ: 18", a count of tensors
                   .arg(statusText(static_cast<DiffStatus>(s)))
                   .arg(n.counts[static_cast<size_t>(s)]);
    return out.join(QStringLiteral(", "));
}

QVariant CompareModel::display(const Node &n, int column) const
{
    const TensorDiff *d = n.common >= 0 ? &m_diff->common[static_cast<size_t>(n.common)] : nullptr;
    switch (column) {
    case NameColumn: return text(std::string_view(n.key).substr(n.nameStart));
    case StatusColumn:
        if (!n.isKey)
            return groupStatus(n);
        if (n.status == DiffStatus::Tied) {
            const bool inA = n.only < static_cast<int>(m_diff->tiedA.size());
            const TiedKey &t = inA ? m_diff->tiedA[static_cast<size_t>(n.only)]
                                   : m_diff->tiedB[static_cast<size_t>(n.only) - m_diff->tiedA.size()];
            return tr("tied in %1 to %2").arg(inA ? QStringLiteral("A") : QStringLiteral("B"), text(t.tiedTo));
        }
        return statusText(n.status);
    case ShapeColumn:
        if (!d)
            return {};
        return d->shapeA == d->shapeB
                   ? text(shapeText(d->shapeA))
                   : QStringLiteral("%1 → %2").arg(text(shapeText(d->shapeA)), text(shapeText(d->shapeB)));
    case DTypeColumn:
        if (!d)
            return {};
        return d->dtypeA == d->dtypeB ? text(d->dtypeA)
                                      : QStringLiteral("%1 → %2").arg(text(d->dtypeA), text(d->dtypeB));
    case MaxAbsColumn:
        return n.maxAbs >= 0 && (n.isKey ? d && d->differing : n.maxAbs > 0) ? number(n.maxAbs) : QVariant();
    case MaxRelColumn: return d && d->valuesCompared && d->differing ? number(d->maxRel) : QVariant();
    case DifferingColumn: {
        if (!d || !d->valuesCompared || !d->differing)
            return {};
        uint64_t elements = 1;
        for (int64_t x : d->shapeA)
            elements *= static_cast<uint64_t>(std::max<int64_t>(x, 0));
        const double share = elements ? 100.0 * static_cast<double>(d->differing) / static_cast<double>(elements) : 0;
        return QStringLiteral("%1 (%2%)").arg(text(formatCount(d->differing)), QString::number(share, 'g', 3));
    }
    }
    return {};
}

QVariant CompareModel::sortValue(const Node &n, int column) const
{
    switch (column) {
    case StatusColumn: {
        if (n.isKey)
            return severity(n.status);
        for (int s = 0; s < kStatusCount; ++s) // a group sorts by its most telling key
            if (n.counts[static_cast<size_t>(s)] && severity(static_cast<DiffStatus>(s)) < 8)
                return severity(static_cast<DiffStatus>(s));
        return 8;
    }
    case MaxAbsColumn: return n.maxAbs;
    case MaxRelColumn:
    case DifferingColumn: {
        const TensorDiff *d = n.common >= 0 ? &m_diff->common[static_cast<size_t>(n.common)] : nullptr;
        if (!d || !d->valuesCompared)
            return -1.0;
        return column == MaxRelColumn ? d->maxRel : static_cast<double>(d->differing);
    }
    default: return display(n, column);
    }
}

QVariant CompareModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || !m_diff)
        return {};
    const Node &n = *at(index);
    switch (role) {
    case Qt::DisplayRole: return display(n, index.column());
    case SortRole: return sortValue(n, index.column());
    case KeyRole: return text(n.key);
    case KeyARole:
        if (n.common >= 0)
            return text(m_diff->common[static_cast<size_t>(n.common)].keyA);
        if (n.isKey && n.status == DiffStatus::OnlyA)
            return text(m_diff->onlyA[static_cast<size_t>(n.only)]);
        return QString();
    case StatusRole: return n.isKey ? static_cast<int>(n.status) : -1;
    case RowRole: return n.common;
    case Qt::ForegroundRole: {
        DiffStatus s = n.status;
        if (!n.isKey) { // a group takes the colour of its most telling key
            int best = 9;
            for (int x = 0; x < kStatusCount; ++x)
                if (n.counts[static_cast<size_t>(x)] && severity(static_cast<DiffStatus>(x)) < best)
                    best = severity(static_cast<DiffStatus>(x)), s = static_cast<DiffStatus>(x);
        }
        const QColor c = statusColor(s);
        return c.isValid() ? QVariant(c) : QVariant();
    }
    case Qt::FontRole:
        if (n.isKey && n.status == DiffStatus::Pending) {
            QFont italic;
            italic.setItalic(true);
            return italic;
        }
        return {};
    case Qt::ToolTipRole:
        if (n.common >= 0) {
            const TensorDiff &d = m_diff->common[static_cast<size_t>(n.common)];
            QString tip = d.keyA != d.key ? tr("A: %1\nB: %2").arg(text(d.keyA), text(d.key)) : text(d.key);
            if (!d.note.empty())
                tip += QStringLiteral("\n") + text(d.note);
            return tip;
        }
        return text(n.key);
    case Qt::TextAlignmentRole:
        if (index.column() >= MaxAbsColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    return {};
}

QVariant CompareModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *names[] = {"Key", "Status", "Shape", "DType", "Max |A−B|", "Max rel.", "Differing"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace te
