#include "widgets/loadreportmodel.h"

#include "core/report/valuejson.h"

#include <QColor>
#include <algorithm>
#include <unordered_map>

namespace te {

LoadReportModel::LoadReportModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

QString LoadReportModel::statusName(LoadStatus s)
{
    switch (s) {
    case LoadStatus::Loaded: return tr("loaded");
    case LoadStatus::DtypeDiffers: return tr("loaded, cast");
    case LoadStatus::Missing: return tr("missing");
    case LoadStatus::Unexpected: return tr("unexpected");
    case LoadStatus::ShapeMismatch: return tr("shape mismatch");
    }
    return {};
}

QColor LoadReportModel::statusColor(LoadStatus s)
{
    // One meaning everywhere, in the tree, the report and its legend: missing orange,
    // unexpected violet (a grey would read as disabled text), mismatch red. Each reads on
    // light and dark palettes.
    switch (s) {
    case LoadStatus::Missing: return QColor(230, 126, 34);
    case LoadStatus::Unexpected: return QColor(108, 113, 196);
    case LoadStatus::ShapeMismatch: return QColor(220, 50, 47);
    default: return {};
    }
}

void LoadReportModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_rowByCheckpointKey.clear();
    m_renamed = false;
    endResetModel();
}

QString LoadReportModel::checkpointKey(const Row &r)
{
    return !r.source.isEmpty() ? r.source : r.status == LoadStatus::Missing ? QString() : r.key;
}

void LoadReportModel::setReport(const LoadReport &r, const ExpectedModel &model, const WeightsSource &weights)
{
    std::unordered_map<std::string, const KeySpec *> checkpoint;
    for (const auto &k : weights.keys)
        checkpoint.emplace(k.key, &k);
    std::unordered_map<std::string, std::string> source(r.sources.begin(), r.sources.end());
    std::unordered_map<std::string, const ShapeMismatch *> mismatch;
    for (const auto &m : r.shapeMismatch)
        mismatch.emplace(m.key, &m);
    std::unordered_map<std::string, const DtypeNote *> dtypes;
    for (const auto &d : r.dtypeMismatch)
        dtypes.emplace(d.key, &d);
    std::vector<Row> rows;
    rows.reserve(model.keys.size() + r.unexpected.size());
    for (const auto &k : model.keys) {
        Row row;
        row.key = QString::fromStdString(k.key);
        row.modelShape = QString::fromStdString(shapeText(k.shape));
        if (auto m = mismatch.find(k.key); m != mismatch.end()) {
            row.status = LoadStatus::ShapeMismatch;
            row.checkpointShape = QString::fromStdString(shapeText(m->second->checkpointShape));
        } else if (auto s = source.find(k.key); s != source.end()) {
            row.status = dtypes.count(k.key) ? LoadStatus::DtypeDiffers : LoadStatus::Loaded;
            row.source = QString::fromStdString(s->second);
            auto c = checkpoint.find(s->second);
            row.checkpointShape =
                c != checkpoint.end() ? QString::fromStdString(shapeText(c->second->shape)) : row.modelShape;
            if (auto d = dtypes.find(k.key); d != dtypes.end())
                row.note = tr("%1 in the checkpoint, %2 in the model")
                               .arg(QString::fromLatin1(dtypeName(d->second->checkpoint)),
                                    QString::fromLatin1(dtypeName(d->second->model)));
        } else {
            row.status = LoadStatus::Missing;
        }
        rows.push_back(std::move(row));
    }
    for (const auto &u : r.unexpected) {
        Row row;
        row.status = LoadStatus::Unexpected;
        row.key = QString::fromStdString(u);
        rows.push_back(std::move(row));
    }
    beginResetModel();
    m_rows = std::move(rows);
    m_rowByCheckpointKey.clear();
    m_renamed = std::any_of(m_rows.begin(), m_rows.end(),
                            [](const Row &row) { return !row.source.isEmpty() && row.source != row.key; });
    for (int i = 0; i < static_cast<int>(m_rows.size()); ++i)
        if (const QString key = checkpointKey(m_rows[static_cast<size_t>(i)]);
            !key.isEmpty() && !m_rowByCheckpointKey.contains(key))
            m_rowByCheckpointKey.insert(key, i); // a key feeding two model keys: its first row
    endResetModel();
}

int LoadReportModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int LoadReportModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant LoadReportModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= static_cast<int>(m_rows.size()))
        return {};
    const Row &r = m_rows[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case StatusColumn: return statusName(r.status);
        case KeyColumn: return r.key;
        case SourceColumn: return r.source == r.key ? QString() : r.source;
        case CheckpointShapeColumn: return r.checkpointShape;
        case ModelShapeColumn: return r.modelShape;
        }
        return {};
    case SortRole:
        return index.column() == StatusColumn ? QVariant(-static_cast<int>(r.status)) : data(index, Qt::DisplayRole);
    case StatusRole: return static_cast<int>(r.status);
    case KeyRole: return r.key;
    case CheckpointKeyRole: return !r.source.isEmpty() ? r.source : r.status == LoadStatus::Missing ? QString() : r.key;
    case Qt::ForegroundRole: {
        const QColor c = statusColor(r.status);
        return c.isValid() ? QVariant(c) : QVariant();
    }
    case Qt::ToolTipRole: return r.note.isEmpty() ? QVariant() : QVariant(r.note);
    }
    return {};
}

QVariant LoadReportModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    // Two lines: the shapes' columns then need no more width than the shapes.
    QString text;
    switch (section) {
    case StatusColumn: text = tr("Status"); break;
    case KeyColumn: text = tr("Key"); break;
    case SourceColumn: text = tr("From\ncheckpoint key"); break;
    case CheckpointShapeColumn: text = tr("Checkpoint\nshape"); break;
    case ModelShapeColumn: text = tr("Model\nshape"); break;
    default: return {};
    }
    return role == Qt::ToolTipRole ? text.replace(QLatin1Char('\n'), QLatin1Char(' ')) : text;
}

} // namespace te
