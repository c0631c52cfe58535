#pragma once
// The rows of a load report: every model key and every checkpoint key that does not
// load, with its status, shapes and where its value comes from. Wraps a finished
// LoadReport and resets in one step.
#include "core/diagnose/loadcheck.h"

#include <QAbstractTableModel>
#include <QHash>

namespace te {

enum class LoadStatus { Loaded, DtypeDiffers, Missing, Unexpected, ShapeMismatch };

class LoadReportModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { StatusColumn, KeyColumn, CheckpointShapeColumn, ModelShapeColumn, SourceColumn, ColumnCount };
    enum Role {
        SortRole = Qt::UserRole + 1,
        StatusRole,
        KeyRole,
        CheckpointKeyRole // the row's key in the checkpoint (its state dict's), empty for a missing key
    };

    explicit LoadReportModel(QObject *parent = nullptr);
    void setReport(const LoadReport &report, const ExpectedModel &model, const WeightsSource &weights);
    void clear();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // The source row whose key in the checkpoint is `key` (CheckpointKeyRole), or -1.
    int rowOfCheckpointKey(const QString &key) const { return m_rowByCheckpointKey.value(key, -1); }
    // Whether any model key is fed from a checkpoint key of another name (by the rules).
    bool hasRenamedKeys() const { return m_renamed; }

    static QString statusName(LoadStatus s);
    static QColor statusColor(LoadStatus s); // invalid for plain rows

private:
    struct Row {
        LoadStatus status;
        QString key;
        QString source;
        QString checkpointShape;
        QString modelShape;
        QString note;
    };
    static QString checkpointKey(const Row &r);

    std::vector<Row> m_rows;
    QHash<QString, int> m_rowByCheckpointKey; // a tree selection finds its row at once
    bool m_renamed = false;
};

} // namespace te
