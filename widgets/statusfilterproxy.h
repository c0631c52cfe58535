#pragma once
// The Compare tab's filter: the keys of the chosen statuses; a group shows when a key below
// it does (recursive filtering is set by the panel).
#include "widgets/comparemodel.h"
#include "widgets/comparepanel.h"

#include <QSortFilterProxyModel>

namespace te {

// Keys of the chosen statuses; a group shows when a key below it does.
class StatusFilterProxy : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setFilter(ComparePanel::Filter f)
    {
        m_filter = f;
        invalidateFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        const int status = sourceModel()->index(row, 0, parent).data(CompareModel::StatusRole).toInt();
        if (m_filter == ComparePanel::EveryKey)
            return true;
        if (status < 0)
            return false; // a group: shown through its keys (recursive filtering)
        switch (static_cast<DiffStatus>(status)) {
        case DiffStatus::OnlyA: return m_filter == ComparePanel::Changed || m_filter == ComparePanel::OnlyInA;
        case DiffStatus::OnlyB: return m_filter == ComparePanel::Changed || m_filter == ComparePanel::OnlyInB;
        case DiffStatus::ShapeChanged:
        case DiffStatus::DtypeChanged:
            return m_filter == ComparePanel::Changed || m_filter == ComparePanel::ShapeOrDtype;
        case DiffStatus::ValuesDiffer:
            return m_filter == ComparePanel::Changed || m_filter == ComparePanel::ValuesDiffer;
        case DiffStatus::Identical: return m_filter == ComparePanel::Identical;
        case DiffStatus::Unreadable: return m_filter == ComparePanel::Changed;
        default: return false; // tied, not compared yet
        }
    }

private:
    ComparePanel::Filter m_filter = ComparePanel::EveryKey;
};

} // namespace te
